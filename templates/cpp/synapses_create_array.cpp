// synapses_create_array: one synapse per element of `sources`/`targets`, after the existing ones
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ k.size_expr }};
{% include "common/_connect_pointers.txt" %}
{% include "common/_scalar.txt" %}
    for (int64_t _idx = 0; _idx < _N; _idx++)
{% include "common/_create_array_body.txt" %}
}
