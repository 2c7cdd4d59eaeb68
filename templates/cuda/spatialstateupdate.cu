{%- if sp.step == "before_run" %}
// spatialstateupdate, before a run: one thread (once per run)
{% include "cuda/_head.cu" %}
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
{% include "common/_spatial_before_run.txt" %}
}
{%- else if sp.step == "compartments" %}
// spatialstateupdate: total conductance and current of every compartment (grid)
{% include "cuda/_head.cu" %}
    const int64_t _N = {{ k.size_expr }};
    const int64_t _vectorisation_idx = -1;
{{ k.rng_scalar|block(1) }}
{{ k.scalar_code|block(1) }}
{% include "cuda/_loop_head.cu" %}
    {
{% include "common/_spatial_compartment.txt" %}
    }
{%- include "cuda/_loop_tail.cu" %}
}
{%- else if sp.step == "sections" %}
// spatialstateupdate: the tridiagonal systems, a thread per section (grid)
{% include "cuda/_head.cu" %}
    for (int64_t _s = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _s < {{ sp.sections }}; _s += (int64_t)gridDim.x * blockDim.x)
    {
{% include "common/_spatial_section.txt" %}
    }
}
{%- else if sp.step == "coupling" %}
// spatialstateupdate: the coupling system of the sections, one thread (a tree elimination in order)
{% include "cuda/_head.cu" %}
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
{% include "common/_spatial_coupling.txt" %}
}
{%- else %}
// spatialstateupdate: the new v and Ic of every compartment (grid)
{% include "cuda/_head.cu" %}
    for (int64_t _idx = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; _idx < {{ sp.n }}; _idx += (int64_t)gridDim.x * blockDim.x)
    {
{% include "common/_spatial_voltage.txt" %}
    }
}
{%- endif %}
