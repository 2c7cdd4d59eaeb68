// statemonitor: one row of the recorded variables into the staging buffers
{% include "cpp/_head.cpp" %}
    int64_t* _fill = {{ k.fill }};
    const int64_t _row = _fill[0];
    {{ k.t_staging }}[_row] = _a.t;
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    for (int64_t _i = 0; _i < {{ k.num_indices }}LL; _i++)
    {
{% include "common/_statemonitor_record.txt" %}
    }
    _fill[0] = _row + 1;
    {{ k.n_array }}[0] += 1;
}
