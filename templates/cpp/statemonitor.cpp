// statemonitor: one row of the recorded variables into the staging buffers
// (a chunk [lo, hi) of the recorded indices when the plan splits it: the last
// chunk to finish, when every other has read the row, records the time and
// advances the fill counter)
{% include "cpp/_head.cpp" %}
    int64_t* _fill = {{ k.fill }};
    const int64_t _row = _fill[0];
    const int64_t _hi = _a.hi < {{ k.num_indices }}LL ? _a.hi : {{ k.num_indices }}LL;
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    for (int64_t _i = _a.lo; _i < _hi; _i++)
    {
{% include "common/_statemonitor_record.txt" %}
    }
{%- if k.independent %}
    unsigned int* _sync = {{ k.sync }};
    if (__atomic_add_fetch(&_sync[1], (unsigned int)(_hi - _a.lo), __ATOMIC_ACQ_REL) != (unsigned int){{ k.num_indices }}LL)
        return;
    _sync[1] = 0;
{%- endif %}
    {{ k.t_staging }}[_row] = _a.t;
    _fill[0] = _row + 1;
    {{ k.n_array }}[0] += 1;
}
