"""Every fit ends in bounded time with an honest result (issue 13).

- A hypothesis property test fits random data of random shapes, scales, numbers of experts and
  families (normal, Cauchy or log-normal features; outliers in X and y, repeated values and
  duplicated rows mixed in) at default settings:
  each fit finishes within :data:`FIT_SECONDS`, with finite parameters, and every diagnostic of
  the fit (not converged, a variance on its floor, an expert without data, a diverging gate) is
  issued as a ``ConvergenceWarning``; or it raises a ``ValueError``/``TypeError`` that names the
  offending argument.
- A scale-invariance property test: multiplying ``y`` and the columns of ``X`` by factors in
  ``[1e-150, 1e150]`` gives the same responsibilities (to 1e-6) and the same log-likelihood up
  to the Jacobian ``-n log c_y``, with or without an intercept; so does multiplying ``y`` alone,
  or the columns of ``X`` alone, by ``1e-300`` to ``1e300`` (exact EM scales them itself).
- One test per case of the issue: a gate that runs off (bounded time, a warning suggesting
  ``alpha > 0``), one gross outlier (the variance floor is not inflated), repeated values of
  ``y`` (a collapse onto them is reported), constant ``y`` (an error), a diverging gradient method
  (never converged, the best iterate returned, the step size named), timestamps and
  ``1e-9``-scaled features, the low-level API's checks, poor inputs that now name their argument.
"""

from __future__ import annotations

import re
import time
import warnings
from functools import partial

import numpy as np
import pytest
from conftest import time_limit
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from moe_lib import (
    LinearExperts,
    LogisticExperts,
    MixtureOfLinearExperts,
    MixtureOfLogisticExperts,
    MoEParams,
    em_step,
    fit_moe,
    make_data,
    run,
)
from moe_lib.experts.linear import robust_scale

#: Each fit of the property test must end within this many seconds (the largest measured fit
#: time is printed with ``pytest -s``).
FIT_SECONDS = 20
_time_limit = time_limit(300, "a reliability test ran for minutes")

#: Words that show an error message names the argument it is about.
ARGUMENTS = re.compile(r"\b(X|y|gate_X|n_trials|n_experts|init_resp|init_params|alpha)\b")

MAX_FIT_SECONDS = [0.0]
#: The fits are slow to shrink (minutes); a failing example is reported as drawn.
NO_SHRINK = [Phase.explicit, Phase.reuse, Phase.generate]


def _fit_and_check(est, X, y, **fit_kw):
    """Fit; check bounded time, finiteness and that every diagnostic was warned about."""
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y, **fit_kw)
        except (ValueError, TypeError) as err:
            assert ARGUMENTS.search(str(err)), f"error does not name its argument: {err}"
            return None
    elapsed = time.perf_counter() - start
    MAX_FIT_SECONDS[0] = max(MAX_FIT_SECONDS[0], elapsed)
    assert elapsed < FIT_SECONDS, f"fit took {elapsed:.1f} s"
    said = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    for part in (est.coef_, est.intercept_, est.gate_coef_, est.gate_intercept_):
        assert np.all(np.isfinite(part))
    assert np.isfinite(est.loglik_)
    if hasattr(est, "sigma_"):
        assert np.all(est.sigma_ > 0) and np.all(np.isfinite(est.sigma_))
    for message in est.fit_messages_:
        assert message in said, f"not warned: {message}"
    if not est.converged_:
        assert said, "a fit that did not converge must say so"
    return est


@st.composite
def hostile_problems(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    family = draw(st.sampled_from(["linear", "binary", "binomial", "multinomial"]))
    n = draw(st.integers(8, 300))
    d = draw(st.integers(1, 5))
    K = draw(st.integers(2, 5))
    tails = draw(st.sampled_from(["normal", "cauchy", "lognormal"]))
    X = {"normal": rng.standard_normal, "cauchy": rng.standard_cauchy,
         "lognormal": lambda size: rng.lognormal(0.0, 2.0, size)}[tails]((n, d))
    X *= 10.0 ** rng.uniform(-8, 8, size=d)
    if draw(st.booleans()):  # one row far out in one column
        X[n // 2, 0] *= 1e6
    if draw(st.booleans()):  # duplicated rows
        X[: n // 3] = X[0]
    signal = X @ rng.standard_normal(d) / np.std(X, axis=0).clip(1e-300).max()
    kw = {}
    if family == "linear":
        y = np.sin(3 * signal) + 0.1 * rng.standard_normal(n)
        if draw(st.booleans()):  # one gross outlier
            y[0] = 1e6
        if draw(st.booleans()):  # zero-inflated
            y[rng.random(n) < 0.6] = 0.0
        y *= 10.0 ** draw(st.integers(-100, 100))
        est = MixtureOfLinearExperts(n_experts=K, random_state=0)
    elif family == "binary":
        y = (rng.random(n) < 1 / (1 + np.exp(-3 * signal))).astype(int)
        est = MixtureOfLogisticExperts(n_experts=K, random_state=0)
    elif family == "binomial":
        m = rng.integers(1, 6, size=n)
        y = rng.binomial(m, 1 / (1 + np.exp(-signal)))
        kw["n_trials"] = m
        est = MixtureOfLogisticExperts(n_experts=K, random_state=0)
    else:
        C = draw(st.integers(3, 6))
        y = np.digitize(signal + 0.3 * rng.standard_normal(n), np.linspace(-1, 1, C - 1))
        est = MixtureOfLogisticExperts(n_experts=K, random_state=0)
    return est, X, y, kw


@settings(
    max_examples=60, deadline=None, derandomize=True, phases=NO_SHRINK,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(problem=hostile_problems())
def test_every_fit_ends_in_bounded_time_with_an_honest_result(problem):
    est, X, y, kw = problem
    _fit_and_check(est, X, y, **kw)


def test_report_the_largest_fit_time():
    """Printed with ``pytest -s``: the largest fit time of the property test (in this run)."""
    print(f"largest fit time of the property test: {MAX_FIT_SECONDS[0]:.2f} s")
    assert MAX_FIT_SECONDS[0] < FIT_SECONDS


@settings(max_examples=25, deadline=None, derandomize=True, phases=NO_SHRINK)
@given(
    seed=st.integers(0, 2**31 - 1),
    log_cx=st.lists(st.floats(-150, 150), min_size=2, max_size=2),
    log_cy=st.floats(-150, 150),
    fit_intercept=st.booleans(),
    logistic=st.booleans(),
)
def test_fits_are_scale_free(seed, log_cx, log_cy, fit_intercept, logistic):
    rng = np.random.default_rng(seed)
    n = 400
    X = rng.standard_normal((n, 2))
    # A soft gate (the maximum-likelihood gate is finite) and two distinct experts.
    z = rng.random(n) < 1 / (1 + np.exp(-1.5 * X[:, 0]))
    if logistic:
        logit = np.where(z, 1 + 2 * X[:, 1], -1 - 2 * X[:, 1])
        y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        cls, cy, kw = MixtureOfLogisticExperts, 1.0, {"alpha": 0.0}
    else:
        y = np.where(z, 1 + X[:, 1], -1 - 2 * X[:, 1]) + 0.5 * rng.standard_normal(n)
        cls, cy, kw = MixtureOfLinearExperts, 10.0**log_cy, {}
    cx = 10.0 ** np.array(log_cx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = cls(random_state=1, fit_intercept=fit_intercept, **kw).fit(X, y)
        got = cls(random_state=1, fit_intercept=fit_intercept, **kw).fit(
            X * cx, y * cy if not logistic else y
        )
    # Scale-freeness is a property of well-posed fits: separated data (infinite coefficients,
    # reported) have no unique answer to compare.
    assume(ref.converged_ and not ref.fit_messages_)
    ys = y * cy if not logistic else y
    np.testing.assert_allclose(
        got.responsibilities(X * cx, ys), ref.responsibilities(X, y), rtol=0, atol=1e-6
    )
    expected = ref.loglik_ - (n * np.log(cy) if not logistic else 0.0)
    assert got.loglik_ == pytest.approx(expected, rel=1e-8, abs=1e-6 * n)
    np.testing.assert_allclose(got.coef_ * cx, ref.coef_ * (cy if not logistic else 1.0),
                               rtol=1e-5, atol=1e-6 * (cy if not logistic else 1.0))


def _soft_switch(n: int = 300, seed: int = 4):
    """One feature, two linear experts behind a soft gate (a finite maximum exists)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n)
    z = rng.random(n) < 1 / (1 + np.exp(-2 * x))
    return x, np.where(z, 1 + 2 * x, -1 - x) + 0.3 * rng.standard_normal(n)


@pytest.mark.parametrize("factor", [1e-310, 1e-300, 1e-160, 1e160, 1e300])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_y_of_any_finite_scale_gives_the_scaled_fit(factor, fit_intercept):
    x, y = _soft_switch()
    X = x[:, None] if fit_intercept else np.c_[np.ones_like(x), x]
    kw = {"random_state": 0, "fit_intercept": fit_intercept}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = MixtureOfLinearExperts(**kw).fit(X, y)
        got = MixtureOfLinearExperts(**kw).fit(X, y / np.max(np.abs(y)) * factor)
    assert not [str(w.message) for w in caught]  # (no false "on its floor", no overflow)
    c = factor / np.max(np.abs(y))
    np.testing.assert_allclose(got.responsibilities(X, y * c), ref.responsibilities(X, y),
                               atol=1e-9)
    np.testing.assert_allclose(got.sigma_ / c, ref.sigma_, rtol=1e-8)
    assert got.loglik_ + len(y) * np.log(c) == pytest.approx(ref.loglik_, rel=1e-10)


@pytest.mark.parametrize("factor", [1e-300, 1e-160, 1e160, 1e300])
@pytest.mark.parametrize("logistic", [False, True])
def test_columns_of_any_scale_are_not_rank_deficient(factor, logistic):
    x, y = _soft_switch()
    if logistic:  # (labels drawn from the mean as log-odds: not separable, a finite maximum)
        y = (np.random.default_rng(5).random(y.size) < 1 / (1 + np.exp(-y))).astype(int)
    # Fifty EM iterations each: exact EM's iterates are the same, whatever the columns' units.
    cls = partial(MixtureOfLogisticExperts if logistic else MixtureOfLinearExperts,
                  random_state=0, max_iter=50, tol=0.0)
    ones = np.ones_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = cls().fit(x[:, None], y)
        got = cls().fit(x[:, None] * factor, y)
        # Without an intercept, a constant column of that scale is measured as well.
        ref0 = cls(fit_intercept=False).fit(np.c_[ones, x], y)
        got0 = cls(fit_intercept=False).fit(np.c_[ones, x] * factor, y)
    assert got.loglik_ == pytest.approx(ref.loglik_, rel=1e-8)
    assert got0.loglik_ == pytest.approx(ref0.loglik_, rel=1e-8)


def test_y_far_from_zero_keeps_its_digits():
    """y = 1e12 + noise of 1e-3: the residuals of a fit to y itself keep only the noise's last
    digits (an EM step then *decreased* the objective); the intercept absorbs the offset."""
    x, y = _soft_switch()
    far = 1e12 + 1e-3 * y
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = MixtureOfLinearExperts(random_state=0).fit(x[:, None], far)
        # The same data near zero (y's own rounding, a spacing of 1.2e-4 at 1e12, kept: the
        # subtraction is exact).
        ref = MixtureOfLinearExperts(random_state=0).fit(x[:, None], far - 1e12)
    assert not [str(w.message) for w in caught]
    np.testing.assert_allclose(got.sigma_, ref.sigma_, rtol=1e-6)
    # (An intercept near 1e12 is itself a multiple of 1.2e-4.)
    np.testing.assert_allclose(got.intercept_ - 1e12, ref.intercept_, atol=2.5e-4)
    assert got.loglik_ == pytest.approx(ref.loglik_, rel=1e-8)


def test_an_em_decrease_is_not_blamed_on_a_step_size():
    """Exact EM has no step size: a decrease of its objective is reported as what it is."""
    from moe_lib.result import Trace

    trace = Trace(LinearExperts(), scaling=object(), record_path=False, init_params=None)
    params = MoEParams(np.zeros((2, 1)), np.zeros((2, 1)), np.ones(2))
    data = make_data(np.zeros((3, 0)), np.array([0.0, 1.0, 3.0]), fit_intercept=True)
    trace.raw = lambda p: p
    for obj in (10.0, 12.0, 11.0):
        trace.record(params, np.full((3, 2), 0.5), obj, obj, None, 4.0)
    messages = trace.result(data, 0.0, "em", None, [], False).messages
    assert "decreased the objective at iteration 3 by 1 (8.3e-02 of its size)" in messages[0]
    assert "step_size" not in messages[0] and "last iterate (iteration 3)" in messages[0]


def test_binomial_tolerances_are_per_trial():
    """Counts out of 1e9 trials: a row's gradient is ~1e9 times a Bernoulli row's, so a
    tolerance per sample cannot be met (the fit was stopped as "running off"); per trial it is."""
    rng = np.random.default_rng(7)
    n = 400
    X = rng.standard_normal((n, 1))
    z = rng.random(n) < 0.5
    p = 1 / (1 + np.exp(-np.where(z, 1 + X[:, 0], -1 - 2 * X[:, 0])))
    m = 10**9
    y = rng.binomial(m, p)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = MixtureOfLogisticExperts(random_state=0).fit(X, y, n_trials=m)
    assert est.converged_ and not [str(w.message) for w in caught]
    # A fixed point of EM: one more step from the fit moves no parameter.
    again = MixtureOfLogisticExperts(max_iter=1, tol=0.0).fit(X, y, n_trials=m,
                                                                init_params=est.params_)
    np.testing.assert_allclose(again.coef_, est.coef_, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------------------------
# The cases of the issue, one by one
# --------------------------------------------------------------------------------------------
def test_a_runaway_gate_ends_quickly_and_says_use_alpha():
    """Seven linear experts on one feature: the gate becomes a hard switch (no finite maximum)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(800, 1))
    y = np.sin(2 * X[:, 0]) * X[:, 0] + 0.1 * rng.standard_normal(800)
    start = time.perf_counter()
    with pytest.warns(ConvergenceWarning, match="alpha > 0"):
        est = MixtureOfLinearExperts(n_experts=7, random_state=0).fit(X, y)
    assert time.perf_counter() - start < FIT_SECONDS
    assert np.all(np.isfinite(est.gate_coef_)) and not est.converged_
    # With a penalty the same fit has a finite maximiser and no such warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pen = MixtureOfLinearExperts(n_experts=7, random_state=0, alpha=1e-3).fit(X, y)
    assert not any("alpha > 0" in str(w.message) for w in caught)
    assert np.abs(pen.gate_coef_).max() < 1e3


def test_one_outlier_does_not_inflate_the_variance_floor():
    rng = np.random.default_rng(1)
    n = 400
    x = rng.standard_normal(n)
    y = np.where(x > 0, 2 * x, -x) + 0.1 * rng.standard_normal(n)
    y[0] = 1e7  # one gross outlier: var(y) ~ 2.5e11, while the noise variance is 1e-2
    floor = np.sqrt(LinearExperts().variance_floor(y))
    assert floor < 1e-3  # relative to a robust scale of y, not to var(y)
    assert floor == pytest.approx(1e-4 * robust_scale(y), rel=1e-12)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est = MixtureOfLinearExperts(n_experts=3, random_state=0, n_init=3).fit(x[:, None], y)
    # The experts of the bulk of the data keep their noise level (0.1); an expert that takes the
    # outlier alone collapses onto it, and that is reported.
    bulk = est.responsibilities(x[:, None], y).sum(axis=0) > 10
    np.testing.assert_allclose(est.sigma_[bulk], 0.1, rtol=0.3)
    if not bulk.all():
        assert any("sits on its floor" in str(w.message) for w in caught)


@pytest.mark.parametrize("kind", ["zero-inflated", "all but two zero"])
def test_a_collapse_onto_repeated_values_is_reported(kind):
    rng = np.random.default_rng(2)
    n = 300
    x = rng.standard_normal(n)
    y = 1 + x + 0.5 * rng.standard_normal(n)
    if kind == "zero-inflated":
        y[rng.random(n) < 0.6] = 0.0
    else:
        y[2:] = 0.0
    with pytest.warns(ConvergenceWarning, match="sits on its floor"):
        MixtureOfLinearExperts(n_experts=2, random_state=0).fit(x[:, None], y)


def test_constant_y_is_an_error_that_says_so():
    with pytest.raises(ValueError, match="y is constant"):
        MixtureOfLinearExperts().fit(np.arange(10.0)[:, None], np.zeros(10))


@pytest.mark.parametrize("algorithm", ["gradient_em", "gd"])
def test_a_diverging_gradient_method_is_never_converged(algorithm):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(200)
    y = np.where(x > 0, 2 * x, -x) + 0.2 * rng.standard_normal(200)
    step = 50.0 if algorithm == "gradient_em" else 500.0
    with pytest.warns(ConvergenceWarning, match=rf"step_size={step}"):
        est = MixtureOfLinearExperts(algorithm=algorithm, step_size=step, random_state=0,
                                     max_iter=50).fit(x[:, None], y)
    assert not est.converged_
    assert np.all(np.isfinite(est.sigma_)) and np.all(est.sigma_ < 1e3)
    # The best iterate is returned: its objective is the largest recorded.
    assert est.loglik_ == pytest.approx(np.max(est.loglik_history_), rel=1e-12)


@pytest.mark.parametrize("algorithm", ["gradient_em", "gd"])
def test_a_gradient_method_stopped_by_a_tiny_step_is_never_converged(algorithm):
    """A step of 1e-12 barely moves the objective, which meets the stopping rule on its change;
    the gradient is still far from zero, so the fit is reported, not converged."""
    x, y = _soft_switch()
    with pytest.warns(ConvergenceWarning, match=r"short of a stationary point .* step_size=1e-12"):
        est = MixtureOfLinearExperts(algorithm=algorithm, step_size=1e-12, random_state=0,
                                     max_iter=50).fit(x[:, None], y)
    assert not est.converged_ and est.n_iter_ < 50
    # The default step converges where the rule is met, without that message.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = MixtureOfLinearExperts(algorithm=algorithm, random_state=0, tol=1e-6,
                                     max_iter=5000).fit(x[:, None], y)
    assert est.converged_, [str(w.message) for w in caught]


def test_timestamps_and_tiny_features_are_not_rank_deficient():
    rng = np.random.default_rng(4)
    n = 300
    x = rng.standard_normal(n)
    z = rng.random(n) < 1 / (1 + np.exp(-2 * x))  # a soft gate: a finite maximum exists
    y = np.where(z, 1 + 2 * x, -1 - x) + 0.3 * rng.standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = MixtureOfLinearExperts(random_state=0).fit(x[:, None], y)
        stamps = MixtureOfLinearExperts(random_state=0).fit((1.7e15 + 1e7 * x)[:, None], y)
        tiny = MixtureOfLinearExperts(random_state=0, fit_intercept=False).fit(
            np.c_[np.ones(n), x] * 1e-9, y
        )
        ref0 = MixtureOfLinearExperts(random_state=0, fit_intercept=False)
        ref0.fit(np.c_[np.ones(n), x], y)
    assert stamps.loglik_ == pytest.approx(ref.loglik_, abs=1e-6)
    assert tiny.loglik_ == pytest.approx(ref0.loglik_, abs=1e-6)
    # A truly collinear column is still rank-deficient, whatever its scale.
    with pytest.raises(ValueError, match="X is rank-deficient"):
        MixtureOfLinearExperts().fit(np.c_[x, 1e12 * x], y)


def test_score_on_binomial_counts_raises():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((100, 1))
    m = rng.integers(1, 5, size=100)
    y = rng.binomial(m, 0.4)
    est = MixtureOfLogisticExperts(random_state=0, alpha=0.1).fit(X, y, n_trials=m)
    with pytest.raises(ValueError, match="binomial counts .* use loglik"):
        est.score(X, y)


def test_the_low_level_api_checks_what_the_estimators_check():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((30, 1))
    family = LogisticExperts()
    data = make_data(X, np.where(X[:, 0] > 0, 1, -1))  # labels in {-1, +1}
    with pytest.raises(ValueError, match=r"y must hold binary labels in \{0, 1\}"):
        fit_moe(family, data, 2, random_state=0)
    good = make_data(X, (X[:, 0] > 0).astype(float))
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        fit_moe(family, good, 2, alpha=-1.0)
    with pytest.raises(ValueError, match="n_experts must be an integer >= 1"):
        fit_moe(family, good, 0)
    with pytest.raises(ValueError, match="n_init must be an integer >= 1"):
        fit_moe(family, good, 2, n_init=0)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        fit_moe(family, good, 2, max_iter=0)
    with pytest.raises(ValueError, match="X must hold finite values"):
        make_data(np.array([[np.nan], [1.0]]), [0.0, 1.0])
    resp = np.full((30, 2), 0.5)
    with pytest.raises(ValueError, match="y must hold binary labels"):
        run(family, data, init_resp=resp)
    lin_data = make_data(X, X[:, 0])
    params = run(LinearExperts(), lin_data, init_resp=resp, max_iter=2, tol=None).params
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        em_step(LinearExperts(), lin_data, params, alpha=-0.5)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"n_experts": 0}, "n_experts"),
        ({"n_init": 0}, "n_init"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_poor_hyperparameters_name_themselves(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        MixtureOfLinearExperts(**kwargs).fit(np.arange(10.0)[:, None], np.arange(10.0))


def test_string_y_for_the_regressor_names_y():
    with pytest.raises(TypeError, match="y must hold numbers"):
        MixtureOfLinearExperts().fit(np.arange(4.0)[:, None], np.array(["a", "b", "a", "b"]))


def test_a_gate_whose_log_odds_run_off_stops_em_early():
    """A clean switch between two regimes: the gate's maximum is at infinity. EM stops as soon
    as the gate's log-odds pass fit.RUNOFF_LOGODDS, and says so, instead of iterating on."""
    from moe_lib.fit import RUNOFF_LOGODDS

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(400, 1))
    y = np.where(x[:, 0] < 0, 1.0, -1.0) + 0.01 * rng.normal(size=400)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = MixtureOfLinearExperts(n_experts=2, random_state=0).fit(x, y)
    msgs = [str(w.message) for w in caught]
    assert any("the gate's log-odds reach" in m and "use alpha > 0" in m for m in msgs), msgs
    assert not est.converged_ and est.n_iter_ < est.max_iter
    scores = est.gate_coef_ @ x.T + est.gate_intercept_[:, None]
    assert np.max(np.ptp(scores, axis=0)) > RUNOFF_LOGODDS
    # With a penalty the gate has a finite maximum: no such stop.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MixtureOfLinearExperts(n_experts=2, random_state=0, alpha=1.0).fit(x, y)
    assert not any("log-odds reach" in str(w.message) for w in caught)
