// threshold, after a run: no events are left over
{% include "cuda/_head.cu" %}
    int32_t* _events = {{ k.events }};
    if (blockIdx.x == 0 && threadIdx.x == 0) _events[{{ k.num_source }}] = 0;
}
