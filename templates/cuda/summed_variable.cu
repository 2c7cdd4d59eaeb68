// summed_variable: one block; {{ s.summed_target_name }}[{{ s.summed_start }}:] = sum over synapses (atomic)
{% include "cuda/_head.cu" %}
    const int64_t _N = {{ k.size_expr }};
    {{ s.summed_type }}* _target = {{ s.summed_target }};
    const int32_t* _index = {{ s.summed_index }};
    const int64_t _stop = {{ s.summed_stop }};
    for (int64_t _t = {{ s.summed_start }} + threadIdx.x; _t < _stop; _t += blockDim.x) _target[_t] = 0;
    __syncthreads();
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
    for (int64_t _idx = threadIdx.x; _idx < _N; _idx += blockDim.x)
    {
        const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
        brisk_atomic_add(&_target[_index[_idx]], ({{ s.summed_type }})_synaptic_var);
    }
}
