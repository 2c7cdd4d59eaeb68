"""Records the parameters of Brian's `BinomialFunction` (PoissonInput uses one).

Brian keeps only generated code of a binomial function; Brisk generates its
own sampler from `n`, `p` and whether Brian uses the normal approximation
(``approximate and n*p > 5 and n*(1-p) > 5``), stored on the function as
``_brisk_binomial``.
"""

import functools

from brian2.input.binomial import BinomialFunction

_original_init = BinomialFunction.__init__


@functools.wraps(_original_init)
def _init(self, n, p, approximate=True, name="_binomial*"):
    _original_init(self, n, p, approximate=approximate, name=name)
    normal = bool(approximate and (n * p > 5) and n * (1 - p) > 5)
    self._brisk_binomial = (int(n), float(p), normal)


if not getattr(BinomialFunction.__init__, "_brisk", False):
    _init._brisk = True
    BinomialFunction.__init__ = _init
