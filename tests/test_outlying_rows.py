"""Outlying rows: a row far out in one column may get a huge score at a finite maximiser.

The run-off rule (an inner solve, and EM, stop once a log-odds exceeds
``moe_lib._problem.RUNOFF_SCORE``), the per-step score cap and the fitted-model diagnostics leave
such rows out (``moe_lib._problem.outlying_rows``: beyond twenty interquartile ranges of a
column's median), so that a gross outlier or the tail of a heavy-tailed feature cannot make a
well-posed fit look like separated data. Checked here: the rows found against scipy's
interquartile ranges, in any units; single regressions with such rows reach their (finite)
maximiser, checked by a gradient written out in the test; mixtures with such a row converge
without warnings to a stationary point of the log-likelihood; and genuinely separable data with
such a row still get the separation warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import time_limit
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning

from moe_lib import (
    LinearExperts,
    LogisticExperts,
    MixtureOfLinearExperts,
    MixtureOfLogisticExperts,
    make_data,
    objective_gradient,
)
from moe_lib._problem import OUTLYING_IQRS, RUNOFF_SCORE, _column_extremes, outlying_rows
from moe_lib.regression import fit_weighted_logistic, fit_weighted_softmax

_time_limit = time_limit(120)


def _outlying_by_scipy(X: np.ndarray) -> np.ndarray:
    """Rows beyond OUTLYING_IQRS interquartile ranges of a column's median, with scipy's IQR."""
    spread = stats.iqr(X, axis=0)
    far = np.abs(X - np.median(X, axis=0)) > OUTLYING_IQRS * spread
    return np.flatnonzero(np.any(far[:, spread > 0], axis=1))


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 80),
    p=st.integers(1, 5),
    outliers=st.lists(st.tuples(st.integers(0, 79), st.integers(0, 4),
                                st.floats(-1e6, 1e6)), max_size=4),
    tails=st.sampled_from(["normal", "cauchy", "indicator"]),
    scale=st.sampled_from([1e-150, 1e-6, 1.0, 1e9, 1e150]),
    shift=st.floats(-1e3, 1e3),
    seed=st.integers(0, 2**16),
)
def test_outlying_rows_lie_far_beyond_the_quartiles(n, p, outliers, tails, scale, shift, seed):
    rng = np.random.default_rng(seed)
    X = {"normal": rng.standard_normal, "cauchy": rng.standard_cauchy,
         "indicator": lambda size: (rng.random(size) < 0.1).astype(float)}[tails]((n, p))
    for row, col, value in outliers:
        X[row % n, col % p] = value
    expected = _outlying_by_scipy(X)
    # No entry on the boundary (rounding decides those), then the same rows in any units.
    spread = stats.iqr(X, axis=0)
    margin = np.abs(np.abs(X - np.median(X, axis=0)) - OUTLYING_IQRS * spread)
    assume(np.all(margin[:, spread > 0] > 1e-9 * (1.0 + spread[spread > 0])))
    np.testing.assert_array_equal(outlying_rows(X), expected)
    np.testing.assert_array_equal(outlying_rows(scale * X + shift * scale), expected)


def test_outlying_rows_of_ordinary_designs_are_none():
    rng = np.random.default_rng(0)
    assert outlying_rows(rng.standard_normal((10_000, 20))).size == 0
    indicators = np.column_stack([np.ones(500), rng.random((500, 3)) < 0.01])
    assert outlying_rows(indicators).size == 0  # no spread: an intercept, rare indicators
    assert outlying_rows(np.empty((0, 3))).size == 0
    assert outlying_rows(np.empty((5, 0))).size == 0


def test_outlying_rows_of_a_large_design_use_a_sample_of_rows():
    X = np.random.default_rng(1).standard_normal((50_000, 3))
    X[[7, 31_234], [0, 2]] = [40.0, -50.0]  # 30 and 37 interquartile ranges out
    X[49_999, 1] = 24.0  # 18: not outlying
    np.testing.assert_array_equal(outlying_rows(X), [7, 31_234])


def _outlier_design(n: int = 2000, seed: int = 0) -> np.ndarray:
    """An intercept and three standard-normal features, one row far out along the third."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, 3))])
    X[0, 3] = 2000.0  # some 1500 interquartile ranges out
    return X


def test_logistic_regression_with_an_outlier_reaches_its_finite_maximiser():
    X = _outlier_design()
    rng = np.random.default_rng(1)
    truth = X[:, 1] - 0.5 * X[:, 2] + 0.5 * X[:, 3]
    y = (rng.random(X.shape[0]) < expit(truth)).astype(float)
    y[0] = 1.0  # the label its score (about 1000) predicts
    coef, info = fit_weighted_logistic(X, y, np.ones_like(y), np.ones((y.size, 1)),
                                       np.zeros((1, 4)))
    scores = X @ coef[0]
    assert scores[0] > RUNOFF_SCORE  # the case at stake: a score beyond the run-off bar
    assert np.max(np.abs(scores[1:])) < 20  # at moderate coefficients
    assert info.converged and not info.hit_bound
    assert info.score_size == pytest.approx(np.max(np.abs(scores[1:])))
    gradient = X.T @ (y - expit(scores)) / y.size  # written out here
    assert np.max(np.abs(gradient)) <= 1e-9


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_logistic_regression_on_heavy_tails_reaches_its_finite_maximiser(seed):
    # Cauchy features: the tail rows get scores of ~900-2600 at the maximiser (the code before
    # outlying rows were left out stopped at 500 with a gradient of 0.1-0.5).
    rng = np.random.default_rng(seed)
    n = 3000
    X = np.column_stack([np.ones(n), rng.standard_cauchy((n, 3))])
    truth = np.clip(X[:, 1], -3, 3) + 0.5 * np.clip(X[:, 2], -3, 3)
    y = (rng.random(n) < expit(truth)).astype(float)
    coef, info = fit_weighted_logistic(X, y, np.ones(n), np.ones((n, 1)), np.zeros((1, 4)))
    scores = X @ coef[0]
    assert np.max(np.abs(scores)) > RUNOFF_SCORE
    assert info.converged
    assert np.max(np.abs(X.T @ (y - expit(scores)) / n)) <= 1e-9


def test_softmax_regression_with_an_outlier_reaches_its_finite_maximiser():
    X = _outlier_design(seed=2)
    rng = np.random.default_rng(3)
    n, C = X.shape[0], 4
    truth = X[:, 1:] @ rng.standard_normal((3, C))
    labels = np.argmax(truth + rng.gumbel(size=(n, C)), axis=1)
    labels[0] = np.argmax(truth[0])  # the label its scores (some 1000s) predict
    targets = np.eye(C)[labels]
    weights = rng.uniform(0.2, 1.0, n)
    coef, info = fit_weighted_softmax(X, targets, weights, np.zeros((C, 4)))
    scores = X @ coef.T
    assert np.max(np.abs(scores[0])) > RUNOFF_SCORE
    assert info.converged and not info.hit_bound
    gradient = (targets - softmax(scores, axis=1)).T @ (weights[:, None] * X) / weights.sum()
    assert np.max(np.abs(gradient[1:])) <= 1e-9


def _mixture_data(n: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    upper = rng.random(n) < expit(2.0 * X[:, 0])
    linear = np.where(upper, 2.0 * X[:, 1], -2.0 * X[:, 2])
    labels = (rng.random(n) < expit(linear)).astype(int)
    return X, linear + 0.3 * rng.standard_normal(n), labels


# (Logistic experts with the row at 1e6 need more than max_iter = 1000 EM iterations.)
@pytest.mark.parametrize("kind, size", [("linear", 1e4), ("linear", 1e6), ("logistic", 1e4)])
def test_a_mixture_with_an_outlier_row_converges_without_warnings(kind, size):
    X, y_linear, labels = _mixture_data()
    X[0, 2] = size  # in the gate's and the experts' designs
    est = (MixtureOfLinearExperts if kind == "linear" else MixtureOfLogisticExperts)(
        n_experts=2, random_state=0)
    y = y_linear if kind == "linear" else labels
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.converged_
    # A stationary point of the log-likelihood: its gradient, per sample, on the raw data.
    family = LinearExperts() if kind == "linear" else LogisticExperts()
    data = make_data(X, y.astype(float))
    grad, _ = objective_gradient(family, data, est.params_)
    assert np.max(np.abs(grad)) / X.shape[0] <= 1e-5


def test_separable_data_with_an_outlier_row_still_warn():
    n = 40
    x = np.linspace(-2.0, 2.0, n)
    X = np.column_stack([x, np.random.default_rng(0).standard_normal(n)])
    X[5, 1] = 1e4  # a outlying row on a second feature
    assert outlying_rows(np.column_stack([np.ones(n), X])).tolist() == [5]
    est = MixtureOfLogisticExperts(random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, (x > 0).astype(int))
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert any("separa" in m and "alpha > 0" in m for m in messages), messages
    assert np.all(np.isfinite(est.coef_))


@pytest.mark.parametrize("n", [1, 63, 64, 65, 200, 1000])
def test_column_extremes_are_numpys(n):
    X = np.random.default_rng(n).standard_cauchy((n, 3))
    lowest, highest = _column_extremes(X)
    np.testing.assert_array_equal(lowest, X.min(axis=0))
    np.testing.assert_array_equal(highest, X.max(axis=0))
