"""The numerical kernels in ``moe_lib._math`` and the softmax Hessian assemblies in ``gating``.

Each fast kernel is compared with a direct, slow computation of the same quantity: numpy's and
scipy's reference functions, or a per-sample sum written out with ``einsum``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import optimize, special

from moe_lib import _math, gating
from moe_lib._newton import newton_maximize

finite_floats = st.floats(-800, 800, allow_nan=False)


@given(arrays(float, st.integers(1, 50), elements=finite_floats))
@settings(max_examples=200, deadline=None)
def test_softplus_and_expit_match_references(u):
    sp, s = _math.softplus_expit(u)
    np.testing.assert_allclose(sp, np.logaddexp(0.0, u), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(_math.softplus(u), sp, rtol=0, atol=0)
    # scipy's expit flushes values below ~1e-308 to zero; compare where it does not.
    ref = special.expit(u)
    normal = ref > 1e-300
    np.testing.assert_allclose(s[normal], ref[normal], rtol=1e-14)
    assert np.all((s >= 0) & (s <= 1))


def test_softplus_expit_at_the_extremes():
    u = np.array([-np.inf, -1000.0, -745.0, 0.0, 37.0, 1000.0, np.inf, np.nan])
    sp, s = _math.softplus_expit(u)
    np.testing.assert_array_equal(sp[[0, 1, 3, 5, 6]], [0.0, 0.0, np.log(2.0), 1000.0, np.inf])
    np.testing.assert_array_equal(s[[0, 1, 3, 5, 6]], [0.0, 0.0, 0.5, 1.0, 1.0])
    assert 0 < s[2] < 1e-320  # subnormal, not flushed to zero
    assert np.isnan(sp[7]) and np.isnan(s[7])


@pytest.mark.parametrize("K", [1, 2, 3, 8, 16, 17, 40])
def test_row_and_column_sums(K):
    a = np.random.default_rng(K).standard_normal((301, K))
    np.testing.assert_allclose(_math.row_sum(a), a.sum(axis=1), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(_math.column_sum(a), a.sum(axis=0), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("K", [1, 2, 5, 8, 20])
def test_logsumexp_and_softmax(K):
    rng = np.random.default_rng(K)
    a = 30 * rng.standard_normal((200, K))
    a[0] = -np.inf  # an impossible row
    a[1, 0] = 800.0  # would overflow without the shift
    np.testing.assert_allclose(_math.logsumexp(a, axis=1), special.logsumexp(a, axis=1))
    np.testing.assert_allclose(_math.logsumexp(a, axis=0), special.logsumexp(a, axis=0))


@pytest.mark.parametrize("K", [2, 3, 8])
@pytest.mark.parametrize("scale", [1.0, 30.0, 500.0])
def test_reference_class_softmax(K, scale):
    """Scores of the non-reference classes; the reference has score 0 (both branches)."""
    rng = np.random.default_rng(K)
    scores = scale * rng.standard_normal((300, K - 1))
    full = np.column_stack([np.zeros(300), scores])
    lse, P = gating.reference_lse_softmax(scores)
    np.testing.assert_allclose(lse, special.logsumexp(full, axis=1), rtol=1e-14)
    np.testing.assert_allclose(P, special.softmax(full, axis=1)[:, 1:], rtol=1e-12, atol=1e-300)
    assert gating.reference_lse_softmax(scores, want_softmax=False)[1] is None
    coef = np.vstack([np.zeros(2), rng.standard_normal((K - 1, 2))])
    X = scale * rng.standard_normal((300, 2))
    eta = X @ coef.T
    np.testing.assert_allclose(
        gating.log_softmax_ref(X, coef),
        eta - special.logsumexp(eta, axis=1, keepdims=True),
        rtol=1e-13,
        atol=1e-12,
    )


@pytest.mark.parametrize(
    ("n", "p", "signed"),
    [(10, 3, False), (5000, 11, True), (20000, 11, False), (3000, 40, False), (3000, 40, True)],
)
def test_weighted_gram_matches_the_direct_product(n, p, signed):
    # p = 40 with non-negative weights takes the symmetric (sqrt-weight) path.
    rng = np.random.default_rng(n + p)
    X = rng.standard_normal((n, p))
    w = rng.standard_normal(n) if signed else rng.random(n)
    ref = (X * w[:, None]).T @ X
    tol = 1e-12 * np.abs(ref).max()
    np.testing.assert_allclose(_math.weighted_gram(X, w), ref, rtol=0, atol=tol)


def _brute_force_neg_hessian(X, P, w):
    """``sum_i w_i (diag(P_i) - P_i P_i^T) (x) x_i x_i^T`` written out per sample."""
    k, p = P.shape[1], X.shape[1]
    M = np.einsum("ic,cd->icd", P, np.eye(k)) - np.einsum("ic,id->icd", P, P)
    return np.einsum("i,icd,ia,ib->cadb", w, M, X, X).reshape(k * p, k * p)


@pytest.mark.parametrize(("p", "k"), [(3, 1), (11, 2), (4, 3), (11, 7), (20, 7), (20, 3)])
@pytest.mark.parametrize(
    "assembly",
    [
        gating._neg_hessian_blocks,
        gating._neg_hessian_pairwise,
        gating._neg_hessian_one_product,
        gating.softmax_neg_hessian,
    ],
)
def test_softmax_hessian_assemblies_agree_with_the_per_sample_sum(p, k, assembly):
    rng = np.random.default_rng(10 * p + k)
    n = 1100  # more than one row block of the pairwise assembly
    X = rng.standard_normal((n, p))
    E = np.exp(2 * rng.standard_normal((n, k + 1)))
    P = (E / E.sum(axis=1, keepdims=True))[:, 1:]
    w = rng.random(n)
    ref = _brute_force_neg_hessian(X, P, w)
    H = assembly(X, P, w)
    np.testing.assert_allclose(H, ref, rtol=0, atol=1e-13 * np.abs(ref).max())
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-13 * np.abs(ref).max())


def test_binary_softmax_fit_matches_the_general_path():
    """C = 2 uses softplus/expit of one score; it must give the general path's maximiser."""
    rng = np.random.default_rng(3)
    n, p = 400, 4
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    t = rng.random(n)
    targets = np.column_stack([1 - t, t])
    w = rng.random(n) + 0.1
    coef, info = gating.fit_weighted_softmax(X, targets, w, np.zeros((2, p)), alpha=0.3)
    assert info.converged

    def neg_objective(b):
        eta = X @ b
        return -(w @ (t * eta - np.logaddexp(0.0, eta)) - 0.15 * b @ b)

    ref = optimize.minimize(neg_objective, np.zeros(p), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(coef[1], ref, atol=1e-6)
    np.testing.assert_array_equal(coef[0], 0.0)


@pytest.mark.parametrize(("p", "K"), [(3, 2), (11, 8), (11, 5), (20, 6), (4, 0)])
def test_weighted_grams_match_one_product_per_column(p, K):
    # (11, 8) and (11, 5) take the pairwise-product path, the others one product per column.
    rng = np.random.default_rng(p * K + 1)
    X = rng.standard_normal((1300, p))
    W = rng.standard_normal((1300, K))
    grams = _math.weighted_grams(X, W)
    assert grams.shape == (K, p, p)
    for k in range(K):
        ref = (X * W[:, k, None]).T @ X
        np.testing.assert_allclose(grams[k], ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def _logistic_problem(seed=0, n=500, p=4):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    y = (rng.random(n) < special.expit(X @ rng.standard_normal(p))).astype(float)
    calls = {"hess": 0}

    def fun(b):
        eta = X @ b
        return float(y @ eta - np.sum(np.logaddexp(0.0, eta))) / n

    def grad(b):
        return X.T @ (y - special.expit(X @ b)) / n

    def hess(b):
        calls["hess"] += 1
        s = special.expit(X @ b)
        return -(X * (s * (1 - s))[:, None]).T @ X / n

    return fun, grad, hess, calls


def test_newton_reuses_its_factor_near_the_optimum():
    """From a start in the quadratic region one Hessian serves the whole solve (chord steps)."""
    fun, grad, hess, calls = _logistic_problem()
    ref = optimize.minimize(
        lambda b: -fun(b),
        np.zeros(4),
        jac=lambda b: -grad(b),
        hess=lambda b: -hess(b),
        method="trust-exact",
        options={"gtol": 1e-14},
    ).x
    calls["hess"] = 0
    x, info = newton_maximize(fun, grad, hess, ref + 1e-3, tol=1e-12)
    assert info.converged and info.grad_norm <= 1e-12
    assert calls["hess"] == 1 and info.n_iter >= 2
    np.testing.assert_allclose(x, ref, atol=1e-9)


def test_newton_recomputes_the_hessian_when_a_chord_step_fails():
    """A strongly curved objective: chord steps from a stale Hessian are refused, and Newton
    still converges to the maximiser of ``-sum(cosh(3 x) - x)``: ``sinh(3 x) = 1/3``."""
    calls = {"hess": 0}

    def hess(x):
        calls["hess"] += 1
        return -np.diag(9 * np.cosh(3 * x))

    x, info = newton_maximize(
        lambda x: float(-np.sum(np.cosh(3 * x) - x)),
        lambda x: -(3 * np.sinh(3 * x) - 1),
        hess,
        np.full(3, 2.0),
        tol=1e-12,
    )
    assert info.converged
    np.testing.assert_allclose(x, np.arcsinh(1 / 3) / 3, rtol=1e-12)
    assert calls["hess"] >= 3  # far from the optimum every step needed a fresh Hessian
