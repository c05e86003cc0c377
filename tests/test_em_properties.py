"""Properties of exact EM on random instances: monotone ascent and honest traces.

- EM never decreases the log-likelihood (``alpha = 0``) nor the penalised objective
  (``alpha > 0``): checked step by step on 200 random instances of each of the four families
  (linear-Gaussian, Bernoulli, binomial, three-class multinomial), ``K in {2, 3, 4}``.
- The M-step does not decrease ``Q(. | theta_t) - penalty`` (the inequality EM's ascent rests on),
  with ``Q`` written out in this file.
- :func:`moe_lib.fit.run` records the log-likelihood and the objective of each iterate:
  checked against an EM loop written here and against ``log_likelihood`` / ``penalty``.
- The stopping rule :func:`moe_lib.fit.has_converged` (its cases, and on geometric traces
  the increase still to come when it stops is at most the tolerance), and ``run`` reports
  ``converged`` honestly (a capped run says False, and ``fit_moe`` warns).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from conftest import FAMILY_NAMES, draw_instance
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from moe_lib import (
    e_step,
    em_step,
    fit_moe,
    gd_step,
    gradient_em_step,
    log_likelihood,
    make_data,
    objective,
    penalty,
    run,
)
from moe_lib.experts import LinearExperts
from moe_lib.fit import has_converged
from moe_lib.gate import gate_log_proba

#: A step may lower the objective by at most this, relative to ``1 + |objective|`` (rounding).
ASCENT_TOL = 1e-9
N_STEPS = 8
ALPHAS = (0.0, 0.1, 1.0, 10.0)


def q_function(inst, resp, params, alpha):
    """``Q(theta | theta_t) - penalty(theta)`` with ``resp`` the responsibilities at ``theta_t``.

    Written from the gate's log-softmax and the family's log-density, summed with the weights.
    """
    log_gate = gate_log_proba(inst.data.gate_X, params.gate)
    d = inst.data
    log_dens = inst.family.log_prob(d, params)
    return float(np.sum(resp * (log_gate + log_dens))) - penalty(inst.family, d, params, alpha)


def check_monotone(family_name: str, K: int, n: int, d: int, alpha: float, seed: int) -> None:
    inst = draw_instance(family_name, K, n, d, seed)
    fam, data = inst.family, inst.data
    params = inst.start
    obj = objective(fam, data, params, alpha)
    for t in range(N_STEPS):
        resp, ll = e_step(fam, data, params)
        assert ll == pytest.approx(log_likelihood(fam, data, params), rel=1e-12, abs=1e-12)
        new = em_step(fam, data, params, alpha)
        slack = ASCENT_TOL * (1.0 + abs(obj))
        # The M-step maximises Q - penalty, so it cannot lower it ...
        dq = q_function(inst, resp, new, alpha) - q_function(inst, resp, params, alpha)
        assert dq >= -slack, f"step {t}: Q - penalty decreased by {-dq:.3g}"
        # ... and therefore the objective does not decrease either.
        new_obj = objective(fam, data, new, alpha)
        assert np.isfinite(new_obj)
        assert new_obj - obj >= -slack, (
            f"step {t}: objective fell from {obj!r} to {new_obj!r} "
            f"({family_name}, K={K}, n={n}, d={d}, alpha={alpha}, seed={seed})"
        )
        if alpha == 0:
            assert new_obj == log_likelihood(fam, data, new)
        params, obj = new, new_obj


instances = dict(
    K=st.integers(2, 4),
    n=st.integers(30, 150),
    d=st.integers(1, 3),
    alpha=st.sampled_from(ALPHAS),
    seed=st.integers(0, 2**31 - 1),
)


@pytest.mark.parametrize("family_name", FAMILY_NAMES)
@settings(max_examples=100, deadline=None, derandomize=True)
@given(**instances)
def test_em_never_decreases_objective(family_name, K, n, d, alpha, seed):
    check_monotone(family_name, K, n, d, alpha, seed)


@pytest.mark.parametrize("family_name", FAMILY_NAMES)
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_em_monotone_to_convergence(family_name, alpha):
    """A long run: the recorded objective never decreases, down to the rounding floor."""
    inst = draw_instance(family_name, 3, 120, 2, seed=7)
    res = run(inst.family, inst.data, init_params=inst.start, alpha=alpha, max_iter=300)
    obj = res.objective_history
    assert np.all(np.isfinite(obj))
    steps = np.diff(np.r_[objective(inst.family, inst.data, inst.start, alpha), obj])
    assert np.all(steps >= -ASCENT_TOL * (1 + np.abs(obj))), steps.min()


# --------------------------------------------------------------------------------------------
# The traces recorded by run()
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family_name", FAMILY_NAMES)
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_run_history_matches_em_loop(family_name, alpha):
    """``run`` iterates ``em_step`` and records loglik and loglik - penalty of every iterate.

    (``run`` carries its inner solves' curvature from one iteration to the next, a loop of
    ``em_step`` does not: the steps agree to the inner solves' tolerance, not bit for bit.)"""
    inst = draw_instance(family_name, 3, 80, 2, seed=11)
    fam, data = inst.family, inst.data
    T = 6
    res = run(fam, data, init_params=inst.start, alpha=alpha, max_iter=T, tol=0.0)
    assert res.n_iter == T == res.loglik_history.size == res.objective_history.size
    params = inst.start
    for t in range(T):
        params = em_step(fam, data, params, alpha)
        ll = log_likelihood(fam, data, params)
        assert res.loglik_history[t] == pytest.approx(ll, rel=1e-10)
        assert res.objective_history[t] == pytest.approx(
            ll - penalty(fam, data, params, alpha), rel=1e-10
        )
    assert np.max(np.abs(res.params.coef - params.coef) / (1 + np.abs(params.coef))) <= 1e-8
    assert res.loglik == res.loglik_history[-1]
    assert res.objective == res.objective_history[-1]
    pen = penalty(fam, data, res.params, alpha)
    assert res.objective_history[-1] == pytest.approx(res.loglik_history[-1] - pen, rel=1e-13)
    if alpha == 0:
        np.testing.assert_array_equal(res.objective_history, res.loglik_history)
    else:
        assert pen > 0
        assert np.all(res.objective_history < res.loglik_history)


@pytest.mark.parametrize("algorithm", ["gradient_em", "gd"])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_run_history_gradient_methods(algorithm, alpha):
    """The gradient methods' traces are also loglik and loglik - penalty of their iterates."""
    inst = draw_instance("logistic", 2, 60, 2, seed=5)
    fam, data = inst.family, inst.data
    step = gradient_em_step if algorithm == "gradient_em" else gd_step
    res = run(
        fam, data, init_params=inst.start, algorithm=algorithm, alpha=alpha, max_iter=4, tol=0.0
    )
    params = inst.start
    for t in range(res.n_iter):
        params = step(fam, data, params, alpha)
        assert res.loglik_history[t] == pytest.approx(log_likelihood(fam, data, params), rel=1e-12)
        assert res.objective_history[t] == pytest.approx(
            objective(fam, data, params, alpha), rel=1e-12
        )
    if alpha == 0:
        np.testing.assert_array_equal(res.objective_history, res.loglik_history)


def test_run_from_responsibilities_starts_with_an_m_step():
    """With ``init_resp`` the first iterate is the M-step from those responsibilities."""
    inst = draw_instance("linear", 2, 100, 1, seed=3)
    resp = np.random.default_rng(0).dirichlet(np.ones(2), size=100)
    res = run(inst.family, inst.data, init_resp=resp, max_iter=1, tol=0.0)
    # Independent: weighted least squares by the normal equations, the MLE of the variance.
    X, y = inst.data.X, inst.data.y
    for k in range(2):
        w = resp[:, k]
        beta = np.linalg.solve((X * w[:, None]).T @ X, X.T @ (w * y))
        np.testing.assert_allclose(res.params.coef[k], beta, rtol=1e-9, atol=1e-10)
        s2 = w @ (y - X @ beta) ** 2 / w.sum()
        assert res.params.sigma[k] == pytest.approx(np.sqrt(s2), rel=1e-9)


# --------------------------------------------------------------------------------------------
# The stopping rule and the honesty of ``converged``
# --------------------------------------------------------------------------------------------
def test_has_converged_cases():
    """The tolerance is per sample: ``tol * n_samples`` on the total objective."""
    tol, n = 1e-6, 1001
    base = 1000.0
    scale = tol * n
    assert not has_converged([], tol, n)
    assert not has_converged([base], tol, n)
    # A shift of the objective (the units of y) does not matter; the number of samples does.
    assert has_converged([1e9 - 1e-4 * scale, 1e9], tol, n)
    assert not has_converged([base - 1e-4 * scale, base], tol, 1)
    # A change below a thousandth of the tolerance always stops (the rounding floor), either sign.
    assert has_converged([base - 1e-4 * scale, base], tol, n)
    assert has_converged([base + 1e-4 * scale, base], tol, n)
    # A change above the tolerance never stops.
    assert not has_converged([base - 2 * scale, base], tol, n)
    assert not has_converged([base - 10 * scale, base - 2 * scale, base], tol, n)
    # Within the tolerance but only two values: no rate estimate yet, so go on.
    assert not has_converged([base - 0.5 * scale, base], tol, n)
    # Increases that do not shrink: go on.
    assert not has_converged([base - scale, base - 0.5 * scale, base], tol, n)
    # Shrinking fast (rho = 0.1): the Aitken estimate 0.5 * 0.1 / 0.9 * scale is small, stop.
    assert has_converged([base - 5.5 * scale, base - 0.5 * scale, base], tol, n)
    # Shrinking slowly (rho = 0.99): ~49.5 * scale still to come, go on.
    d1 = 0.5 * scale
    assert not has_converged([base - d1 - d1 / 0.99, base - d1, base], tol, n)
    # A small decrease (rounding in an inner solve) or a sign change within the tolerance: stop.
    assert has_converged([base - scale, base + 0.5 * scale, base], tol, n)
    assert has_converged([base - scale, base - 0.5 * scale, base - 0.6 * scale], tol, n)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    limit=st.floats(-1e4, 1e4),
    gap=st.floats(1e-3, 1e3),
    rho=st.floats(0.01, 0.99),
    tol=st.sampled_from([1e-6, 1e-8, 1e-10]),
    n=st.integers(1, 100_000),
)
def test_has_converged_on_geometric_traces(limit, gap, rho, tol, n):
    """On ``h_t = limit - gap * rho^t`` it stops once at most ``tol * (1 + |h|)`` is left."""
    history = []
    for t in range(100_000):
        history.append(limit - gap * rho**t)
        if has_converged(history, tol, n):
            break
    else:
        pytest.fail("never stopped")
    left = limit - history[-1]
    scale = tol * n
    # Rounding: each difference of h is off by ~eps |h|, and Aitken's estimate divides it by
    # (1 - rho)^2 (the ratio and the geometric sum).
    rounding = 4 * np.finfo(float).eps * (1 + abs(limit)) / (1 - rho) ** 2
    assert left <= 1.01 * scale + rounding, (left / scale, len(history))
    # ... and not later than needed: Aitken's estimate is exact on these traces, so it stops at
    # most one step after the first index t >= 2 with at most 0.99 * tol * (1 + |h_t|) left.
    t_star = next(
        t
        for t in itertools.count(2)
        if gap * rho**t <= 0.99 * tol * n
    )
    assert len(history) - 1 <= t_star + 1


def test_capped_run_is_not_converged():
    """Two EM iterations on a slow problem: ``converged`` False, and ``fit_moe`` warns."""
    rng = np.random.default_rng(0)
    n = 200
    X = rng.standard_normal((n, 1))
    # Two experts that barely differ: the missing information is large and EM is slow.
    y = X[:, 0] + 0.1 * np.sign(rng.standard_normal(n)) + rng.standard_normal(n)
    data = make_data(X, y)
    fam = LinearExperts()
    resp = rng.dirichlet(np.ones(2), size=n)
    res = run(fam, data, init_resp=resp, max_iter=2)
    assert not res.converged and res.n_iter == 2
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        best, _ = fit_moe(fam, data, 2, init_resp=resp, max_iter=2)
    assert not best.converged
    # Uncapped, the same problem does converge, with no warning, and takes many more iterations.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        best, _ = fit_moe(fam, data, 2, init_resp=resp, max_iter=5000, tol=1e-8)
    assert best.converged and best.n_iter > 20


@pytest.mark.parametrize(("family_name", "seed"), [("linear", 0), ("linear", 1), ("binomial", 2)])
@pytest.mark.parametrize("tol", [1e-5, 1e-7])
def test_converged_runs_stop_near_the_limit(family_name, seed, tol):
    """A converged run stopped at the first point the rule allows, and little is left to gain."""
    inst = draw_instance(family_name, 2, 100, 2, seed=500 + seed)
    fam, data = inst.family, inst.data
    res = run(fam, data, init_params=inst.start, alpha=0.5, tol=tol, max_iter=5000)
    assert res.converged and res.n_iter < 5000
    hist = list(res.objective_history)
    n, rounding = data.n_samples, data.objective_rounding
    assert has_converged(hist, tol, n, rounding)
    assert not any(has_converged(hist[:t], tol, n, rounding) for t in range(1, len(hist)))
    more = run(fam, data, init_params=res.params, alpha=0.5, tol=0.0, max_iter=400)
    left = more.objective_history.max() - res.objective
    # Aitken's estimate is exact for geometric convergence; allow a factor for the rest.
    assert left <= 5 * max(tol * n, rounding)


@pytest.mark.parametrize("family_name", FAMILY_NAMES)
def test_em_never_decreases_penalised_objective_200_instances(family_name):
    """Issue 8: at least 200 instances with alpha > 0 (50 per family, 4 families), seeded."""
    penalties = (0.1, 1.0, 10.0)
    for seed in range(50):
        check_monotone(
            family_name,
            K=2 + seed % 3,
            n=30 + (seed * 7) % 60,
            d=1 + seed % 3,
            alpha=penalties[seed % 3],
            seed=10_000 + seed,
        )
