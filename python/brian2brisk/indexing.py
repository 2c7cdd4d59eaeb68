"""String-indexed reads after a run: ``S.w['i > 5 and w > 0.1']``.

In: a `VariableView` and a condition in Brian's expression syntax. Out: the
values of the view's variable where the condition holds, computed with numpy
from the results the run wrote (every name read through its index, as the
generated code would: ``v_post`` through ``_postsynaptic_idx``).
"""

import numpy as np
from brian2.core.functions import Function
from brian2.core.variables import ArrayVariable, Constant, Subexpression
from brian2.parsing.rendering import NumpyNodeRenderer
from brian2.utils.stringtools import get_identifiers


def _values(group, name, variables, run_namespace, n, depth=0):
    var = variables[name] if name in variables else group.variables[name]
    if isinstance(var, Constant):
        return var.get_value()
    if isinstance(var, Subexpression):
        if depth > 20:
            raise ValueError(f"subexpression '{name}' refers to itself")
        return _evaluate(group, var.expr, run_namespace, n, depth + 1)
    if isinstance(var, ArrayVariable):
        values = np.asarray(var.get_value())
        if var.scalar:
            return values[0] if values.shape else values
        index = group.variables.indices[name]
        if index == "_idx":
            return values[:n]
        if index == "0":
            return values[0]
        return values[_values(group, index, variables, run_namespace, n, depth + 1)]
    raise NotImplementedError(f"Brisk cannot read '{name}' in a string index")


def _evaluate(group, expr, run_namespace, n, depth=0):
    identifiers = get_identifiers(expr)
    variables = group.resolve_all(identifiers, run_namespace, user_identifiers=identifiers)
    namespace = {}
    for name in identifiers:
        var = variables.get(name)
        if isinstance(var, Function):
            impl = var.implementations["numpy"].get_code(None)
            namespace[name] = impl
        elif var is not None:
            namespace[name] = _values(group, name, variables, run_namespace, n, depth)
    rendered = NumpyNodeRenderer().render_expr(expr)
    return eval(rendered, {"np": np, "numpy": np}, namespace)  # noqa: S307 (Brian's own expression syntax)


def get_with_expression(variableview, code, run_namespace):
    variable = variableview.variable
    if variable.scalar:
        raise IndexError(
            f"Cannot access the variable '{variableview.name}' with a "
            "string expression, it is a scalar variable."
        )
    group = variableview.group
    n = len(group)
    selected = np.broadcast_to(
        np.asarray(_evaluate(group, code, run_namespace, n), dtype=bool), (n,)
    )
    values = np.asarray(_values(group, variableview.name, group.variables, run_namespace, n))
    # Brian's get_item adds the unit.
    return np.broadcast_to(values, (n,))[selected].copy()
