{%- let split = false -%}{%- if s.delivery == "serial" %}
// synapses: deliver {{ s.pathway }} in one thread, in Brian's queue order (the code reads what other synapses write)
{% include "cuda/_head.cu" %}
    if (threadIdx.x != 0) return;
{% include "common/_pathway_pointers.txt" %}
{% include "common/_scalar.txt" %}
{% include "common/_synapses_serial.txt" %}
}
{%- else if s.delivery == "by_target" %}
// synapses: deliver {{ s.pathway }} grouped by target: a thread per target element ({{ s.grouped_index_name }}, {{ s.groups }})
// applies its synapses in Brian's queue order (the code reads what it writes, so one thread owns a target)
{% include "cuda/_head.cu" %}
{% include "common/_pathway_pointers.txt" %}
    const int64_t* _g_start = {{ s.grouped_start }};
    const int32_t* _g_synapse = {{ s.grouped_synapse }};
    const int32_t* _g_source = {{ s.grouped_source }};
    const int32_t* _g_delay = {{ s.grouped_delay }};
    const int32_t* _g_index = {{ s.grouped_index }};
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    for (int64_t _g = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _g < {{ s.groups }}LL; _g += (int64_t)gridDim.x * blockDim.x)
    {
        if (_carry_step >= 0 && _carry_step < _carry_len)
        {
            // the carried step is ordered by target: this target's part of it
            const int64_t _c0 = _carry_start[_carry_step], _c1 = _carry_start[_carry_step + 1];
            for (int64_t _k = brisk_lower_bound_via(_g_index, _carry, _c0, _c1, _g); _k < _c1 && _g_index[_carry[_k]] == _g; _k++)
            {
                const int64_t _idx = _carry[_k];
                const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ s.vector_grouped|block(4) }}
            }
        }
        // this target's synapses: delay descending, then source, then synapse
        const int64_t _end = _g_start[_g + 1];
        for (int64_t _j = _g_start[_g]; _j < _end;)
        {
            const int32_t _d = _g_delay[_j];
            const int64_t _run = brisk_below_desc(_g_delay, _j, _end, _d);
            const int32_t* _slot = _history + ((_cursor - _d + _D) % _D) * {{ s.slot_len }}LL;
            const int32_t _num = _slot[{{ s.num_sources }}];
            // the slot's sources ascend, as do the run's: the search only moves on
            int64_t _at = 0;
            for (; _num > 0 && _j < _run; _j++)
            {
                _at = brisk_lower_bound(_slot, _at, _num, _g_source[_j]);
                if (_at == _num) break;
                if (_slot[_at] != _g_source[_j]) continue;
                const int64_t _idx = _g_synapse[_j];
                const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ s.vector_grouped|block(4) }}
            }
            _j = _run;
        }
    }
}
{%- else %}
// synapses: deliver {{ s.pathway }}; a block per spiking neuron and delay, a thread per synapse (shared targets updated atomically)
{% include "cuda/_head.cu" %}
{% include "common/_pathway_pointers.txt" %}
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    if (_carry_step >= 0 && _carry_step < _carry_len)
    {
        for (int64_t _k = _carry_start[_carry_step] + (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _k < _carry_start[_carry_step + 1]; _k += (int64_t)gridDim.x * blockDim.x)
        {
            const int64_t _idx = _carry[_k];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ s.vector_atomic|block(3) }}
        }
    }
    for (int64_t _d = _max_delay; _d >= _min_delay; _d--)
    {
        const int32_t* _slot = _history + ((_cursor - _d + _D) % _D) * {{ s.slot_len }}LL;
        const int32_t _num = _slot[{{ s.num_sources }}];
        for (int32_t _s = blockIdx.x; _s < _num; _s += gridDim.x)
        {
            const int32_t _src = _slot[_s];
            const int64_t _end = brisk_lower_bound(_by_delay, _by_start[_src], _by_start[_src + 1], _d + 1);
            for (int64_t _k = brisk_lower_bound(_by_delay, _by_start[_src], _end, _d) + threadIdx.x; _k < _end; _k += blockDim.x)
            {
                const int64_t _idx = _by_source[_k];
                const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ s.vector_atomic|block(3) }}
            }
        }
    }
}
{%- endif %}
