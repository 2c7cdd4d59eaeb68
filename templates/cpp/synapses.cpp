{%- let split = k.split_synapses -%}// synapses: deliver {{ s.pathway }} in Brian's queue order (carried-over spikes, then by delay, longest first)
{% include "cpp/_head.cpp" %}
{% include "common/_pathway_pointers.txt" %}
{% include "common/_scalar.txt" %}
{% include "common/_synapses_serial.txt" %}
}
