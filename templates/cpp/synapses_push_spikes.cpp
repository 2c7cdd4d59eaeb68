// synapses_push_spikes: this step's spikes of [{{ s.spikes_start }}, {{ s.spikes_stop }}) into the next history slot of {{ s.pathway }}
{% include "cpp/_head.cpp" %}
    const int32_t* _events = {{ k.events }};
    const int32_t _num_events = _events[{{ k.num_source }}];
    int64_t* _q = {{ s.qstate }};
    if (_q[0] == 0) return;  // not prepared: the pathway is not part of a run
    const int64_t _cursor = (_q[1] + 1) % _q[0];
    _q[1] = _cursor;
    _q[5] += 1;
    int32_t* _slot = {{ s.history }} + _cursor * {{ s.slot_len }}LL;
    int32_t _count = 0;
    for (int32_t _j = 0; _j < _num_events; _j++)
    {
        const int32_t _e = _events[_j];
        if (_e >= {{ s.spikes_start }} && _e < {{ s.spikes_stop }}) _slot[_count++] = _e - {{ s.spikes_start }};
    }
    _slot[{{ s.num_sources }}] = _count;
}
