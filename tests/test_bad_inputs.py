"""Bad input gets a clear error that names the argument: never a hang, never a silent NaN.

Every ``pytest.raises`` matches the name of the offending argument in the message. Every test runs
under a time limit (an alarm fails a test that hangs instead of stalling the suite), and fits use a
small ``max_iter`` where convergence is beside the point.

Decisions recorded here (see also the module text of ``moe_lib.estimators``):

- Without ``n_trials``, labels are classes: ``{3, 7}`` is a legal binary problem. With
  ``n_trials``, ``y`` holds counts: labels outside ``0..n_trials`` are errors.
- "A class with no sample" cannot occur at fit time: ``classes_`` is inferred from ``y``, so every
  class has at least one sample. A class with a single sample is legal (with ``alpha = 0`` it may be
  separable, which is warned about). A label not seen in fit is an error in ``loglik_per_sample``,
  ``loglik``, ``responsibilities``, ``aic`` and ``bic``.
- Binomial counts that are all 0 (or all equal to ``n_trials``) are the binomial "one class":
  the logistic intercepts would be infinite, so it is an error, as one class is for labels.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import time_limit
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from moe_lib import (
    LinearExperts,
    MixtureOfLinearExperts,
    MixtureOfLogisticExperts,
    MoEParams,
    fit_moe,
    make_data,
)
from moe_lib.experts import VARIANCE_FLOOR_RATIO
from moe_lib.experts.linear import robust_scale

#: Each test must finish within this many seconds.
TIME_LIMIT = 10

_time_limit = time_limit(TIME_LIMIT, "a fit hangs on bad input")


N = 40
_rng = np.random.default_rng(0)
X = _rng.standard_normal((N, 2))
Y = X @ [1.0, -1.0] + _rng.standard_normal(N)
YB = (X[:, 0] + _rng.standard_normal(N) > 0).astype(int)


def lin(**kw):
    return MixtureOfLinearExperts(**{"random_state": 0, "max_iter": 20, **kw})


def logi(**kw):
    return MixtureOfLogisticExperts(**{"random_state": 0, "max_iter": 20, "alpha": 0.1, **kw})


def quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def with_value(A, value, where=(3, 1)):
    B = np.array(A, dtype=float)
    B[where] = value
    return B


def finite_fit(est) -> bool:
    parts = [est.coef_, est.intercept_, est.gate_coef_, est.gate_intercept_, est.loglik_history_]
    parts += [est.objective_history_, np.array([est.loglik_])]
    if hasattr(est, "sigma_"):
        parts.append(est.sigma_)
    return all(np.all(np.isfinite(p)) for p in parts)


# --------------------------------------------------------------------------------------------
# Non-finite values
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_X_y_gate_X(value):
    with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
        lin().fit(with_value(X, value), Y)
    with pytest.raises(ValueError, match=r"Input y contains (NaN|infinity)"):
        lin().fit(X, with_value(Y, value, 3))
    with pytest.raises(ValueError, match=r"Input gate_X contains (NaN|infinity)"):
        lin().fit(X, Y, gate_X=with_value(X, value))
    with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
        logi().fit(with_value(X, value), YB)
    with pytest.raises(ValueError, match=r"Input gate_X contains (NaN|infinity)"):
        logi().fit(X, YB, gate_X=with_value(X, value))
    with pytest.raises(ValueError, match=r"Input y contains (NaN|infinity)"):
        logi().fit(X, with_value(YB, value, 3), n_trials=1)
    with pytest.raises(ValueError, match="n_trials"):
        logi().fit(X, YB, n_trials=with_value(np.ones(N), value, 3))
    with pytest.raises(ValueError, match="init_resp"):
        lin().fit(X, Y, init_resp=with_value(np.full((N, 2), 0.5), value))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_inputs_after_fit(value):
    est = quiet_fit(lin(), X, Y)
    with pytest.raises(ValueError, match="Input X contains"):
        est.predict(with_value(X, value))
    with pytest.raises(ValueError, match="Input y contains"):
        est.loglik_per_sample(X, with_value(Y, value, 3))
    with pytest.raises(ValueError, match="Input y contains"):
        est.loglik(X, with_value(Y, value, 3))
    with pytest.raises(ValueError, match="Input gate_X contains"):
        est.gate_proba(with_value(X, value))
    sep = quiet_fit(lin(), X, Y, gate_X=X[:, :1])
    with pytest.raises(ValueError, match="Input gate_X contains"):
        sep.predict(X, gate_X=with_value(X[:, :1], value, (3, 0)))
    clf = quiet_fit(logi(), X, YB)
    with pytest.raises(ValueError, match="Input X contains"):
        clf.predict_proba(with_value(X, value))


def test_overflowing_y_is_an_error_for_gradient_methods_only():
    # Gradient methods fit y as given; exact EM scales it (tests/test_reliability.py).
    for algorithm in ("gd", "gradient_em"):
        with pytest.raises(ValueError, match="y is too large in magnitude for algorithm="):
            lin(algorithm=algorithm).fit(X, Y * 1e300)
        with pytest.raises(ValueError, match="y is too small in magnitude for algorithm="):
            lin(algorithm=algorithm).fit(X, Y * 1e-300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert np.isfinite(lin().fit(X, Y * 1e300).loglik_)
    # The low-level gradient steps check it as well (they would return NaN).
    from moe_lib import LinearExperts, gd_step, gradient_em_step, make_data, random_params, run

    family = LinearExperts()
    params = random_params(family, 2, 3, 3, np.random.default_rng(0))
    for scale, word in ((1e-300, "small"), (1e300, "large")):
        data = make_data(X, Y * scale)
        for step in (gd_step, gradient_em_step):
            with pytest.raises(ValueError, match=f"y is too {word} in magnitude for algorithm="):
                step(family, data, params)
        with pytest.raises(ValueError, match=f"y is too {word} in magnitude for algorithm='gd'"):
            run(family, data, init_params=params, algorithm="gd")


# --------------------------------------------------------------------------------------------
# Shapes and lengths
# --------------------------------------------------------------------------------------------
def test_mismatched_lengths():
    with pytest.raises(ValueError, match="X and y have inconsistent numbers of samples"):
        lin().fit(X, Y[:-1])
    # score names them too (scikit-learn's message lists two numbers).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = lin(max_iter=5).fit(X, Y)
        clf = MixtureOfLogisticExperts(alpha=1.0, max_iter=5).fit(X, Y > 0)
    with pytest.raises(ValueError, match="X has 40 rows but y has 10"):
        est.score(X, Y[:10])
    with pytest.raises(ValueError, match="X has 40 rows but y has 10"):
        clf.score(X, (Y > 0)[:10])
    with pytest.raises(ValueError, match="X and y have inconsistent numbers of samples"):
        logi().fit(X[:-1], YB)
    with pytest.raises(ValueError, match="gate_X has 39 rows but X has 40"):
        lin().fit(X, Y, gate_X=X[:-1])
    with pytest.raises(ValueError, match=r"init_resp must have shape .* got \(39, 2\)"):
        lin().fit(X, Y, init_resp=np.full((N - 1, 2), 0.5))
    with pytest.raises(ValueError, match=r"init_resp must have shape .* got \(40, 3\)"):
        lin().fit(X, Y, init_resp=np.full((N, 3), 1 / 3))
    with pytest.raises(ValueError, match="n_trials must be a scalar or have the shape of y"):
        logi().fit(X, YB, n_trials=np.ones(N - 1))
    est = quiet_fit(lin(), X, Y)
    with pytest.raises(ValueError, match=r"y must have shape \(40,\)"):
        est.loglik_per_sample(X, Y[:-1])


def test_wrong_dimensions():
    with pytest.raises(ValueError, match="X must be a 2-D array .* got a 1-D array"):
        lin().fit(X[:, 0], Y)
    with pytest.raises(ValueError, match="X must be a 2-D array .* got a 3-D array"):
        lin().fit(X[:, :, None], Y)
    with pytest.raises(ValueError, match="X must be a 2-D array .* got a 1-D array"):
        logi().fit(X[:, 0], YB)
    with pytest.raises(ValueError, match="gate_X must be a 2-D array .* got a 1-D array"):
        lin().fit(X, Y, gate_X=X[:, 0])
    with pytest.raises(ValueError, match=r"y should be a 1d array, got .* shape \(40, 2\)"):
        lin().fit(X, np.c_[Y, Y])
    with pytest.raises(ValueError, match=r"y should be a 1d array, got .* shape \(40, 2\)"):
        logi().fit(X, np.c_[YB, YB])
    est = quiet_fit(lin(), X, Y)
    with pytest.raises(ValueError, match="X must be a 2-D array .* got a 1-D array"):
        est.predict(X[0])
    with pytest.raises(ValueError, match="X has 3 features, but MixtureOfLinearExperts"):
        est.predict(np.c_[X, X[:, 0]])
    with pytest.raises(ValueError, match="gate_X must be a 2-D array"):
        est.gate_proba(X[:, 0])
    with pytest.raises(ValueError, match="gate_X has 1 features, but the gate expects 2"):
        est.gate_proba(X[:, :1])
    with pytest.raises(ValueError, match="gate_X must be None: this model's gate was fitted on X"):
        est.predict(X, gate_X=X)


UNNAMED_BY_SKLEARN = [  # (scikit-learn's own messages for these name neither X nor y)
    ("strings in X", lambda: lin().fit([["a", "b"], ["c", "d"]], [1.0, 2.0]),
     ValueError, r"^X is not valid input: could not convert string"),
    ("ragged X", lambda: lin().fit([[1.0, 2.0], [3.0]], [1.0, 2.0]),
     ValueError, r"^X is not valid input: setting an array element"),
    ("empty X", lambda: lin().fit(np.zeros((0, 2)), np.zeros(0)),
     ValueError, r"^X is not valid input: Found array with 0 sample"),
    ("X without columns", lambda: lin().fit(np.zeros((5, 0)), np.arange(5.0)),
     ValueError, r"^X is not valid input: Found array with 0 feature"),
    ("complex X", lambda: lin().fit(X + 1j, Y),
     ValueError, r"(?s)^X is not valid input: Complex data not supported.{,200}$"),
    ("complex y", lambda: lin().fit(X, Y + 1j),
     ValueError, r"(?s)^y is not valid input: Complex data not supported.{,200}$"),
    ("strings in X at predict time", lambda: quiet_fit(lin(), X, Y).predict([["a", "b"]]),
     ValueError, r"^X is not valid input: could not convert string"),
    ("continuous labels", lambda: logi().fit(X, np.linspace(0.0, 1.0, N)),
     ValueError, r"^y must hold class labels .* Unknown label type: continuous"),
    ("mixed labels", lambda: logi().fit(X, np.array([1, "a"] * (N // 2), dtype=object)),
     ValueError, r"^y must hold class labels .* Unknown label type"),
    ("a string for n_trials", lambda: logi().fit(X, YB, n_trials="3"),
     TypeError, r"^n_trials must hold numbers"),
    ("ragged n_trials", lambda: logi().fit(X, YB, n_trials=[[1], [1, 2]] * (N // 2)),
     ValueError, r"^n_trials is not valid input"),
    ("n_trials beyond 2**53", lambda: logi().fit(X, YB, n_trials=2**60),
     ValueError, r"^n_trials must be at most 2\*\*53"),
    ("ragged y", lambda: lin().fit(X[:3], [[1.0], [2.0, 3.0], [1.0]]),
     ValueError, r"^y is not valid input: setting an array element"),
    ("strings in gate_X", lambda: lin().fit(X, Y, gate_X=[["a", "b"]] * N),
     ValueError, r"^gate_X is not valid input: could not convert"),
    ("complex gate_X", lambda: lin().fit(X, Y, gate_X=X + 1j),
     ValueError, r"(?s)^gate_X is not valid input: Complex data not supported.{,200}$"),
    ("strings in init_resp", lambda: lin().fit(X, Y, init_resp=[["a", "b"]] * N),
     ValueError, r"^init_resp is not valid input: could not convert"),
    ("strings as y to score", lambda: quiet_fit(lin(), X, Y).score(X[:2], np.array(["a", "b"])),
     TypeError, r"^y must hold numbers"),
]


@pytest.mark.parametrize(("case", "fit", "error", "pattern"), UNNAMED_BY_SKLEARN,
                         ids=[c[0] for c in UNNAMED_BY_SKLEARN])
def test_errors_name_the_input_at_fault(case, fit, error, pattern):
    with pytest.raises(error, match=pattern):
        fit()


def test_subnormal_columns_are_an_error():
    """A column of ~1e-310 (below the smallest normal float) made the standardisation's
    reciprocal scale overflow: infinite coefficients, reported as converged. Columns down to
    1e-300 fit as the unscaled ones do (tests/test_reliability.py)."""
    tiny = X * [1.0, 1e-310]
    with pytest.raises(ValueError, match="X column 1 holds only subnormal values"):
        lin().fit(tiny, Y)
    with pytest.raises(ValueError, match="X column 1 holds only subnormal values"):
        logi().fit(tiny, YB)
    with pytest.raises(ValueError, match="gate_X column 0 holds only subnormal values"):
        lin().fit(X, Y, gate_X=X[:, :1] * 1e-310)
    with pytest.raises(ValueError, match="X column 1 holds only subnormal values"):
        fit_moe(LinearExperts(), make_data(tiny, Y), 2, random_state=0)
    est = quiet_fit(lin(), X * [1.0, 1e-300], Y)
    assert np.all(np.isfinite(est.coef_))
    # A subnormal value to predict at is no error: only fitting needs the column's scale.
    assert np.all(np.isfinite(quiet_fit(lin(), X, Y).predict([[1e-310, 0.5]])))


def test_not_fitted():
    for method in ("predict", "gate_proba"):
        with pytest.raises(NotFittedError):
            getattr(lin(), method)(X)
    with pytest.raises(NotFittedError):
        lin().loglik(X, Y)


# --------------------------------------------------------------------------------------------
# Hyperparameters
# --------------------------------------------------------------------------------------------
BAD_HYPERPARAMETERS = [
    ("n_experts", 1),
    ("n_experts", 0),
    ("n_experts", 2.5),
    ("n_experts", 2.0),
    ("n_experts", True),
    ("n_experts", "2"),
    ("algorithm", "newton"),
    ("algorithm", None),
    ("step_size", 0.0),
    ("step_size", -1.0),
    ("step_size", np.nan),
    ("step_size", np.inf),
    ("max_iter", 0),
    ("max_iter", 1.5),
    ("tol", -1e-8),
    ("tol", np.nan),
    ("tol", np.inf),
    ("n_init", 0),
    ("n_init", 1.0),
    ("alpha", -1.0),
    ("alpha", np.inf),
    ("alpha", np.nan),
    ("alpha", "1"),
    ("fit_intercept", 1),
    ("fit_intercept", "yes"),
    ("fit_intercept", None),
    ("random_state", "abc"),
    ("random_state", 1.5),
    ("random_state", -1),
]


@pytest.mark.parametrize("cls", [MixtureOfLinearExperts, MixtureOfLogisticExperts])
@pytest.mark.parametrize(("name", "value"), BAD_HYPERPARAMETERS)
def test_bad_hyperparameters(cls, name, value):
    est = cls(max_iter=5).set_params(**{name: value})
    y = Y if cls is MixtureOfLinearExperts else YB
    # scikit-learn's parameter validation ("The 'alpha' parameter of ... must be ...") or ours.
    with pytest.raises(ValueError, match=rf"^({name} must|The '{name}' parameter of \w+ must)"):
        est.fit(X, y)


def test_more_experts_than_samples():
    with pytest.raises(ValueError, match="n_experts=41 must not exceed n_samples = 40"):
        lin(n_experts=N + 1).fit(X, Y)


# --------------------------------------------------------------------------------------------
# Labels, counts and classes
# --------------------------------------------------------------------------------------------
def test_counts_and_trials():
    with pytest.raises(ValueError, match=r"y must not exceed n_trials: y\[\d+\] = 2"):
        logi().fit(X, 2 * YB, n_trials=1)  # "binary" labels outside {0, 1}
    with pytest.raises(ValueError, match="y must not exceed n_trials"):
        logi().fit(X, 3 * YB, n_trials=np.full(N, 2))
    with pytest.raises(ValueError, match="y must hold whole-number counts >= 0"):
        logi().fit(X, -YB, n_trials=2)
    with pytest.raises(ValueError, match="y must hold whole-number counts >= 0"):
        logi().fit(X, YB + 0.5, n_trials=2)
    for bad in (2.5, 0, -1, np.full(N, 1.5)):
        with pytest.raises(ValueError, match="n_trials must hold whole numbers >= 1"):
            logi().fit(X, YB, n_trials=bad)
    # only one outcome: the binomial analogue of one class
    with pytest.raises(ValueError, match="y has only one outcome: every count is 0"):
        logi().fit(X, np.zeros(N), n_trials=3)
    with pytest.raises(ValueError, match="y has only one outcome: every count is equal to n_t"):
        logi().fit(X, np.full(N, 3), n_trials=3)
    # labels are classes without n_trials: {3, 7} is a legal binary problem
    est = quiet_fit(logi(), X, np.where(YB == 1, 7, 3))
    assert list(est.classes_) == [3, 7] and finite_fit(est)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        logi().fit(X, Y)


def test_trials_at_score_time():
    bern = quiet_fit(logi(), X, YB)
    with pytest.raises(ValueError, match="n_trials must be None"):
        bern.loglik(X, YB, n_trials=1)
    binom = quiet_fit(logi(), X, 2 * YB, n_trials=2)
    with pytest.raises(ValueError, match="n_trials is required"):
        binom.loglik(X, 2 * YB)
    with pytest.raises(ValueError, match="y must not exceed n_trials"):
        binom.loglik(X, 3 * YB, n_trials=2)
    lin_est = quiet_fit(lin(), X, Y)
    with pytest.raises(ValueError, match="n_trials is only meaningful"):
        lin_est.loglik(X, Y, n_trials=1)


def test_one_class_and_unseen_labels():
    with pytest.raises(ValueError, match="y has only one class"):
        logi().fit(X, np.zeros(N))
    with pytest.raises(ValueError, match="y has only one class"):
        logi().fit(X, np.full(N, "a"))
    est = quiet_fit(logi(), X, np.where(YB == 1, "yes", "no"))
    unseen = np.where(YB == 1, "yes", "maybe")
    for method in ("loglik_per_sample", "loglik", "responsibilities", "aic", "bic"):
        with pytest.raises(ValueError, match="y holds labels not seen in fit"):
            getattr(est, method)(X, unseen)
    multi = quiet_fit(logi(), X, np.digitize(X[:, 0], [-0.5, 0.5]))
    with pytest.raises(ValueError, match="y holds labels not seen in fit"):
        multi.loglik_per_sample(X, np.full(N, 3))


def test_class_with_a_single_sample():
    """Classes come from y, so each has a sample; a class with exactly one is legal."""
    y = np.where(np.arange(N) == 0, 2, YB)
    est = quiet_fit(logi(alpha=1.0), X, y)
    assert est.coef_.shape == (2, 3, 2) and finite_fit(est)
    proba = est.predict_proba(X)
    assert np.all(proba > 0) and np.allclose(proba.sum(axis=1), 1)


# --------------------------------------------------------------------------------------------
# Rank-deficient designs
# --------------------------------------------------------------------------------------------
def test_rank_deficient_designs():
    dup = np.c_[X, X[:, 0]]
    const = np.c_[X, np.full(N, 2.0)]  # collinear with the intercept
    with pytest.raises(ValueError, match="X is rank-deficient"):
        lin().fit(dup, Y)
    with pytest.raises(ValueError, match="X is rank-deficient"):
        lin().fit(const, Y)
    with pytest.raises(ValueError, match="X is rank-deficient"):
        lin(fit_intercept=False).fit(dup, Y)
    with pytest.raises(ValueError, match="X is rank-deficient"):
        lin().fit(X[:2], Y[:2])  # fewer samples than coefficients
    with pytest.raises(ValueError, match=r"gate_X \(the gate design\) is rank-deficient"):
        lin().fit(X, Y, gate_X=dup)
    with pytest.raises(ValueError, match="X is rank-deficient.*alpha > 0"):
        logi(alpha=0.0).fit(dup, YB)
    with pytest.raises(ValueError, match=r"gate_X \(the gate design\) is rank-deficient"):
        logi(alpha=0.0).fit(X, YB, gate_X=dup)
    # linear experts are never penalised, so alpha > 0 does not rescue their design
    with pytest.raises(ValueError, match="X is rank-deficient"):
        lin(alpha=1.0).fit(dup, Y, gate_X=X)


def test_penalty_makes_duplicate_columns_legal():
    """With alpha > 0 the penalised maximiser is unique and splits a duplicated column evenly."""
    est = quiet_fit(logi(alpha=1.0, max_iter=200), np.c_[X, X[:, 0]], YB)
    assert finite_fit(est)
    np.testing.assert_allclose(est.coef_[:, 0], est.coef_[:, 2], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(est.gate_coef_[:, 0], est.gate_coef_[:, 2], rtol=1e-6, atol=1e-8)
    est = quiet_fit(lin(alpha=1.0, max_iter=200), X, Y, gate_X=np.c_[X, X[:, 0]])
    assert finite_fit(est)
    np.testing.assert_allclose(est.gate_coef_[:, 0], est.gate_coef_[:, 2], rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------------------------
# Experts without weight, collapsing variances
# --------------------------------------------------------------------------------------------
def test_init_resp_must_give_every_expert_weight():
    with pytest.raises(ValueError, match="init_resp gives expert 2 no weight"):
        lin().fit(X, Y, init_resp=np.c_[np.ones(N), np.zeros(N)])
    with pytest.raises(ValueError, match="init_resp must be non-negative with rows that sum to 1"):
        lin().fit(X, Y, init_resp=np.c_[np.full(N, 1.5), np.full(N, -0.5)])
    with pytest.raises(ValueError, match="init_resp must be non-negative with rows that sum to 1"):
        lin().fit(X, Y, init_resp=np.full((N, 2), 0.4))


def test_expert_without_weight_during_fitting():
    """An expert whose weight vanishes does not abort the fit: the fit is returned, finite, with
    a warning that names the expert and suggests fewer experts."""
    vanished = r"expert 2 \(index 1\)'s weight vanished .* use fewer experts"
    # responsibilities that are positive but negligible from the start
    tiny = np.c_[np.ones(N), np.full(N, 1e-300)]
    tiny[:, 0] -= tiny[:, 1]
    with pytest.warns(ConvergenceWarning, match=vanished):
        est = lin().fit(X, Y, init_resp=tiny)
    assert finite_fit(est)
    # a gate that gives expert 1 a weight exp(-1000) = 0: the first E-step starves it
    start = MoEParams(
        np.array([[0.0, 0.0, 0.0], [-1000.0, 0.0, 0.0]]), np.zeros((2, 3)), np.ones(2)
    )
    with pytest.warns(ConvergenceWarning, match=vanished):
        est = lin().fit(X, Y, init_params=start)
    assert finite_fit(est)
    np.testing.assert_array_equal(est.coef_[1], 0.0)  # frozen where it lost its data
    start = MoEParams(np.array([[0.0, 0.0, 0.0], [-1000.0, 0.0, 0.0]]), np.zeros((2, 3)))
    with pytest.warns(ConvergenceWarning, match=vanished):
        est = logi().fit(X, YB, init_params=start)
    assert finite_fit(est)


def test_variance_floor_keeps_a_collapsing_expert_finite():
    """Expert 1 interpolates three collinear points exactly: its variance hits the floor."""
    rng = np.random.default_rng(1)
    n = 30
    x = rng.uniform(-2, 2, n)
    y = 0.5 * x + rng.standard_normal(n)
    exact = np.array([0, 10, 20])
    y[exact] = 3 + 2 * x[exact]
    resp = np.tile([1.0, 0.0], (n, 1))
    resp[exact] = [0.0, 1.0]
    est = quiet_fit(
        MixtureOfLinearExperts(max_iter=50),
        x[:, None],
        y,
        gate_X=np.empty((n, 0)),
        init_resp=resp,
    )
    # The floor is relative to a robust scale of y, and a fit that ends on it says so.
    floor = np.sqrt(VARIANCE_FLOOR_RATIO) * robust_scale(y)
    assert finite_fit(est)
    assert any("sits on its floor" in m for m in est.fit_messages_)
    assert np.all(est.sigma_ >= floor * (1 - 1e-12))
    assert est.sigma_.min() == pytest.approx(floor, rel=1e-9)  # the floor is what holds it
    np.testing.assert_allclose(est.coef_[np.argmin(est.sigma_)], [2.0], rtol=1e-8)
    assert np.all(np.diff(est.loglik_history_) >= -1e-9 * (1 + np.abs(est.loglik_history_[1:])))
    # random starts may collapse too; whatever they reach is finite and above the floor
    for seed in range(3):
        est = quiet_fit(
            MixtureOfLinearExperts(n_experts=3, max_iter=100, random_state=seed), x[:, None], y
        )
        assert finite_fit(est) and np.all(est.sigma_ >= floor * (1 - 1e-12))


# --------------------------------------------------------------------------------------------
# init_params
# --------------------------------------------------------------------------------------------
def test_bad_init_params():
    good = MoEParams(np.zeros((2, 3)), np.zeros((2, 3)), np.ones(2))
    with pytest.raises(TypeError, match="init_params must be a moe_lib.MoEParams, got dict"):
        lin().fit(X, Y, init_params={"gate": good.gate})
    with pytest.raises(TypeError, match="init_params must be a moe_lib.MoEParams, got tuple"):
        lin().fit(X, Y, init_params=(good.gate, good.coef, good.sigma))
    with pytest.raises(ValueError, match=r"init_params must have gate shape \(2, 3\)"):
        lin().fit(X, Y, init_params=good.replace(gate=np.zeros((2, 2))))
    # Parameters check their own shapes: one row per expert in coef and sigma.
    with pytest.raises(ValueError, match=r"coef must have one row per expert \(2\)"):
        lin().fit(X, Y, init_params=good.replace(coef=np.zeros((3, 3))))
    with pytest.raises(ValueError, match=r"sigma must have shape \(2\)"):
        lin().fit(X, Y, init_params=good.replace(sigma=np.ones(3)))
    with pytest.raises(ValueError, match="init_params has 3 experts but n_experts=2"):
        lin().fit(X, Y, init_params=MoEParams(np.zeros((3, 3)), np.zeros((3, 3)), np.ones(3)))
    with pytest.raises(ValueError, match=r"coef shape \(2, 2\)"):  # no intercept column
        lin(fit_intercept=False).fit(X, Y, init_params=good)
    for sigma in (
        None,
        np.array([1.0, 0.0]),
        np.array([1.0, np.nan]),
        np.array([1.0, np.inf]),
    ):
        with pytest.raises(ValueError, match="init_params.sigma must hold 2 finite positive"):
            lin().fit(X, Y, init_params=good.replace(sigma=sigma))
    with pytest.raises(ValueError, match="init_params must hold finite gate and coef values"):
        lin().fit(X, Y, init_params=good.replace(coef=np.full((2, 3), np.nan)))
    with pytest.raises(ValueError, match="init_params must hold finite gate and coef values"):
        lin().fit(X, Y, init_params=good.replace(gate=np.array([[0, 0, 0], [np.inf, 0, 0]])))
    with pytest.raises(ValueError, match="init_params.gate row 0 must be zero"):
        lin().fit(X, Y, init_params=good.replace(gate=np.ones((2, 3))))
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    multi = MoEParams(np.zeros((2, 3)), np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match=r"init_params.coef\[:, 0, :\] must be zero"):
        logi().fit(X, y3, init_params=multi)
    with pytest.raises(ValueError, match=r"init_params must have .* coef shape \(2, 3, 3\)"):
        logi().fit(X, y3, init_params=MoEParams(np.zeros((2, 3)), np.zeros((2, 3))))
    # the good one fits
    assert finite_fit(quiet_fit(lin(), X, Y, init_params=good))
