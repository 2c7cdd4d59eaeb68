"""Records the parameters of Brian's `BinomialFunction` (PoissonInput uses one).

Brian keeps only generated code of a binomial function; Brisk generates its
own sampler from `n`, `p` and whether Brian uses the normal approximation.
Brian's hook for this is `BinomialFunction.implementations`: a generator per
target, called with ``n``, ``p``, ``use_normal`` and the function's name for
every binomial function created (Brian2CUDA registers its CUDA code the same
way). Brisk registers one under its own key, whose "code" is the parameters;
no Brian code object uses that key.
"""

from brian2.input.binomial import BinomialFunction

#: the key of Brisk's entry (never the name of a code generation target)
TARGET = "brisk_binomial_parameters"
_PARAMETERS = {}


def _record(n, p, use_normal, name):
    _PARAMETERS[name] = (int(n), float(p), bool(use_normal))
    return {"n": int(n), "p": float(p), "normal": bool(use_normal)}, {}


BinomialFunction.implementations[TARGET] = _record


def parameters(function):
    """(n, p, normal) of a BinomialFunction, or (None, None, None)."""
    return _PARAMETERS.get(function.name, (None, None, None))
