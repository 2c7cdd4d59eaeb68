// spikemonitor of i and t, as bits (plan::SpikeBits): this step's events of
// [_source_start, _source_stop) set their bits in this step's slot (zero since the last
// drain), and the slot records t
{% include "cpp/_head.cpp" %}
{% include "cpp/_spikemonitor_range.cpp" %}    const int64_t _slot = _fill[0];
    uint32_t* _words = {{ k.bits_words }} + _slot * {{ k.bits_per_slot }}LL;
    for (int32_t _j = _start; _j < _end; _j++)
    {
        const int64_t _k = _events[_j] - {{ k.source_start }}LL;
        _words[_k >> 5] |= 1u << (uint32_t)(_k & 31);
        {{ k.count }}[_k]++;
    }
    {{ k.bits_times }}[_slot] = _a.t;
    _fill[0] = _slot + 1;
    {{ k.n_array }}[0] += _end - _start;
}
