"""Tests of moe_lib.mirror.divergences: the Bregman divergence of A_x equals the complete-data KL.

The two sides are computed independently (log-partition and mean parameters on one side; the laws
in model coordinates, or numerical quadrature, on the other).
"""

from __future__ import annotations

import numpy as np
import pytest
from _mirror_cases import CASES, GENERAL, make_instance, other_params
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate

from moe_lib import mirror


@pytest.mark.parametrize("case", list(CASES))
def test_bregman_divergence_equals_complete_data_kl(case):
    """KL(p_theta || p_phi) = D_A(phi, theta), each computed its own way, to 1e-10 relative."""
    family, data, theta = make_instance(case, 7)
    phi = other_params(family, theta, np.random.default_rng(7))
    kl = mirror.complete_data_kl(family, data, theta, phi, per_sample=True)
    breg = mirror.bregman_divergence(family, data, phi, theta, per_sample=True)
    assert np.all(kl > 0)
    np.testing.assert_allclose(breg, kl, rtol=1e-10, atol=1e-13)
    total = mirror.complete_data_kl(family, data, theta, phi)
    assert abs(mirror.bregman_divergence(family, data, phi, theta) - total) <= 1e-10 * total


@settings(max_examples=14, deadline=None, derandomize=True)
@given(case=st.sampled_from(list(CASES)), seed=st.integers(0, 10_000))
def test_bregman_nonnegative_and_zero_on_the_diagonal(case, seed):
    family, data, theta = make_instance(case, seed, n=40)
    phi = other_params(family, theta, np.random.default_rng(seed), size=1.0)
    assert mirror.bregman_divergence(family, data, theta, theta) == 0.0
    d = mirror.bregman_divergence(family, data, phi, theta, per_sample=True)
    assert np.all(d >= -1e-13)
    assert np.sum(d) > 0
    # Redundancy of the statistics: shifting every eta_k by c leaves D unchanged (general).
    if case in GENERAL:
        K = CASES[case][1]
        a = mirror.natural_parameters(family, data, phi)
        b = mirror.natural_parameters(family, data, theta)
        a[:, :K] += 0.7
        d_shift = mirror.bregman_divergence(family, data, a, b, per_sample=True)
        np.testing.assert_allclose(d_shift, d, rtol=1e-9, atol=1e-12)


def test_gaussian_complete_data_kl_by_quadrature():
    """The chain-rule KL of linear experts against sum_z of a numerical integral over y."""
    family, data, p = make_instance("linear-K2", 8, n=3)
    q = other_params(family, p, np.random.default_rng(8))
    kl = mirror.complete_data_kl(family, data, p, q, per_sample=True)

    def log_joint(par, i, y, k):
        u = data.gate_X[i] @ par.gate.T
        log_pi = u[k] - (u.max() + np.log(np.sum(np.exp(u - u.max()))))
        mu, s = data.X[i] @ par.coef[k], par.sigma[k]
        return log_pi - 0.5 * ((y - mu) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)

    for i in range(3):
        total = 0.0
        for k in range(2):
            mu, s = data.X[i] @ p.coef[k], p.sigma[k]

            def f(y, i=i, k=k):
                lp, lq = log_joint(p, i, y, k), log_joint(q, i, y, k)
                return np.exp(lp) * (lp - lq)

            total += integrate.quad(f, mu - 15 * s, mu + 15 * s, epsabs=1e-13, epsrel=1e-12)[0]
        assert abs(total - kl[i]) < 1e-9


def test_divergence_arguments_are_checked():
    family, data, p = make_instance("bernoulli", 9, n=20)
    with pytest.raises(TypeError, match="per_sample"):
        mirror.bregman_divergence(family, data, p, p, per_sample=1)
    theta = mirror.natural_parameters(family, data, p)
    with pytest.raises(ValueError, match="params_b"):
        mirror.bregman_divergence(family, data, theta, theta[:5])
    three = make_instance("linear-K3", 9, n=20)
    two = make_instance("linear-K2", 9, n=20)[2]
    with pytest.raises(ValueError, match="different numbers of experts"):
        mirror.complete_data_kl(three[0], three[1], three[2], two)
