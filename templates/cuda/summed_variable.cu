// summed_variable: a thread per element of {{ s.summed_target_name }}[{{ s.summed_start }}:], summing its synapses in
// synapse order (the runtime groups them by target when a run starts): deterministic, Brian's order
{% include "cuda/_head.cu" %}
    const int64_t _size = {{ k.size_expr }};
    {{ s.summed_type }}* _target = {{ s.summed_target }};
    const int64_t* _start_of = {{ s.by_target_start }};
    const int32_t* _by_target = {{ s.by_target }};
    if (_a.sizes[{{ s.by_target_start_buffer }}] < _size + 1) return;  // not prepared for this run
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
    for (int64_t _t = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _t < _size; _t += (int64_t)gridDim.x * blockDim.x)
    {
        {{ s.summed_type }} _sum = 0;
        for (int64_t _k = _start_of[_t]; _k < _start_of[_t + 1]; _k++)
        {
            const int64_t _idx = _by_target[_k];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector|block(3) }}
{{ k.vector_code|block(3) }}
            _sum = ({{ s.summed_type }})(_sum + _synaptic_var);
        }
        _target[{{ s.summed_start }} + _t] = _sum;
    }
}
