// group_variable_set: the elements listed in _group_idx
extern "C" void {{ k.symbol }}(const BriskArgs* _ap)
{
    const BriskArgs& _a = *_ap;
{{ k.prologue }}
    const int64_t _N = {{ k.size_expr }};
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
{{ k.scalar_stores }}
    for (int64_t _idx_group_idx = 0; _idx_group_idx < _N; _idx_group_idx++)
    {
        {
            const int64_t _idx = {{ k.group_idx }}[_idx_group_idx];
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.vector_code }}
        }
    }
}
