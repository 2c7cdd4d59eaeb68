// threshold, after a run: no events are left over
{% include "cpp/_head.cpp" %}
    int32_t* _events = {{ k.events }};
    (void)_a;
    _events[{{ k.num_source }}] = 0;
}
