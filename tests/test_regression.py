"""The weighted regressions of ``moe_lib.regression``: the softmax Hessian assemblies against a
per-sample sum, and the fitted maximisers against scipy's BFGS on objectives written out here."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special
from sklearn.exceptions import ConvergenceWarning

from moe_lib import _hessians
from moe_lib import regression as _regression
from moe_lib._problem import Design
from moe_lib.regression import fit_weighted_logistic, fit_weighted_softmax
from moe_lib.solvers import maximize


def _brute_force_neg_hessian(X, P, w):
    """``sum_i w_i (diag(P_i) - P_i P_i^T) (x) x_i x_i^T`` written out per sample."""
    k, p = P.shape[1], X.shape[1]
    M = np.einsum("ic,cd->icd", P, np.eye(k)) - np.einsum("ic,id->icd", P, P)
    return np.einsum("i,icd,ia,ib->cadb", w, M, X, X).reshape(k * p, k * p)


@pytest.mark.parametrize(("p", "k"), [(3, 1), (11, 2), (4, 3), (11, 7), (20, 7), (20, 3)])
@pytest.mark.parametrize(
    "assembly",
    [
        _hessians._neg_hessian_blocks,
        _hessians._neg_hessian_pairwise,
        _hessians._neg_hessian_one_product,
        _hessians.softmax_neg_hessian,
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
    # The evaluations keep the probabilities class-major: the transposed view must do as well.
    H_t = assembly(X, np.ascontiguousarray(P.T).T, w)
    np.testing.assert_allclose(H_t, ref, rtol=0, atol=1e-13 * np.abs(ref).max())


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("k", [1, 2, 9])
def test_softmax_hessian_from_sparse_raw_features_agrees_with_the_per_sample_sum(k, intercept):
    """One-hot features, standardised (dense): the Hessian from the raw design's sparse pair
    products, mapped by the standardising matrix, is the per-sample sum on the dense design."""
    from moe_lib.scaling import ColumnScaling

    rng = np.random.default_rng(k)
    n, groups = 1500, 3
    R = np.zeros((n, 4 * groups))
    for g in range(groups):  # three categorical features with four levels each
        R[np.arange(n), 4 * g + rng.choice(4, n, p=[0.94, 0.03, 0.02, 0.01])] = 1.0
    R = R[:, [j for j in range(R.shape[1]) if j % 4]] * 3.0  # (the levels but the first)
    if intercept:
        R = np.column_stack([np.ones(n), R])
    scaling = ColumnScaling.of(R, np.r_[0.0, np.ones(R.shape[1] - 1)] if intercept
                               else np.ones(R.shape[1]))
    X = scaling.apply(R)
    if intercept:
        assert np.count_nonzero(X) > 0.9 * X.size  # (centred: dense)
    E = np.exp(2 * rng.standard_normal((n, k + 1)))
    P = (E / E.sum(axis=1, keepdims=True))[:, 1:]
    w = rng.random(n)
    products = _hessians.sparse_pair_products(R)
    assert products is not None and products.nnz < 0.1 * products.shape[0] * products.shape[1]
    ref = _brute_force_neg_hessian(X, P, w)
    H = _hessians.softmax_neg_hessian(X, P, w, (products, scaling.matrix()))
    np.testing.assert_allclose(H, ref, rtol=0, atol=1e-12 * np.abs(ref).max())
    # Pair products against their definition; a dense design has none.
    cols_a, cols_b = np.triu_indices(R.shape[1])
    np.testing.assert_array_equal(products.toarray(), R[:, cols_a] * R[:, cols_b])
    assert _hessians.sparse_pair_products(rng.standard_normal((50, 3))) is None


def test_indicator_features_fit_as_with_dense_hessians(monkeypatch):
    """Through the estimator (whose design is standardised), one-hot features take the sparse
    Hessians, and the fit is the one the dense Hessians give."""
    from moe_lib import MixtureOfLogisticExperts

    rng = np.random.default_rng(8)
    n = 3000
    R = (rng.random((n, 8)) < 0.05).astype(float)
    logits = np.column_stack([np.zeros(n), R @ rng.standard_normal((8, 2))])
    y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    calls = []
    real = _hessians.raw_pairs

    def spy(design):
        got = real(design)
        calls.append(got is not None)
        return got

    # Sixty EM iterations each (exact M-steps: the same iterates whichever Hessians they use).
    kw = {"alpha": 1.0, "random_state": 0, "max_iter": 60, "tol": 0.0}
    monkeypatch.setattr(_regression, "raw_pairs", spy)
    with pytest.warns(ConvergenceWarning, match="max_iter=60"):
        est = MixtureOfLogisticExperts(2, **kw).fit(R, y)
    assert any(calls) and len(est.classes_) == 3
    monkeypatch.setattr(_regression, "raw_pairs", lambda design: None)
    with pytest.warns(ConvergenceWarning, match="max_iter=60"):
        dense = MixtureOfLogisticExperts(2, **kw).fit(R, y)
    np.testing.assert_allclose(est.coef_, dense.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(est.gate_coef_, dense.gate_coef_, rtol=1e-7, atol=1e-9)


def test_binary_softmax_fit_matches_the_general_path():
    """C = 2 uses softplus/expit of one score; it must give the general path's maximiser."""
    rng = np.random.default_rng(3)
    n, p = 400, 4
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    t = rng.random(n)
    targets = np.column_stack([1 - t, t])
    w = rng.random(n) + 0.1
    coef, info = _regression.fit_weighted_softmax(X, targets, w, np.zeros((2, p)), alpha=0.3)
    assert info.converged

    def neg_objective(b):
        eta = X @ b
        return -(w @ (t * eta - np.logaddexp(0.0, eta)) - 0.15 * b @ b)

    ref = optimize.minimize(neg_objective, np.zeros(p), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(coef[1], ref, atol=1e-6)
    np.testing.assert_array_equal(coef[0], 0.0)


def test_joint_logistic_regressions_match_separate_bfgs_fits():
    """K regressions solved as one: each column of weights gives its own maximiser."""
    rng = np.random.default_rng(5)
    n, p, K = 300, 3, 3
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    m = rng.integers(1, 4, size=n).astype(float)
    y = rng.binomial(m.astype(int), 0.4).astype(float)
    W = rng.random((n, K))
    mask = np.r_[0.0, np.ones(p - 1)]
    coef, info = _regression.fit_weighted_logistic(
        X, y, m, W, np.zeros((K, p)), alpha=0.5, penalty_mask=mask
    )
    assert info.converged
    for k in range(K):
        def neg(b, w=W[:, k]):
            eta = X @ b
            return -(w @ (y * eta - m * np.logaddexp(0.0, eta)) - 0.25 * np.sum(mask * b**2))

        ref = optimize.minimize(neg, np.zeros(p), method="BFGS", options={"gtol": 1e-10}).x
        np.testing.assert_allclose(coef[k], ref, atol=1e-6)


def test_deferred_values_match_the_objectives_written_out():
    """The logistic problems compute their value only when asked, from the kept scores."""
    rng = np.random.default_rng(3)
    n, p, K = 200, 3, 2
    X = np.column_stack([np.ones(n), 3.0 * rng.standard_normal((n, p - 1))])
    m = rng.integers(1, 4, size=n).astype(float)
    y = rng.binomial(m.astype(int), 0.3).astype(float)
    W = rng.random((n, K))
    mask = np.r_[0.0, np.ones(p - 1)]
    b = rng.standard_normal(K * p)
    problem = _regression.LogisticRegressions(X, y, m, W, 0.7, mask)
    rates = (W.T @ y) / (W.T @ m)  # (counts: per unit of information at the pooled rate)
    want = sum(
        (W[:, k] @ (y * (X @ bk) - m * np.logaddexp(0.0, X @ bk)) - 0.35 * np.sum(mask * bk**2))
        / (W[:, k] @ m) / (4 * rates[k] * (1 - rates[k]))
        for k, bk in enumerate(b.reshape(K, p))
    )
    problem.gradient(b)  # evaluates; the value is computed from what this evaluation kept
    assert problem.n_evaluations == 1
    np.testing.assert_allclose(problem.value(b), want, rtol=1e-13)
    assert problem.n_evaluations == 1
    t = rng.random(n)
    binary = _regression.SoftmaxRegression(X, np.column_stack([1.0 - t, t]), W[:, 0], 0.7, mask)
    eta = X @ b[:p]
    want = (W[:, 0] @ (t * eta - np.logaddexp(0.0, eta)) - 0.35 * np.sum(mask * b[:p] ** 2))
    np.testing.assert_allclose(binary.value(b[:p]), want / W[:, 0].sum(), rtol=1e-13)
    # Four classes, scores small and (one row) beyond exp's range: log-sum-exp taken eagerly
    # where the scores were shifted, deferred elsewhere.
    T = rng.dirichlet(np.ones(4), size=n)
    coef = rng.standard_normal((3, p))
    for far in (False, True):
        Xf = X.copy()
        if far:
            Xf[7, 1] = 400.0
        four = _regression.SoftmaxRegression(Xf, T, W[:, 1], 0.7, mask)
        scores = np.column_stack([np.zeros(n), Xf @ coef.T])
        want = W[:, 1] @ np.sum(T * (scores - special.logsumexp(scores, axis=1)[:, None]), 1)
        want -= 0.35 * np.sum(mask * coef**2)
        np.testing.assert_allclose(four.value(coef.ravel()), want / W[:, 1].sum(), rtol=1e-12)


def test_steps_judged_by_their_gradient_leave_the_value_uncomputed():
    """A warm-started solve near its maximiser (an EM iteration's M-step late in a run) takes
    steps on the kept curvature that the gradient alone accepts: no value is computed."""
    rng = np.random.default_rng(4)
    n, p = 500, 4
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    t = special.expit(X @ np.array([0.2, 1.0, -0.5, 0.3]) + 0.3 * rng.standard_normal(n))
    ones = np.ones(n)
    first, info = fit_weighted_logistic(X, t, ones, ones[:, None], np.zeros((1, p)), tol=1e-12)
    problem = _regression.LogisticRegressions(X, np.clip(t + 1e-4, 0, 1), ones, ones[:, None],
                                              0.0, np.ones(p))
    values = []
    deferred = problem._deferred_value
    problem._deferred_value = lambda: values.append(1) or deferred()
    x, info2 = maximize(problem, first.ravel(), tol=1e-12, curvature=info.curvature)
    assert info2.converged and info2.n_hessians == 0 and problem.n_evaluations >= 2
    assert values == []
    assert np.max(np.abs(problem.gradient(x))) <= 1e-12


@pytest.mark.parametrize("label_sums", ["one up to rounding", "between 0.5 and 2"])
def test_softmax_fit_matches_brute_force_for_soft_labels(label_sums):
    """Rows summing to one up to rounding are taken to sum to one; other sums weight the rows."""
    rng = np.random.default_rng(11)
    n, p, C = 300, 3, 3
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    T = rng.dirichlet(np.ones(C), size=n)
    if label_sums == "one up to rounding":
        T *= 1.0 + 1e-14 * rng.standard_normal((n, 1))
    else:
        T *= rng.uniform(0.5, 2.0, size=(n, 1))
    w = rng.random(n) + 0.1
    coef, info = _regression.fit_weighted_softmax(X, T, w, np.zeros((C, p)), alpha=0.1)
    assert info.converged

    def neg_objective(v):
        eta = np.column_stack([np.zeros(n), X @ v.reshape(C - 1, p).T])
        lse = special.logsumexp(eta, axis=1)
        return -(np.sum(w[:, None] * T * eta) - w @ (T.sum(axis=1) * lse) - 0.05 * v @ v)

    ref = optimize.minimize(neg_objective, np.zeros((C - 1) * p), method="BFGS",
                            options={"gtol": 1e-10}).x
    np.testing.assert_allclose(coef[1:].ravel(), ref, atol=1e-6)


def test_a_design_of_another_array_is_refused():
    X = np.column_stack([np.ones(6), np.arange(6.0)])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0, 0.0])
    start = np.zeros((1, 2))
    with pytest.raises(TypeError, match="design must be"):
        fit_weighted_logistic(X, y, np.ones(6), np.ones((6, 1)), start, design=X)
    with pytest.raises(ValueError, match="design describes an array of shape"):
        fit_weighted_softmax(X, np.eye(2)[y.astype(int)], np.ones(6), np.zeros((2, 2)),
                             design=Design(X[:5]))
    coef, info = fit_weighted_logistic(X, y, np.ones(6), np.ones((6, 1)), start,
                                       design=Design(X))
    assert info.converged
