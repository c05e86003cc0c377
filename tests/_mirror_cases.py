"""Instances shared by the tests of moe_lib.mirror: every expert family, seeded.

An instance is a family, data sampled from random parameters, and an independent random start
``theta_t``; everything is a pure function of the case name and the seed.
"""

from __future__ import annotations

import numpy as np

from moe_lib import (
    LinearExperts,
    LogisticExperts,
    MoEParams,
    MultinomialExperts,
    SymmetricLinearExperts,
    SymmetricLogisticExperts,
    from_free,
    make_data,
    random_params,
    sample,
    to_free,
)

#: name -> (family factory, number of experts, binomial trial range or None, symmetric?)
CASES = {
    "linear-K2": (LinearExperts, 2, None, False),
    "linear-K3": (LinearExperts, 3, None, False),
    "bernoulli": (LogisticExperts, 2, None, False),
    "binomial": (LogisticExperts, 2, (3, 5), False),
    "multinomial-C3": (lambda: MultinomialExperts(3), 2, None, False),
    "sym-linear": (SymmetricLinearExperts, 2, None, True),
    "sym-logistic": (SymmetricLogisticExperts, 2, None, True),
}
GENERAL = [c for c, v in CASES.items() if not v[3]]
SYMMETRIC = [c for c, v in CASES.items() if v[3]]


def make_instance(case: str, seed: int, n: int = 150, d: int = 2, scale: float = 0.7):
    """Data sampled from random parameters, and an independent random start ``theta_t``.

    General families get intercepts (``fit_intercept=True``); the symmetric models none (the
    paper's convention ``x ~ N(0, I)``).
    """
    factory, K, trials, symmetric = CASES[case]
    family = factory()
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((n, d))
    data_X = raw if symmetric else np.hstack([np.ones((n, 1)), raw])
    m = None if trials is None else rng.integers(trials[0], trials[1] + 1, size=n)
    p = data_X.shape[1]
    truth = random_params(family, K, p, p, rng, scale=scale)
    y, _ = sample(family, truth, data_X, data_X, rng, n_trials=m)
    data = make_data(raw, y, n_trials=m, fit_intercept=not symmetric)
    start = random_params(family, K, p, p, rng, scale=scale)
    if family.has_sigma:
        start = start.replace(sigma=np.exp(0.3 * rng.standard_normal(K)))
    return family, data, start


def other_params(family, params: MoEParams, rng, size: float = 0.5) -> MoEParams:
    """A random realisable neighbour of ``params`` (moved in the free coordinates)."""
    v = to_free(family, params)
    return from_free(family, v + size * rng.standard_normal(v.size), params)


def max_param_diff(a: MoEParams, b: MoEParams) -> float:
    """Largest absolute difference over gate, coefficients and (if any) sigma."""
    diffs = [np.max(np.abs(a.gate - b.gate)), np.max(np.abs(a.coef - b.coef))]
    if a.sigma is not None:
        diffs.append(np.max(np.abs(a.sigma - b.sigma)))
    return float(max(diffs))
