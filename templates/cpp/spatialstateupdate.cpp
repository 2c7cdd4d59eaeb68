{%- if sp.step == "before_run" %}
// spatialstateupdate, before a run
{% include "cpp/_head.cpp" %}
{% include "common/_spatial_before_run.txt" %}
}
{%- else if sp.step == "compartments" %}
// spatialstateupdate: total conductance and current of every compartment
{% include "cpp/_head.cpp" %}
    const int64_t _N = {{ k.size_expr }};
{% include "common/_scalar.txt" %}
    for (int64_t _idx = 0; _idx < _N; _idx++)
    {
{% include "common/_spatial_compartment.txt" %}
    }
}
{%- else if sp.step == "sections" %}
// spatialstateupdate: the tridiagonal systems of every section
{% include "cpp/_head.cpp" %}
    for (int64_t _s = 0; _s < {{ sp.sections }}; _s++)
    {
{% include "common/_spatial_section.txt" %}
    }
}
{%- else if sp.step == "coupling" %}
// spatialstateupdate: the coupling system of the sections
{% include "cpp/_head.cpp" %}
{% include "common/_spatial_coupling.txt" %}
}
{%- else %}
// spatialstateupdate: the new v and Ic of every compartment
{% include "cpp/_head.cpp" %}
    for (int64_t _idx = 0; _idx < {{ sp.n }}; _idx++)
    {
{% include "common/_spatial_voltage.txt" %}
    }
}
{%- endif %}
