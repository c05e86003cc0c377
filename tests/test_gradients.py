"""Gradients against finite differences, Fisher's identity, and the gradient methods' steps.

- The log-likelihood of :mod:`moe_lib.model` against a mixture density assembled here from
  ``scipy.stats`` (every constant included).
- :func:`moe_lib.steps.objective_gradient` (free coordinates: gate rows 1.., expert
  coefficients, multinomial classes 1.., ``log sigma``) against central differences of
  :func:`moe_lib.model.objective` through :func:`moe_lib.params.from_free`.
- Fisher's identity: the gradient of ``Q(. | theta_t)`` at ``theta_t`` (``Q`` written here from the
  responsibilities and the joint log-probabilities) equals the gradient of the log-likelihood.
- ``gd_step`` and ``gradient_em_step`` are the documented free-vector updates; with equal block
  curvatures they coincide; with their default steps they ascend on average and stay finite.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import FAMILY_NAMES, draw_instance
from scipy import stats
from scipy.special import logsumexp

import moe_lib.steps as steps_module
from moe_lib import (
    e_step,
    from_free,
    gd_step,
    gradient_em_step,
    joint_log_prob,
    log_likelihood,
    make_data,
    objective,
    objective_gradient,
    random_params,
    run,
    sample,
    to_free,
)
from moe_lib.experts import SymmetricLinearExperts, SymmetricLogisticExperts

GRAD_RTOL = 1e-6


def richardson_gradient(f, v: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central differences with one Richardson extrapolation (error O(h^4)), coordinate-wise."""
    g = np.empty_like(v)
    for j in range(v.size):
        e = np.zeros_like(v)
        e[j] = 1.0

        def central(s, e=e):
            return (f(v + s * e) - f(v - s * e)) / (2 * s)

        g[j] = (4 * central(h / 2) - central(h)) / 3
    return g


def assert_grad_close(numeric: np.ndarray, analytic: np.ndarray, rtol: float = GRAD_RTOL):
    """Entry-wise ``|a - b| <= rtol * (|b| + max|b|)``: relative, scaled by the largest entry."""
    scale = np.max(np.abs(analytic), initial=1.0)
    err = np.abs(numeric - analytic)
    assert np.all(err <= rtol * (np.abs(analytic) + scale)), (
        f"max error {err.max():.3g} (relative {err.max() / scale:.3g}) at entry {err.argmax()}"
    )


# --------------------------------------------------------------------------------------------
# The likelihood itself, against scipy.stats
# --------------------------------------------------------------------------------------------
def scipy_log_likelihood(inst, params) -> float:
    """``sum_i log sum_k pi_k(x_i) p_k(y_i | x_i)`` from scipy.stats densities."""
    d = inst.data
    K = params.n_experts
    scores = d.gate_X @ params.gate.T
    pi = np.exp(scores - logsumexp(scores, axis=1, keepdims=True))
    dens = np.empty((d.n_samples, K))
    name = type(inst.family).__name__
    for k in range(K):
        if name == "LinearExperts":
            dens[:, k] = stats.norm.pdf(d.y, loc=d.X @ params.coef[k], scale=params.sigma[k])
        elif name == "LogisticExperts":
            prob = 1 / (1 + np.exp(-(d.X @ params.coef[k])))
            m = np.ones(d.n_samples) if d.n_trials is None else d.n_trials
            dens[:, k] = stats.binom.pmf(d.y, m.astype(int), prob)
        else:
            eta = d.X @ params.coef[k].T
            probs = np.exp(eta - logsumexp(eta, axis=1, keepdims=True))
            dens[:, k] = probs[np.arange(d.n_samples), d.y.astype(int)]
    return float(np.sum(np.log(np.sum(pi * dens, axis=1))))


@pytest.mark.parametrize("family_name", FAMILY_NAMES)
@pytest.mark.parametrize("K", [2, 4])
def test_log_likelihood_matches_scipy_stats(family_name, K):
    inst = draw_instance(family_name, K, 60, 2, seed=K)
    for params in (inst.truth, inst.start):
        ll = log_likelihood(inst.family, inst.data, params)
        assert ll == pytest.approx(scipy_log_likelihood(inst, params), rel=1e-11)


# --------------------------------------------------------------------------------------------
# objective_gradient against finite differences
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("family_name", "K", "alpha"), list(itertools.product(FAMILY_NAMES, [2, 3, 4], [0.0, 0.7]))
)
def test_objective_gradient_matches_finite_differences(family_name, K, alpha):
    inst = draw_instance(family_name, K, 50, 2, seed=100 + K)
    fam, data, params = inst.family, inst.data, inst.start
    v0 = to_free(fam, params)
    np.testing.assert_array_equal(to_free(fam, from_free(fam, v0, params)), v0)
    expected_size = (K - 1) * data.gate_X.shape[1] + fam.n_free_params(K, data.X.shape[1])
    assert v0.size == expected_size

    grad, curv = objective_gradient(fam, data, params, alpha)
    numeric = richardson_gradient(
        lambda v: objective(fam, data, from_free(fam, v, params), alpha), v0
    )
    assert_grad_close(numeric, grad)
    # Passing the responsibilities gives the same gradient.
    resp = e_step(fam, data, params)[0]
    np.testing.assert_allclose(
        objective_gradient(fam, data, params, alpha, resp)[0], grad, rtol=1e-13, atol=1e-12
    )
    assert curv.shape == grad.shape and np.all(curv > 0)


@pytest.mark.parametrize("family_cls", [SymmetricLinearExperts, SymmetricLogisticExperts])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_symmetric_family_gradient_matches_finite_differences(family_cls, alpha):
    fam = family_cls()
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 2))
    params = random_params(fam, 2, 2, 2, rng)
    y, _ = sample(fam, params, X, X, rng)
    data = make_data(X, y, fit_intercept=False)
    start = random_params(fam, 2, 2, 2, rng)
    grad = objective_gradient(fam, data, start, alpha)[0]
    numeric = richardson_gradient(
        lambda v: objective(fam, data, from_free(fam, v, start), alpha), to_free(fam, start)
    )
    assert_grad_close(numeric, grad)


# --------------------------------------------------------------------------------------------
# Fisher's identity
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("family_name", "K"), list(itertools.product(FAMILY_NAMES, [2, 3, 4])))
def test_fisher_identity(family_name, K):
    """``grad_theta Q(theta | theta_t)`` at ``theta_t`` equals ``grad loglik(theta_t)``."""
    inst = draw_instance(family_name, K, 50, 2, seed=200 + K)
    fam, data, theta_t = inst.family, inst.data, inst.start
    resp_t = e_step(fam, data, theta_t)[0]

    def q_fun(v):
        return float(np.sum(resp_t * joint_log_prob(fam, data, from_free(fam, v, theta_t))))

    def ll_fun(v):
        return log_likelihood(fam, data, from_free(fam, v, theta_t))

    v_t = to_free(fam, theta_t)
    grad_q = richardson_gradient(q_fun, v_t)
    grad_ll = richardson_gradient(ll_fun, v_t)
    assert np.max(np.abs(grad_q)) > 1e-2  # not at a stationary point: the check has teeth
    assert_grad_close(grad_q, grad_ll)
    assert_grad_close(grad_q, objective_gradient(fam, data, theta_t, 0.0)[0])
    # Away from theta_t the identity fails: Q's gradient at theta_t differs from the gradient of
    # Q built from other responsibilities.
    resp_other = e_step(fam, data, inst.truth)[0]
    grad_other = richardson_gradient(
        lambda v: float(np.sum(resp_other * joint_log_prob(fam, data, from_free(fam, v, theta_t)))),
        v_t,
    )
    assert np.max(np.abs(grad_other - grad_ll)) > 1e-3 * np.max(np.abs(grad_ll))


# --------------------------------------------------------------------------------------------
# The gradient steps
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family_name", FAMILY_NAMES)
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_step_formulas(family_name, alpha):
    """gd: ``theta + eta * grad / n``; default ``eta = n / max L``; gradient EM: ``+ s g / L``."""
    inst = draw_instance(family_name, 3, 70, 2, seed=9)
    fam, data, params = inst.family, inst.data, inst.start
    v = to_free(fam, params)
    g, curv = objective_gradient(fam, data, params, alpha)
    n = data.n_samples
    for eta in (1e-3, 0.05):
        got = to_free(fam, gd_step(fam, data, params, alpha, step_size=eta))
        np.testing.assert_allclose(got, v + eta * g / n, rtol=1e-13, atol=1e-13)
    got = to_free(fam, gd_step(fam, data, params, alpha))
    np.testing.assert_allclose(got, v + g / curv.max(), rtol=1e-13, atol=1e-13)
    for mult in (None, 0.5):
        got = to_free(fam, gradient_em_step(fam, data, params, alpha, step_size=mult))
        np.testing.assert_allclose(
            got, v + (1.0 if mult is None else mult) * g / curv, rtol=1e-13, atol=1e-13
        )


@pytest.mark.parametrize("family_name", FAMILY_NAMES)
def test_gradient_em_with_equal_curvatures_is_gd(family_name, monkeypatch):
    """If every block had the same curvature bound L, gradient EM would be GD with eta = n / L."""
    inst = draw_instance(family_name, 2, 40, 1, seed=21)
    fam, data, params = inst.family, inst.data, inst.start
    true_gradient = steps_module._objective_gradient
    L = 37.0

    def equal_curvature(*args, **kwargs):
        g, curv = true_gradient(*args, **kwargs)
        return g, np.full_like(curv, L)

    monkeypatch.setattr(steps_module, "_objective_gradient", equal_curvature)
    a = to_free(fam, gradient_em_step(fam, data, params, 0.3))
    b = to_free(fam, gd_step(fam, data, params, 0.3))
    c = to_free(fam, gd_step(fam, data, params, 0.3, step_size=data.n_samples / L))
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)
    assert np.max(np.abs(a - to_free(fam, params))) > 1e-4


@pytest.mark.parametrize("algorithm", ["gradient_em", "gd"])
@pytest.mark.parametrize("family_name", FAMILY_NAMES)
def test_default_gradient_steps_ascend_on_average(algorithm, family_name):
    """Default steps: finite iterates, the objective rises over 20 steps on (almost) every start.

    The per-block bounds do not bound the joint curvature, so single steps are not guaranteed to
    ascend; we require every run to end finite and above its start, the mean step to be > 0 and at
    most 5% of the steps to go down.
    """
    gains, n_up, n_down = [], 0, 0
    n_inst = 12
    for seed in range(n_inst):
        K = 2 + seed % 3
        alpha = (0.0, 0.5)[seed % 2]
        inst = draw_instance(family_name, K, 80, 2, seed=300 + seed)
        fam, data = inst.family, inst.data
        obj0 = objective(fam, data, inst.start, alpha)
        res = run(
            fam,
            data,
            init_params=inst.start,
            algorithm=algorithm,
            alpha=alpha,
            max_iter=20,
            tol=0.0,
        )
        assert res.n_iter == 20, res.messages
        hist = np.r_[obj0, res.objective_history]
        assert np.all(np.isfinite(hist)) and np.all(np.isfinite(to_free(fam, res.params)))
        gains.append(np.mean(np.diff(hist)))
        n_up += hist[-1] > obj0
        n_down += np.sum(np.diff(hist) < -1e-9 * (1 + np.abs(hist[1:])))
    assert n_up == n_inst
    assert np.mean(gains) > 0
    assert n_down <= 0.05 * 20 * n_inst
