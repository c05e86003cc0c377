"""The numerical kernels of ``moe_lib._linalg`` against direct, slow computations.

Each fast kernel is compared with numpy's and scipy's reference functions, or with a per-sample
sum written out with ``einsum``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import special

from moe_lib import _linalg

finite_floats = st.floats(-800, 800, allow_nan=False)


@given(arrays(float, st.integers(1, 50), elements=finite_floats))
@settings(max_examples=200, deadline=None)
def test_softplus_and_expit_match_references(u):
    sp, s = _linalg.softplus_expit(u)
    np.testing.assert_allclose(sp, np.logaddexp(0.0, u), rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(_linalg.softplus(u), sp, rtol=0, atol=0)
    # scipy's expit flushes values below ~1e-308 to zero; compare where it does not.
    ref = special.expit(u)
    normal = ref > 1e-300
    np.testing.assert_allclose(s[normal], ref[normal], rtol=1e-14)
    assert np.all((s >= 0) & (s <= 1))


@given(arrays(float, st.integers(1, 50), elements=finite_floats))
@settings(max_examples=200, deadline=None)
def test_expit_and_exp_minus_abs_match_references(u):
    s, e = _linalg.expit_exp_minus_abs(u)
    np.testing.assert_array_equal(e, np.exp(-np.abs(u)))
    ref = special.expit(u)
    normal = ref > 1e-300
    np.testing.assert_allclose(s[normal], ref[normal], rtol=1e-15)
    # The softplus the deferred values build from e, against numpy's log(1 + e^u).
    np.testing.assert_allclose(np.maximum(u, 0.0) + np.log1p(e), np.logaddexp(0.0, u),
                               rtol=1e-15, atol=1e-300)
    out = (np.empty_like(u), np.empty_like(u))
    s2, e2 = _linalg.expit_exp_minus_abs(u, out=out)
    assert s2 is out[0] and e2 is out[1]
    np.testing.assert_array_equal(s2, s)


def test_softplus_expit_at_the_extremes():
    u = np.array([-np.inf, -1000.0, -745.0, 0.0, 37.0, 1000.0, np.inf, np.nan])
    sp, s = _linalg.softplus_expit(u)
    np.testing.assert_array_equal(sp[[0, 1, 3, 5, 6]], [0.0, 0.0, np.log(2.0), 1000.0, np.inf])
    np.testing.assert_array_equal(s[[0, 1, 3, 5, 6]], [0.0, 0.0, 0.5, 1.0, 1.0])
    assert 0 < s[2] < 1e-320  # subnormal, not flushed to zero
    assert np.isnan(sp[7]) and np.isnan(s[7])


@pytest.mark.parametrize("K", [1, 2, 3, 8, 16, 17, 40])
def test_row_and_column_sums(K):
    a = np.random.default_rng(K).standard_normal((301, K))
    np.testing.assert_allclose(_linalg.row_sum(a), a.sum(axis=1), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(_linalg.column_sum(a), a.sum(axis=0), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("K", [1, 2, 5, 8, 20])
def test_logsumexp_and_softmax(K):
    rng = np.random.default_rng(K)
    a = 30 * rng.standard_normal((200, K))
    a[0] = -np.inf  # an impossible row
    a[1, 0] = 800.0  # would overflow without the shift
    np.testing.assert_allclose(_linalg.logsumexp(a, axis=1), special.logsumexp(a, axis=1))
    np.testing.assert_allclose(_linalg.logsumexp(a, axis=0), special.logsumexp(a, axis=0))


@pytest.mark.parametrize("K", [2, 3, 8])
@pytest.mark.parametrize("scale", [1.0, 30.0, 500.0])
def test_reference_class_softmax(K, scale):
    """Scores of the non-reference classes; the reference has score 0 (both branches)."""
    rng = np.random.default_rng(K)
    scores = scale * rng.standard_normal((300, K - 1))
    full = np.column_stack([np.zeros(300), scores])
    lse, P = _linalg.reference_lse_softmax(scores)
    np.testing.assert_allclose(lse, special.logsumexp(full, axis=1), rtol=1e-14)
    np.testing.assert_allclose(P, special.softmax(full, axis=1)[:, 1:], rtol=1e-12, atol=1e-300)
    assert _linalg.reference_lse_softmax(scores, want_softmax=False)[1] is None
    # The class-major kernel of the fused evaluations, probabilities written over the scores.
    columns = np.ascontiguousarray(scores.T)
    lse_t = _linalg.reference_lse_softmax_columns(columns, float(columns.max()))
    np.testing.assert_allclose(lse_t, special.logsumexp(full, axis=1), rtol=1e-14)
    np.testing.assert_allclose(columns.T, P, rtol=1e-13, atol=1e-300)
    # With sums_out the log1p waits: the sums are written out, or (shifted scores) lse returned.
    # (scores.T may be a view of scores, which the kernel above overwrote: start from full.)
    columns, sums = np.array(full[:, 1:].T, order="C"), np.full(300, np.nan)
    top = float(columns.max())
    got = _linalg.reference_lse_softmax_columns(columns, top, sums)
    lse_d = np.log1p(sums) if got is None else got
    assert (got is None) == (top <= 700.0)
    np.testing.assert_allclose(lse_d, special.logsumexp(full, axis=1), rtol=1e-14)
    np.testing.assert_allclose(columns.T, P, rtol=1e-13, atol=1e-300)
    coef = np.vstack([np.zeros(2), rng.standard_normal((K - 1, 2))])
    X = scale * rng.standard_normal((300, 2))
    eta = X @ coef.T
    np.testing.assert_allclose(
        _linalg.log_softmax_ref(X, coef),
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
    np.testing.assert_allclose(_linalg.weighted_gram(X, w), ref, rtol=0, atol=tol)


@pytest.mark.parametrize(("p", "K"), [(3, 2), (11, 8), (11, 5), (20, 6), (4, 0)])
def test_weighted_grams_match_one_product_per_column(p, K):
    # (11, 8) and (11, 5) take the pairwise-product path, the others one product per column.
    rng = np.random.default_rng(p * K + 1)
    X = rng.standard_normal((1300, p))
    W = rng.standard_normal((1300, K))
    grams = _linalg.weighted_grams(X, W)
    assert grams.shape == (K, p, p)
    for k in range(K):
        ref = (X * W[:, k, None]).T @ X
        np.testing.assert_allclose(grams[k], ref, rtol=0, atol=1e-13 * np.abs(ref).max())


def test_softmax_and_lambda_max():
    rng = np.random.default_rng(4)
    a = 40 * rng.standard_normal((50, 6))
    np.testing.assert_allclose(_linalg.softmax(a, axis=1), special.softmax(a, axis=1), rtol=1e-13)
    X, w = rng.standard_normal((80, 3)), rng.random(80)
    ref = np.linalg.eigvalsh((X * w[:, None]).T @ X)[-1]
    assert _linalg.lambda_max(X, w) == pytest.approx(ref, rel=1e-13)
    assert _linalg.lambda_max(np.zeros((5, 0)), np.ones(5)) == 0.0
