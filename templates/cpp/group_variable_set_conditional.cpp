// group_variable_set_conditional: `statement` where `condition` holds
extern "C" void {{ k.symbol }}(const BriskArgs* _ap)
{
    const BriskArgs& _a = *_ap;
{{ k.prologue }}
    const int64_t _N = {{ k.size_expr }};
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar }}
{{ k.scalar_code }}
{{ k.scalar_stores }}
    for (int64_t _idx = 0; _idx < _N; _idx++)
    {
        {
            const int64_t _vectorisation_idx = _idx;
{{ k.rng_vector }}
{{ k.condition_code }}
            if (_cond)
            {
{{ k.vector_code }}
            }
        }
    }
}
