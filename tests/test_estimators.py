"""The estimator contract of MixtureOfLinearExperts and MixtureOfLogisticExperts.

What is checked, and against what:

- scikit-learn's own check suite (one pytest item per check), with no check expected to fail:
  the per-sample log-likelihood is ``loglik_per_sample(X, y)``, not ``score_samples`` (which
  scikit-learn reserves for density estimators of ``X`` alone); the subset and sample-order
  invariances of ``predict``, ``predict_proba``, ``gate_proba``, ``loglik_per_sample(X, y)`` and
  ``responsibilities`` are tested here too;
- every fitted quantity against a computation written in this file from the *public* attributes
  (``coef_``, ``intercept_``, ``sigma_``, ``gate_coef_``, ``gate_intercept_``) with scipy.stats
  densities: log-likelihood, per-sample scores, responsibilities, mixing weights, predictions,
  class probabilities, the penalised objective, AIC/BIC with the documented parameter count;
- the iteration contract: the first iteration from ``init_resp`` is an M-step from it (against
  ``moe_lib.steps.m_step`` and a closed-form weighted least squares), from ``init_params`` an
  EM step from them, the trace is reproduced step by step by a loop of ``em_step``, seeds and
  restarts are reproducible (each start rebuilt from the documented seeding);
- the tone-perception fit is a local maximum: the gradient (``objective_gradient`` and central
  finite differences) vanishes, the finite-difference Hessian is negative definite, and a BFGS
  polish from the fit cannot raise the log-likelihood by more than 1e-6.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import draw_instance, time_limit
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import optimize, stats
from scipy.special import expit, log_softmax, logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from moe_lib import (
    MixtureOfLinearExperts,
    MixtureOfLogisticExperts,
    MoEParams,
    em_step,
    from_free,
    load_tonedata,
    log_likelihood,
    m_step,
    make_data,
    objective_gradient,
    random_resp,
    to_free,
)

#: Every test of this file must finish within this many seconds (a hang fails, not stalls).
TIME_LIMIT = 60

_time_limit = time_limit(TIME_LIMIT)


# --------------------------------------------------------------------------------------------
# 1. scikit-learn's check suite
# --------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(
    [
        MixtureOfLinearExperts(random_state=0),
        # The suite's classification problems (make_blobs) are separable: with alpha = 0 EM then
        # climbs towards infinite coefficients, never meets tol, and runs to max_iter (1000 by
        # default: ~15 s for the suite). The checks test the API, not convergence, so 100 will do.
        MixtureOfLogisticExperts(random_state=0, max_iter=100),
    ],
)
def test_sklearn_check(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------------------------
# Data and fitted models shared by the tests
# --------------------------------------------------------------------------------------------
def _raw(inst):
    """Raw covariates (intercept column dropped), labels and trial counts of an instance."""
    return inst.data.X[:, 1:], inst.data.y, inst.data.n_trials


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


@pytest.fixture(scope="module")
def linear_fit():
    X, y, _ = _raw(draw_instance("linear", 2, 150, 2, seed=1))
    return X, y, _fit(MixtureOfLinearExperts(random_state=0), X, y)


@pytest.fixture(scope="module")
def logistic_fit():
    X, y, _ = _raw(draw_instance("logistic", 2, 150, 2, seed=2, scale=2.0))
    return X, y, _fit(MixtureOfLogisticExperts(random_state=0, alpha=0.1), X, y)


@pytest.fixture(scope="module")
def binomial_fit():
    X, y, m = _raw(draw_instance("binomial", 2, 150, 2, seed=3))
    return X, y, m, _fit(MixtureOfLogisticExperts(random_state=0, alpha=0.1), X, y, n_trials=m)


@pytest.fixture(scope="module")
def multinomial_fit():
    X, y, _ = _raw(draw_instance("multinomial", 2, 150, 2, seed=4, scale=2.0))
    y = np.array([-5, 2, 10])[y.astype(int)]  # arbitrary labels: classes_ must map them
    return X, y, _fit(MixtureOfLogisticExperts(random_state=0, alpha=0.1), X, y)


@pytest.fixture(scope="module")
def separate_gate_fit():
    rng = np.random.default_rng(5)
    n = 150
    X = rng.standard_normal((n, 1))
    G = rng.standard_normal((n, 3))
    z = (G @ [2.0, -1.0, 1.0] + 0.5 * rng.standard_normal(n)) > 0
    y = np.where(z, 1 + 2 * X[:, 0], -1 - X[:, 0]) + 0.3 * rng.standard_normal(n)
    return X, y, G, _fit(MixtureOfLinearExperts(random_state=0), X, y, gate_X=G)


# --------------------------------------------------------------------------------------------
# Independent computations from the public attributes
# --------------------------------------------------------------------------------------------
def manual_gate(est, G):
    """Mixing weights ``softmax_k(g^T w_k + c_k)`` from gate_coef_ and gate_intercept_."""
    return softmax(G @ est.gate_coef_.T + est.gate_intercept_, axis=1)


def manual_log_expert(est, X, y, n_trials=None):
    """``log p(y_i | x_i, z = k)`` from coef_, intercept_ (and sigma_), with scipy.stats."""
    if isinstance(est, MixtureOfLinearExperts):
        mean = X @ est.coef_.T + est.intercept_
        return stats.norm.logpdf(y[:, None], loc=mean, scale=est.sigma_)
    if est.coef_.ndim == 3:  # multinomial: log softmax over classes, pick the observed one
        eta = np.einsum("ip,kcp->ikc", X, est.coef_) + est.intercept_
        codes = np.searchsorted(est.classes_, y)
        return np.take_along_axis(log_softmax(eta, axis=2), codes[:, None, None], axis=2)[..., 0]
    p = expit(X @ est.coef_.T + est.intercept_)
    if n_trials is None:
        codes = np.searchsorted(est.classes_, y)
        return stats.bernoulli.logpmf(codes[:, None], p)
    return stats.binom.logpmf(y[:, None], n_trials[:, None], p)


def manual_scores(est, X, y, G=None, n_trials=None):
    log_pi = np.log(manual_gate(est, X if G is None else G))
    return logsumexp(log_pi + manual_log_expert(est, X, y, n_trials), axis=1)


def manual_n_parameters(est, p, q):
    """The documented count: (K - 1) gate rows, K experts (C - 1 classes each), K variances."""
    K = est.n_experts
    i = 1 if est.fit_intercept else 0
    gate = (K - 1) * (q + i)
    if isinstance(est, MixtureOfLinearExperts):
        return gate + K * (p + i) + K
    n_rows = est.classes_.size - 1 if est.coef_.ndim == 3 else 1
    return gate + K * n_rows * (p + i)


# --------------------------------------------------------------------------------------------
# 2. Batch invariances (what the two expected-failure checks would have verified)
# --------------------------------------------------------------------------------------------
def _outputs(est, X, y, G=None, n_trials=None):
    """Every per-sample output of a fitted estimator, by name."""
    kw = {} if G is None else {"gate_X": G}
    out = {
        "predict": est.predict(X, **kw),
        "gate_proba": est.gate_proba(X if G is None else G),
        "loglik_per_sample": est.loglik_per_sample(X, y, n_trials=n_trials, **kw),
        "responsibilities": est.responsibilities(X, y, n_trials=n_trials, **kw),
    }
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X, **kw)
    return out


def _check_invariance(est, X, y, G, n_trials, idx):
    full = _outputs(est, X, y, G, n_trials)
    sub = _outputs(
        est,
        X[idx],
        y[idx],
        None if G is None else G[idx],
        None if n_trials is None else n_trials[idx],
    )
    for name, value in full.items():
        if name == "predict" and not isinstance(est, MixtureOfLinearExperts):
            assert_array_equal(sub[name], value[idx], err_msg=name)
        else:
            assert_allclose(sub[name], value[idx], rtol=1e-10, atol=1e-12, err_msg=name)


MODELS = ("linear_fit", "logistic_fit", "binomial_fit", "multinomial_fit", "separate_gate_fit")


def _unpack(name, fit):
    if name == "binomial_fit":
        X, y, m, est = fit
        return est, X, y, None, m
    if name == "separate_gate_fit":
        X, y, G, est = fit
        return est, X, y, G, None
    X, y, est = fit
    return est, X, y, None, None


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=15, deadline=None, derandomize=True)
@given(data=st.data())
def test_methods_sample_order_invariance(model, request, data):
    est, X, y, G, m = _unpack(model, request.getfixturevalue(model))
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    idx = np.random.default_rng(seed).permutation(X.shape[0])
    _check_invariance(est, X, y, G, m, idx)


@pytest.mark.parametrize("model", MODELS)
@settings(max_examples=15, deadline=None, derandomize=True)
@given(data=st.data())
def test_methods_subset_invariance(model, request, data):
    est, X, y, G, m = _unpack(model, request.getfixturevalue(model))
    n = X.shape[0]
    size = data.draw(st.integers(1, n), label="size")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    idx = np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))
    _check_invariance(est, X, y, G, m, idx)


# --------------------------------------------------------------------------------------------
# 3. Fitted quantities against independent computations
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
def test_scores_loglik_and_responsibilities_match_manual(model, request):
    est, X, y, G, m = _unpack(model, request.getfixturevalue(model))
    kw = {} if G is None else {"gate_X": G}
    want = manual_scores(est, X, y, G, m)
    scores = est.loglik_per_sample(X, y, n_trials=m, **kw)
    assert scores.shape == (X.shape[0],)
    assert_allclose(scores, want, rtol=1e-10, atol=1e-10)
    # loglik_ is the log-likelihood at the fit, and loglik_per_sample sums to it.
    assert est.loglik_ == pytest.approx(est.loglik(X, y, n_trials=m, **kw), rel=1e-12)
    assert est.loglik_ == pytest.approx(float(np.sum(want)), rel=1e-10)
    assert est.loglik_ == est.loglik_history_[-1]
    # Responsibilities: Bayes' rule on the manual joint, rows summing to 1.
    log_joint = np.log(manual_gate(est, X if G is None else G)) + manual_log_expert(est, X, y, m)
    resp = est.responsibilities(X, y, n_trials=m, **kw)
    assert_allclose(resp.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert_allclose(resp, np.exp(log_joint - want[:, None]), rtol=1e-9, atol=1e-12)
    assert_allclose(est.gate_proba(X if G is None else G), manual_gate(est, X if G is None else G))


@pytest.mark.parametrize("model", MODELS)
def test_gate_reference_expert_and_shapes(model, request):
    est, X, y, G, m = _unpack(model, request.getfixturevalue(model))
    K, p, q = est.n_experts, X.shape[1], (X if G is None else G).shape[1]
    assert est.gate_coef_.shape == (K, q)
    assert est.gate_intercept_.shape == (K,)
    assert np.all(est.gate_coef_[0] == 0) and est.gate_intercept_[0] == 0
    if est.coef_.ndim == 3:
        C = est.classes_.size
        assert est.coef_.shape == (K, C, p) and est.intercept_.shape == (K, C)
        assert np.all(est.coef_[:, 0, :] == 0) and np.all(est.intercept_[:, 0] == 0)
    else:
        assert est.coef_.shape == (K, p) and est.intercept_.shape == (K,)
    if isinstance(est, MixtureOfLinearExperts):
        assert est.sigma_.shape == (K,) and np.all(est.sigma_ > 0)
    assert est.loglik_history_.shape == est.objective_history_.shape == (est.n_iter_,)
    assert est.init_objectives_.shape == (est.n_init,)


def test_linear_predict_is_gate_weighted_expert_means(linear_fit, separate_gate_fit):
    X, y, est = linear_fit
    manual = np.sum(manual_gate(est, X) * (X @ est.coef_.T + est.intercept_), axis=1)
    assert_allclose(est.predict(X), manual, rtol=1e-12, atol=1e-12)
    X, y, G, est = separate_gate_fit
    manual = np.sum(manual_gate(est, G) * (X @ est.coef_.T + est.intercept_), axis=1)
    assert_allclose(est.predict(X, gate_X=G), manual, rtol=1e-12, atol=1e-12)


def test_logistic_predict_proba(logistic_fit, binomial_fit, multinomial_fit):
    for X, est in [(logistic_fit[0], logistic_fit[2]), (binomial_fit[0], binomial_fit[3])]:
        p1 = np.sum(manual_gate(est, X) * expit(X @ est.coef_.T + est.intercept_), axis=1)
        proba = est.predict_proba(X)
        assert proba.shape == (X.shape[0], 2)
        assert_allclose(proba, np.column_stack([1 - p1, p1]), rtol=1e-12, atol=1e-12)
        assert_array_equal(est.predict(X), est.classes_[(p1 > 0.5).astype(int)])
    X, y, est = multinomial_fit
    assert_array_equal(est.classes_, [-5, 2, 10])
    eta = np.einsum("ip,kcp->ikc", X, est.coef_) + est.intercept_
    manual = np.einsum("ik,ikc->ic", manual_gate(est, X), softmax(eta, axis=2))
    proba = est.predict_proba(X)
    assert_allclose(proba, manual, rtol=1e-12, atol=1e-12)
    assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert_array_equal(est.predict(X), est.classes_[np.argmax(manual, axis=1)])
    assert np.mean(est.predict(X) == y) > 0.6  # the fit learned something


def test_labels_are_classes_not_values():
    """Labels {3, 7} are two classes (Bernoulli experts), exactly as labels {0, 1}."""
    X, y, _ = _raw(draw_instance("logistic", 2, 80, 1, seed=6, scale=2.0))
    a = _fit(MixtureOfLogisticExperts(random_state=0, alpha=0.1, max_iter=50), X, y)
    b = _fit(MixtureOfLogisticExperts(random_state=0, alpha=0.1, max_iter=50), X, np.where(y, 7, 3))
    assert_array_equal(b.classes_, [3, 7])
    assert_array_equal(a.coef_, b.coef_)
    assert a.loglik_ == b.loglik_
    assert set(np.unique(b.predict(X))) <= {3, 7}


def test_binomial_loglik_includes_binomial_coefficient(binomial_fit):
    X, y, m, est = binomial_fit
    assert np.max(m) > 1  # the coefficient log C(m, y) is not identically 0
    p = expit(X @ est.coef_.T + est.intercept_)
    manual = logsumexp(
        np.log(manual_gate(est, X)) + stats.binom.logpmf(y[:, None], m[:, None], p), axis=1
    )
    assert est.loglik(X, y, n_trials=m) == pytest.approx(float(np.sum(manual)), rel=1e-11)
    assert est.loglik_ == pytest.approx(float(np.sum(manual)), rel=1e-11)
    # a scalar n_trials broadcasts
    m_max = int(np.max(m))
    assert est.loglik(X, y, n_trials=m_max) == pytest.approx(
        float(
            np.sum(
                logsumexp(
                    np.log(manual_gate(est, X)) + stats.binom.logpmf(y[:, None], m_max, p),
                    axis=1,
                )
            )
        ),
        rel=1e-11,
    )


@pytest.mark.parametrize("model", MODELS)
def test_aic_bic_formulas(model, request):
    est, X, y, G, m = _unpack(model, request.getfixturevalue(model))
    kw = {} if G is None else {"gate_X": G}
    k = manual_n_parameters(est, X.shape[1], (X if G is None else G).shape[1])
    assert est.n_parameters() == k
    ll = float(np.sum(manual_scores(est, X, y, G, m)))
    n = X.shape[0]
    assert est.aic(X, y, n_trials=m, **kw) == pytest.approx(-2 * ll + 2 * k, rel=1e-10)
    assert est.bic(X, y, n_trials=m, **kw) == pytest.approx(-2 * ll + k * np.log(n), rel=1e-10)


def test_aic_bic_parameter_count_without_intercept_and_constant_gate():
    X, y, _ = _raw(draw_instance("linear", 2, 60, 2, seed=7))
    est = _fit(
        MixtureOfLinearExperts(n_experts=3, fit_intercept=False, random_state=0, max_iter=50),
        X,
        y,
        gate_X=np.empty((60, 0)),
    )
    assert est.n_parameters() == manual_n_parameters(est, 2, 0) == 3 * 2 + 3
    est = _fit(
        MixtureOfLinearExperts(n_experts=3, random_state=0, max_iter=50),
        X,
        y,
        gate_X=np.empty((60, 0)),
    )
    assert est.n_parameters() == manual_n_parameters(est, 2, 0) == 2 * 1 + 3 * 3 + 3


# --------------------------------------------------------------------------------------------
# 4. Objective, penalty and monotone traces
# --------------------------------------------------------------------------------------------
def test_objective_history_equals_loglik_history_without_penalty(linear_fit):
    _, _, est = linear_fit
    assert est.alpha == 0
    assert_array_equal(est.objective_history_, est.loglik_history_)


@pytest.mark.parametrize("model", MODELS)
def test_objective_is_loglik_minus_penalty(model, request):
    est, X, y, G, m = _unpack(model, request.getfixturevalue(model))
    alpha = est.alpha
    coefs = np.sum(est.gate_coef_**2)
    if not isinstance(est, MixtureOfLinearExperts):  # linear experts are never penalised
        coefs += np.sum(est.coef_**2)
    assert est.objective_history_[-1] == pytest.approx(
        est.loglik_ - 0.5 * alpha * coefs, rel=1e-12, abs=1e-12
    )


@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("family", ["linear", "logistic", "binomial", "multinomial"])
def test_em_trace_is_monotone(family, alpha):
    # seed 21: no family separates here (separated multinomial fits are slow: see test_separation)
    X, y, m = _raw(draw_instance(family, 3, 150, 2, seed=21))
    cls = MixtureOfLinearExperts if family == "linear" else MixtureOfLogisticExperts
    est = cls(n_experts=3, alpha=alpha, random_state=1, max_iter=200)
    kw = {"n_trials": m} if family == "binomial" else {}
    est = _fit(est, X, y, **kw)
    obj = est.objective_history_
    assert np.all(np.isfinite(obj)) and obj.size >= 2
    assert np.all(np.diff(obj) >= -1e-10 * (1 + np.abs(obj[1:])))
    if alpha == 0:
        assert np.all(np.diff(est.loglik_history_) >= -1e-10 * (1 + np.abs(obj[1:])))


# --------------------------------------------------------------------------------------------
# 5. Seeds, restarts, init_resp, init_params, reproducible traces
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [MixtureOfLinearExperts, MixtureOfLogisticExperts])
def test_same_random_state_same_fit(cls):
    family = "linear" if cls is MixtureOfLinearExperts else "logistic"
    X, y, _ = _raw(draw_instance(family, 2, 100, 2, seed=9))
    a = _fit(cls(random_state=3, n_init=2, max_iter=100), X, y)
    b = _fit(cls(random_state=3, n_init=2, max_iter=100), X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert_array_equal(a.gate_coef_, b.gate_coef_)
    assert_array_equal(a.loglik_history_, b.loglik_history_)
    assert_array_equal(a.init_objectives_, b.init_objectives_)
    c = _fit(cls(random_state=np.random.default_rng(3), n_init=2, max_iter=100), X, y)
    assert_array_equal(a.loglik_history_, c.loglik_history_)


def test_n_init_keeps_the_best_of_the_documented_starts():
    """Start j draws its responsibilities as the j-th ``random_resp`` of ``default_rng(seed)``."""
    X, y, _ = _raw(draw_instance("linear", 3, 90, 1, seed=10))
    n_init, seed, max_iter = 4, 11, 5  # few iterations, so that the starts end apart
    est = _fit(
        MixtureOfLinearExperts(n_experts=3, n_init=n_init, random_state=seed, max_iter=max_iter),
        X,
        y,
    )
    assert est.init_objectives_.shape == (n_init,)
    rng = np.random.default_rng(seed)
    finals = []
    for _ in range(n_init):
        single = _fit(
            MixtureOfLinearExperts(n_experts=3, max_iter=max_iter),
            X,
            y,
            init_resp=random_resp(90, 3, rng),
        )
        finals.append(single.objective_history_[-1])
    assert_allclose(est.init_objectives_, finals, rtol=1e-12)
    assert est.objective_history_[-1] == np.max(est.init_objectives_)
    assert len(np.unique(np.round(finals, 6))) > 1  # the starts really differ here
    # different seeds give different starts
    other = _fit(
        MixtureOfLinearExperts(n_experts=3, n_init=n_init, random_state=seed + 1, max_iter=5),
        X,
        y,
    )
    assert not np.array_equal(other.init_objectives_, est.init_objectives_)


@pytest.mark.parametrize("family", ["linear", "logistic", "multinomial"])
def test_first_iteration_is_m_step_from_init_resp(family):
    inst = draw_instance(family, 2, 100, 2, seed=12)
    X, y, _ = _raw(inst)
    resp = np.random.default_rng(13).dirichlet([1.0, 1.0], size=100)
    cls = MixtureOfLinearExperts if family == "linear" else MixtureOfLogisticExperts
    est = _fit(cls(max_iter=1), X, y, init_resp=resp)
    start = MoEParams(
        np.zeros((2, 3)),
        inst.family.init_coef(2, 3),
        np.ones(2) if inst.family.has_sigma else None,
    )
    params, _ = m_step(inst.family, inst.data, resp, start)
    assert est.n_iter_ == 1
    assert est.loglik_history_[0] == pytest.approx(
        log_likelihood(inst.family, inst.data, params), rel=1e-10
    )
    assert_allclose(est.params_.coef, params.coef, rtol=1e-7, atol=1e-9)
    if family == "linear":
        # closed form: weighted least squares (normal equations) and the weighted variance
        D = inst.data.X
        for k in range(2):
            w = resp[:, k]
            beta = np.linalg.solve(D.T @ (w[:, None] * D), D.T @ (w * y))
            assert_allclose(np.r_[est.intercept_[k], est.coef_[k]], beta, rtol=1e-9)
            var = w @ (y - D @ beta) ** 2 / w.sum()
            assert est.sigma_[k] == pytest.approx(np.sqrt(var), rel=1e-9)

        # gate: soft-label logistic regression of resp[:, 1] on the gate design, by BFGS
        def neg(v):
            eta = D @ v
            return -float(resp[:, 1] @ eta - np.logaddexp(0, eta).sum())

        w_gate = optimize.minimize(neg, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
        assert_allclose(np.r_[est.gate_intercept_[1], est.gate_coef_[1]], w_gate, atol=1e-5)


def test_first_iteration_from_init_params_is_an_em_step(linear_fit):
    X, y, fitted = linear_fit
    data = make_data(X, y)
    rng = np.random.default_rng(14)
    start = MoEParams(
        np.vstack([np.zeros(3), rng.standard_normal(3)]),
        rng.standard_normal((2, 3)),
        np.array([0.7, 1.3]),
    )
    est = _fit(MixtureOfLinearExperts(max_iter=1), X, y, init_params=start)
    want = em_step(fitted.family_, data, start)
    assert_allclose(est.params_.coef, want.coef, rtol=1e-10, atol=1e-12)
    assert_allclose(est.params_.gate, want.gate, rtol=1e-8, atol=1e-10)
    assert est.loglik_history_[0] == pytest.approx(
        log_likelihood(fitted.family_, data, want), rel=1e-12
    )
    # restarting from a converged fit stays there
    again = _fit(MixtureOfLinearExperts(), X, y, init_params=fitted.params_)
    assert again.loglik_ == pytest.approx(fitted.loglik_, rel=1e-9)
    assert again.loglik_ >= fitted.loglik_ - 1e-9 * abs(fitted.loglik_)


# --------------------------------------------------------------------------------------------
# 6. Tone perception data: a local maximum, and a reproducible trace
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tone_fit():
    X, y = load_tonedata(return_X_y=True)
    return X, y, _fit(MixtureOfLinearExperts(random_state=0), X, y)


def test_tonedata_fit_is_a_local_maximum(tone_fit):
    X, y, est = tone_fit
    assert est.converged_
    fam, data = est.family_, make_data(X, y)
    v0 = to_free(fam, est.params_)

    def ll(v):
        return log_likelihood(fam, data, from_free(fam, v, est.params_))

    # the analytic gradient and central differences agree, and both vanish
    grad = objective_gradient(fam, data, est.params_)[0]
    h = 1e-5
    eye = np.eye(v0.size)
    fd = np.array([(ll(v0 + h * e) - ll(v0 - h * e)) / (2 * h) for e in eye])
    assert_allclose(fd, grad, atol=1e-4)
    assert np.max(np.abs(grad)) < 1e-2, grad  # total log-likelihood of 150 points

    # negative-definite Hessian (central differences of the analytic gradient)
    def g(v):
        return objective_gradient(fam, data, from_free(fam, v, est.params_))[0]

    H = np.array([(g(v0 + h * e) - g(v0 - h * e)) / (2 * h) for e in eye])
    H = 0.5 * (H + H.T)
    assert np.max(np.linalg.eigvalsh(H)) < 0
    # a quasi-Newton polish from the fit cannot climb further
    res = optimize.minimize(
        lambda v: -ll(v), v0, jac=lambda v: -g(v), method="BFGS", options={"gtol": 1e-9}
    )
    assert -res.fun - est.loglik_ <= 1e-6
    assert est.loglik_ == pytest.approx(ll(v0), rel=1e-12)


def test_tonedata_trace_from_fixed_init_resp_is_reproducible(tone_fit):
    X, y, _ = tone_fit
    resp = np.column_stack([X[:, 0] < np.median(X[:, 0]), X[:, 0] >= np.median(X[:, 0])])
    resp = 0.8 * resp + 0.1
    a = _fit(MixtureOfLinearExperts(max_iter=40), X, y, init_resp=resp)
    b = _fit(MixtureOfLinearExperts(max_iter=40), X, y, init_resp=resp)
    assert_array_equal(a.loglik_history_, b.loglik_history_)
    assert_array_equal(a.params_.coef, b.params_.coef)
    # ... and a loop of the low-level steps reproduces it iteration by iteration
    fam, data = a.family_, make_data(X, y)
    params, _ = m_step(fam, data, resp, MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2)))
    trace = [log_likelihood(fam, data, params)]
    for _ in range(a.n_iter_ - 1):
        params = em_step(fam, data, params)
        trace.append(log_likelihood(fam, data, params))
    # (the fit carries its inner solves' curvature between iterations: equal to their tolerance)
    assert_allclose(a.loglik_history_, trace, rtol=1e-10)


# --------------------------------------------------------------------------------------------
# 7. Gate designs, intercepts and the gradient algorithms
# --------------------------------------------------------------------------------------------
def test_constant_gate_gives_constant_weights():
    X, y, _ = _raw(draw_instance("linear", 2, 100, 2, seed=15))
    est = _fit(MixtureOfLinearExperts(random_state=0), X, y, gate_X=np.empty((100, 0)))
    assert est.gate_coef_.shape == (2, 0)
    pi = est.gate_proba(np.empty((7, 0)))
    assert pi.shape == (7, 2)
    assert_allclose(pi, np.tile(softmax(est.gate_intercept_), (7, 1)), rtol=1e-14)
    # with constant weights, the gate M-step gives the mean responsibilities (as for a mixture),
    # so at a fixed point of EM the weights are the mean responsibilities
    resp = est.responsibilities(X, y, gate_X=np.empty((100, 0)))
    data = make_data(X, y, np.empty((100, 0)))
    nxt = em_step(est.family_, data, est.params_)
    assert nxt.gate.shape == (2, 1)
    assert_allclose(softmax(nxt.gate[:, 0]), resp.mean(axis=0), rtol=1e-9)
    assert_allclose(pi[0], resp.mean(axis=0), atol=1e-4)
    manual = np.sum(pi[0] * (X @ est.coef_.T + est.intercept_), axis=1)
    assert_allclose(est.predict(X, gate_X=np.empty((100, 0))), manual, rtol=1e-12)


def test_separate_gate_design(separate_gate_fit):
    X, y, G, est = separate_gate_fit
    assert est.n_features_in_ == 1 and est.n_gate_features_in_ == 3
    assert est.coef_.shape == (2, 1) and est.gate_coef_.shape == (2, 3)
    # the fit recovers the two lines (up to the experts' order)
    lines = sorted(zip(est.intercept_, est.coef_[:, 0], strict=True))
    assert_allclose(lines, [(-1.0, -1.0), (1.0, 2.0)], atol=0.2)
    with pytest.raises(ValueError, match="gate_X is required"):
        est.predict(X)
    with pytest.raises(ValueError, match="gate_X has 2 features"):
        est.predict(X, gate_X=G[:, :2])


@pytest.mark.parametrize("cls", [MixtureOfLinearExperts, MixtureOfLogisticExperts])
def test_fit_intercept_false(cls):
    family = "linear" if cls is MixtureOfLinearExperts else "logistic"
    inst = draw_instance(family, 2, 120, 2, seed=16, scale=2.0)
    X, y = inst.data.X[:, 1:], inst.data.y
    est = _fit(
        cls(fit_intercept=False, random_state=0, alpha=0.0 if family == "linear" else 0.1), X, y
    )
    assert_array_equal(est.intercept_, 0.0)
    assert_array_equal(est.gate_intercept_, 0.0)
    assert est.params_.coef.shape == (2, 2)  # no intercept column in the design
    pi = softmax(X @ est.gate_coef_.T, axis=1)
    if family == "linear":
        assert_allclose(est.predict(X), np.sum(pi * (X @ est.coef_.T), axis=1), rtol=1e-12)
    else:
        p1 = np.sum(pi * expit(X @ est.coef_.T), axis=1)
        assert_allclose(est.predict_proba(X)[:, 1], p1, rtol=1e-12)
    assert est.loglik_ == pytest.approx(float(np.sum(manual_scores(est, X, y))), rel=1e-10)
    # the constraint costs likelihood: with intercepts, the fit from the same start is as good
    resp = est.responsibilities(X, y)
    with_int = _fit(cls(random_state=0, alpha=est.alpha), X, y, init_resp=resp)
    assert with_int.objective_history_[-1] >= est.objective_history_[-1] - 1e-8


@pytest.mark.parametrize("algorithm", ["gradient_em", "gd"])
@pytest.mark.parametrize("family", ["linear", "logistic"])
def test_gradient_algorithms_fit_and_improve(family, algorithm):
    X, y, _ = _raw(draw_instance(family, 2, 120, 2, seed=17, scale=2.0))
    cls = MixtureOfLinearExperts if family == "linear" else MixtureOfLogisticExperts
    alpha = 0.0 if family == "linear" else 0.1
    resp = np.random.default_rng(18).dirichlet([1.0, 1.0], size=120)
    est = _fit(cls(algorithm=algorithm, alpha=alpha, max_iter=300), X, y, init_resp=resp)
    em = _fit(cls(alpha=alpha), X, y, init_resp=resp)
    obj = est.objective_history_
    assert np.all(np.isfinite(obj)) and est.n_iter_ > 1
    # the first iterate is the shared M-step from init_resp; the gradient steps then climb
    assert obj[0] == pytest.approx(em.objective_history_[0], rel=1e-12)
    assert obj[-1] > obj[0] + 1.0
    assert obj[-1] <= em.objective_history_[-1] + 1e-6 * abs(em.objective_history_[-1]) or (
        not em.converged_
    )
    assert np.all(np.diff(obj) >= -1e-9 * (1 + np.abs(obj[1:])))
    assert est.loglik_ == pytest.approx(est.loglik(X, y), rel=1e-12)


def test_uniform_init_resp_is_diagnosed_as_the_symmetric_fixed_point():
    """Uniform responsibilities make every expert the same fit; EM cannot leave: say so."""
    X, y = load_tonedata(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="all experts are identical"):
        est = MixtureOfLinearExperts(n_experts=3).fit(X, y, init_resp=np.full((y.size, 3), 1 / 3))
    assert np.allclose(est.coef_, est.coef_[0]) and np.allclose(est.gate_coef_, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MixtureOfLinearExperts(n_experts=2, random_state=0).fit(X, y)
