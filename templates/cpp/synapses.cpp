// synapses: deliver {{ s.pathway }} in Brian's queue order (carried-over spikes, then by delay, longest first)
{% include "cpp/_head.cpp" %}
{% include "common/_pathway_pointers.txt" %}
{% include "common/_scalar.txt" %}
{%- if k.split_synapses %}
{% include "cpp/_synapses_split.cpp" %}
{%- else %}
{% include "common/_synapses_serial.txt" %}
{%- endif %}
}
