"""Every M-step against a brute-force maximiser of its own block of ``Q - penalty``.

Each block objective is written out here (with its gradient) and maximised with
``scipy.optimize.minimize(method="BFGS")`` to a gradient of ~1e-11 per unit weight; the library's
M-step must agree to 1e-6 in the parameters:

- the gate: soft-label softmax regression of the responsibilities on the gate design, with and
  without the L2 penalty (intercept unpenalised);
- linear-Gaussian experts: weighted least squares and the weighted MLE of the variance, optimised
  jointly over ``(beta, log sigma)``; the variance floor;
- logistic experts (Bernoulli and binomial counts) and three-class multinomial experts, with and
  without the penalty;
- the intercept-only gate, whose M-step has the closed form ``pi_k = mean_i r_ik``.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FAMILY_NAMES, draw_instance
from scipy import optimize
from scipy.special import log_softmax, logsumexp

from moe_lib import MoEParams, e_step, make_data
from moe_lib.experts import LinearExperts
from moe_lib.experts.linear import robust_scale
from moe_lib.gate import gate_m_step
from moe_lib.steps import m_step

PARAM_TOL = 1e-6


def bfgs_maximize(fun_grad, x0: np.ndarray, weight: float) -> np.ndarray:
    """Maximise ``fun`` (scaled by ``1/weight``) with BFGS to a tight gradient tolerance."""

    def neg(x):
        f, g = fun_grad(x)
        return -f / weight, -g / weight

    x = np.asarray(x0, dtype=float)
    for _ in range(3):  # restarts refresh BFGS's Hessian estimate after a precision-loss stop
        res = optimize.minimize(
            neg, x, jac=True, method="BFGS", options={"gtol": 1e-11, "maxiter": 5000}
        )
        x = res.x
        if np.max(np.abs(res.jac)) <= 1e-9:
            break
    assert np.max(np.abs(neg(x)[1])) <= 1e-8, "brute-force reference did not converge"
    return x


# --------------------------------------------------------------------------------------------
# Block objectives written out (value, gradient), independent of moe_lib
# --------------------------------------------------------------------------------------------
def gate_block(G, R, mask, alpha):
    """``V -> sum_ik R_ik log softmax([0, V g_i])_k - alpha/2 ||mask V||^2``, V (K-1, q) flat."""
    K, q = R.shape[1], G.shape[1]

    def fg(v):
        V = v.reshape(K - 1, q)
        scores = np.column_stack([np.zeros(G.shape[0]), G @ V.T])
        logp = log_softmax(scores, axis=1)
        P = np.exp(logp)
        val = np.sum(R * logp) - 0.5 * alpha * np.sum(mask * V**2)
        rows = R.sum(axis=1)
        grad = (R[:, 1:] - rows[:, None] * P[:, 1:]).T @ G - alpha * mask * V
        return val, grad.ravel()

    return fg


def linear_block(X, y, r):
    """``(beta, log s) -> sum_i r_i log N(y_i; x_i^T beta, s^2)``."""
    p = X.shape[1]

    def fg(v):
        beta, log_s = v[:p], v[p]
        res = y - X @ beta
        s2 = np.exp(2 * log_s)
        val = np.sum(r * (-0.5 * np.log(2 * np.pi) - log_s - 0.5 * res**2 / s2))
        g_beta = X.T @ (r * res) / s2
        g_log_s = np.sum(r * (res**2 / s2 - 1))
        return val, np.r_[g_beta, g_log_s]

    return fg


def binomial_block(X, y, m, r, mask, alpha):
    """``beta -> sum_i r_i (y_i eta_i - m_i log(1 + e^eta_i)) - alpha/2 ||mask beta||^2``."""

    def fg(beta):
        eta = X @ beta
        val = np.sum(r * (y * eta - m * np.logaddexp(0, eta))) - 0.5 * alpha * np.sum(
            mask * beta**2
        )
        prob = np.exp(-np.logaddexp(0, -eta))
        return val, X.T @ (r * (y - m * prob)) - alpha * mask * beta

    return fg


def multinomial_block(X, y, C, r, mask, alpha):
    """``B -> sum_i r_i log softmax([0, B x_i])_{y_i} - alpha/2 ||mask B||^2``, B (C-1, p)."""
    onehot = np.eye(C)[y]
    return gate_block(X, r[:, None] * onehot, mask, alpha)


def brute_force_m_step(inst, resp, alpha) -> MoEParams:
    """Maximise every block of ``Q - penalty`` separately with BFGS, from zero."""
    d, fam = inst.data, inst.family
    n, K = resp.shape
    gmask = np.r_[0.0, np.ones(d.gate_X.shape[1] - 1)]  # our own masks: intercepts first
    emask = np.r_[0.0, np.ones(d.X.shape[1] - 1)]
    q, p = d.gate_X.shape[1], d.X.shape[1]
    v = bfgs_maximize(gate_block(d.gate_X, resp, gmask, alpha), np.zeros((K - 1) * q), n)
    gate = np.vstack([np.zeros(q), v.reshape(K - 1, q)])
    sigma = None
    name = type(fam).__name__
    if name == "LinearExperts":
        coef, sigma = np.empty((K, p)), np.empty(K)
        for k in range(K):
            x0 = np.r_[np.zeros(p), np.log(np.std(d.y))]
            v = bfgs_maximize(linear_block(d.X, d.y, resp[:, k]), x0, resp[:, k].sum())
            coef[k], sigma[k] = v[:p], np.exp(v[p])
    elif name == "LogisticExperts":
        m = np.ones(n) if d.n_trials is None else d.n_trials
        coef = np.array(
            [
                bfgs_maximize(
                    binomial_block(d.X, d.y, m, resp[:, k], emask, alpha),
                    np.zeros(p),
                    resp[:, k].sum(),
                )
                for k in range(K)
            ]
        )
    else:
        C = fam.n_classes
        coef = np.zeros((K, C, p))
        for k in range(K):
            fg = multinomial_block(d.X, d.y.astype(int), C, resp[:, k], emask, alpha)
            v = bfgs_maximize(fg, np.zeros((C - 1) * p), resp[:, k].sum())
            coef[k, 1:] = v.reshape(C - 1, p)
    return MoEParams(gate, coef, sigma)


def informative_resp(inst) -> np.ndarray:
    """Responsibilities at the true parameters: soft, and related to the covariates."""
    return e_step(inst.family, inst.data, inst.truth)[0]


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("family_name", FAMILY_NAMES)
@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("alpha", [0.0, 0.8])
def test_m_step_equals_brute_force(family_name, K, alpha):
    """The whole M-step (gate and every expert, warm-started elsewhere) against BFGS blocks."""
    inst = draw_instance(family_name, K, 150, 2, seed=40 + K)
    resp = informative_resp(inst)
    got, infos = m_step(inst.family, inst.data, resp, inst.start, alpha)
    assert all(info.converged for info in infos)
    ref = brute_force_m_step(inst, resp, alpha)
    np.testing.assert_allclose(got.gate, ref.gate, rtol=0, atol=PARAM_TOL)
    np.testing.assert_allclose(got.coef, ref.coef, rtol=0, atol=PARAM_TOL)
    if ref.sigma is not None:
        np.testing.assert_allclose(got.sigma, ref.sigma, rtol=0, atol=PARAM_TOL)
    if alpha > 0 and family_name != "linear":
        # The penalty must matter, or the check above could not tell the objectives apart.
        unpen = brute_force_m_step(inst, resp, 0.0)
        assert np.max(np.abs(unpen.coef - ref.coef)) > 100 * PARAM_TOL
        assert np.max(np.abs(unpen.gate - ref.gate)) > 100 * PARAM_TOL


@pytest.mark.parametrize("alpha", [0.0, 0.3, 5.0])
@pytest.mark.parametrize("K", [2, 4])
def test_gate_m_step_soft_labels(alpha, K):
    """Gate M-step on random soft labels (Dirichlet rows), warm start far from the optimum."""
    rng = np.random.default_rng(K)
    n, d = 120, 2
    X = rng.standard_normal((n, d))
    # Soft labels that depend on x (a softmax of random scores) with Dirichlet noise.
    logits = X @ rng.standard_normal((d, K)) + rng.standard_normal((n, K))
    resp = 0.7 * np.exp(log_softmax(logits, axis=1)) + 0.3 * rng.dirichlet(np.ones(K), size=n)
    data = make_data(X, np.zeros(n))
    warm = 3.0 * rng.standard_normal((K, d + 1))
    warm[0] = 0
    gate, info = gate_m_step(data, resp, warm, alpha)
    assert info.converged
    mask = np.r_[0.0, np.ones(d)]
    v = bfgs_maximize(gate_block(data.gate_X, resp, mask, alpha), np.zeros((K - 1) * (d + 1)), n)
    np.testing.assert_array_equal(gate[0], 0.0)
    np.testing.assert_allclose(gate[1:].ravel(), v, rtol=0, atol=PARAM_TOL)


@pytest.mark.parametrize("K", [2, 3, 4])
@pytest.mark.parametrize("family_name", ["linear", "logistic"])
def test_intercept_only_gate_closed_form(K, family_name):
    """``gate_X`` of shape (n, 0) with an intercept: ``gate_k = log(N_k / N_0)``, pi_k = N_k/n."""
    inst = draw_instance(family_name, K, 90, 2, seed=K)
    n = inst.data.n_samples
    X_raw = inst.data.X[:, 1:]
    data = make_data(X_raw, inst.data.y, gate_X=np.empty((n, 0)))
    assert data.gate_X.shape == (n, 1)
    resp = np.random.default_rng(K).dirichlet(np.ones(K), size=n)
    start = MoEParams(np.zeros((K, 1)), inst.start.coef, inst.start.sigma)
    got, _ = m_step(inst.family, data, resp, start, alpha=0.0)
    Nk = resp.sum(axis=0)
    np.testing.assert_allclose(got.gate[:, 0], np.log(Nk / Nk[0]), rtol=0, atol=1e-9)
    pi = np.exp(got.gate[:, 0] - logsumexp(got.gate[:, 0]))
    np.testing.assert_allclose(pi, Nk / n, rtol=1e-9)
    # The intercept is unpenalised, so alpha does not change the closed form.
    got_pen, _ = m_step(inst.family, data, resp, start, alpha=10.0)
    np.testing.assert_allclose(got_pen.gate, got.gate, rtol=0, atol=1e-9)


def test_gate_without_columns_is_left_alone():
    """No gate columns at all (no intercept either): fixed uniform mixing weights."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 1))
    data = make_data(
        X, X[:, 0] + rng.standard_normal(50), gate_X=np.empty((50, 0)), fit_intercept=False
    )
    resp = rng.dirichlet(np.ones(3), size=50)
    params = MoEParams(np.zeros((3, 0)), np.zeros((3, 1)), np.ones(3))
    got, _ = m_step(LinearExperts(), data, resp, params)
    assert got.gate.shape == (3, 0)


def test_linear_variance_floor():
    """An expert that interpolates its data gets the floor variance, not zero."""
    rng = np.random.default_rng(1)
    n = 40
    X = rng.standard_normal((n, 1))
    y = 2 * X[:, 0] + rng.standard_normal(n)
    data = make_data(X, y)
    resp = np.full((n, 2), 0.5)
    resp[:, 1] = 0.0
    resp[:2, 1] = 1.0  # expert 1 sees only two points: a line through them fits exactly
    resp[:, 0] = 1 - resp[:, 1]
    fam = LinearExperts(variance_floor_ratio=1e-6)
    params = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2))
    got, _ = m_step(fam, data, resp, params)
    # The floor is relative to a robust scale of y (median absolute deviation), not its variance.
    mad = 1.4826 * np.median(np.abs(y - np.median(y)))
    assert robust_scale(y) == pytest.approx(mad, rel=1e-12)
    assert got.sigma[1] == pytest.approx(np.sqrt(1e-6) * mad, rel=1e-9)
    beta = np.linalg.solve(data.X[:2], y[:2])
    np.testing.assert_allclose(got.coef[1], beta, rtol=1e-8)


def test_an_expert_without_data_keeps_its_parameters():
    """An expert whose responsibilities are all 0 has no M-step: it is frozen and reported; the
    others get the M-step they would get without it."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((20, 1))
    data = make_data(X, X[:, 0] + rng.standard_normal(20))
    resp = rng.dirichlet(np.ones(3), size=20)
    resp[:, 2] = 0.0
    resp /= resp.sum(axis=1, keepdims=True)
    start = MoEParams(np.zeros((3, 2)), np.arange(6.0).reshape(3, 2), np.array([1.0, 2.0, 3.0]))
    got, info = m_step(LinearExperts(), data, resp, start)
    assert info.vanished == [2]
    np.testing.assert_array_equal(got.coef[2], start.coef[2])
    assert got.sigma[2] == 3.0
    two = MoEParams(np.zeros((2, 2)), start.coef[:2], start.sigma[:2])
    ref, _ = m_step(LinearExperts(), data, resp[:, :2], two)
    np.testing.assert_allclose(got.coef[:2], ref.coef, rtol=1e-12)
    np.testing.assert_allclose(got.sigma[:2], ref.sigma, rtol=1e-12)
