"""Separation: with ``alpha = 0`` separable data have no finite maximum-likelihood estimate.

The estimators must then finish in bounded time, keep every fitted attribute finite, and say so
with a ``ConvergenceWarning`` that calls the data separable and suggests ``alpha > 0``. With
``alpha > 0`` the same data give finite, moderate penalised coefficients, no such warning, and EM
ascends the penalised objective monotonically.

Tiny data sets, each with a reason to separate:

- *expert separation*: one feature, ``y = 1{x > 0}`` (Bernoulli), ``y = 3 * 1{x > 0}`` with
  ``n_trials = 3`` (binomial), three ordered classes cut at ``x = +-0.7`` (multinomial), and a
  quasi-complete version (two tied points at ``x = 0`` with labels 0 and 1, where the likelihood
  converges to a finite supremum while the slope diverges);
- *gate separation*: two clusters in ``gate_X``, each with its own clean linear relation (linear
  experts; the only separation a linear estimator can have), or each with its own threshold of
  opposite sign (logistic experts: an XOR that no single logistic expert can fit, so the gate must
  switch between experts that each separate their cluster).

Intercepts are never penalised, so with ``alpha > 0`` a direction made only of intercepts (an
expert predicting one label, an expert that the gate switches off) may still have no finite
maximiser: the tests for ``alpha > 0`` therefore check the *penalised* coefficients for
moderation, and use ``fit_intercept=False`` where they check that the penalised maximiser is
reached (gradient ~ 0, a quasi-Newton polish cannot climb).
"""

from __future__ import annotations

import re
import time
import warnings

import numpy as np
import pytest
from conftest import time_limit
from scipy import optimize
from sklearn.exceptions import ConvergenceWarning

from moe_lib import (
    MixtureOfLinearExperts,
    MixtureOfLogisticExperts,
    from_free,
    make_data,
    objective,
    objective_gradient,
    to_free,
)

#: Bound on each fit's wall time, and on each test's (alarm).
FIT_SECONDS = 10
TIME_LIMIT = 40
SEPARABLE = re.compile(r"separa.*alpha > 0")

_time_limit = time_limit(TIME_LIMIT)


# --------------------------------------------------------------------------------------------
# Data sets: name -> (estimator class, X, y, fit keyword arguments)
# --------------------------------------------------------------------------------------------
def _datasets():
    n = 30
    x = np.linspace(-2, 2, n)[:, None]
    out = {
        "expert-bernoulli": (MixtureOfLogisticExperts, x, (x[:, 0] > 0).astype(int), {}),
        "expert-bernoulli-constant-gate": (
            MixtureOfLogisticExperts,
            x,
            (x[:, 0] > 0).astype(int),
            {"gate_X": np.empty((n, 0))},
        ),
        "expert-binomial": (
            MixtureOfLogisticExperts,
            x,
            3.0 * (x[:, 0] > 0),
            {"n_trials": 3},
        ),
        "expert-multinomial": (
            MixtureOfLogisticExperts,
            x,
            np.digitize(x[:, 0], [-0.7, 0.7]),
            {},
        ),
        "expert-quasi-complete": (
            MixtureOfLogisticExperts,
            np.r_[x, [[0.0], [0.0]]],
            np.r_[(x[:, 0] > 0).astype(int), 0, 1],
            {},
        ),
    }
    rng = np.random.default_rng(1)
    m = 40
    g = np.r_[rng.normal(-3, 0.5, m // 2), rng.normal(3, 0.5, m // 2)][:, None]
    xe = rng.standard_normal((m, 1))
    left = g[:, 0] < 0
    y_lin = np.where(left, 1 + 2 * xe[:, 0], -1 - xe[:, 0]) + 0.1 * rng.standard_normal(m)
    out["gate-linear"] = (MixtureOfLinearExperts, xe, y_lin, {"gate_X": g})
    y_xor = np.where(left, xe[:, 0] > 0, xe[:, 0] < 0).astype(int)
    out["gate-logistic-xor"] = (MixtureOfLogisticExperts, xe, y_xor, {"gate_X": g})
    return out


DATA = _datasets()


def fit_recording(est, X, y, **kwargs):
    """Fit, returning the estimator, the ConvergenceWarning messages and the wall time."""
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, **kwargs)
    seconds = time.perf_counter() - t0
    msgs = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    others = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    assert not others, [str(w.message) for w in others]  # no RuntimeWarning (overflow, NaN)
    return est, msgs, seconds


def assert_all_finite(est, X, y, kwargs):
    attrs = [
        "coef_",
        "intercept_",
        "gate_coef_",
        "gate_intercept_",
        "loglik_history_",
        "objective_history_",
        "init_objectives_",
        "sigma_",
    ]
    for name in attrs:
        if hasattr(est, name):
            assert np.all(np.isfinite(getattr(est, name))), name
    assert np.isfinite(est.loglik_)
    gate_kw = {"gate_X": kwargs["gate_X"]} if "gate_X" in kwargs else {}
    trials_kw = {"n_trials": kwargs["n_trials"]} if "n_trials" in kwargs else {}
    assert np.all(np.isfinite(est.predict(X, **gate_kw)))
    assert np.all(np.isfinite(est.loglik_per_sample(X, y, **gate_kw, **trials_kw)))
    assert np.all(np.isfinite(est.responsibilities(X, y, **gate_kw, **trials_kw)))
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X, **gate_kw)
        assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)


def assert_monotone(history):
    assert np.all(np.diff(history) >= -1e-9 * (1.0 + np.abs(history[1:])))


def penalised_coefs(est) -> np.ndarray:
    parts = [est.gate_coef_.ravel()]
    if isinstance(est, MixtureOfLogisticExperts):
        parts.append(est.coef_.ravel())
    return np.concatenate(parts)


# --------------------------------------------------------------------------------------------
# alpha == 0: bounded, finite, and a warning that names separation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(DATA))
def test_em_on_separable_data_warns_and_stays_finite(name):
    cls, X, y, kwargs = DATA[name]
    est, msgs, seconds = fit_recording(cls(random_state=0), X, y, **kwargs)
    assert seconds < FIT_SECONDS
    assert_all_finite(est, X, y, kwargs)
    assert any(SEPARABLE.search(m) for m in msgs), msgs
    assert_monotone(est.loglik_history_)
    # separation is real here: the fit is (nearly) perfect on the separated part (its solve stops
    # once a log-odds passes 500, so the rows nearest the boundary keep a small loss)
    if name.startswith("expert") and name != "expert-quasi-complete":
        assert est.loglik_ > -1e-3
    # ... and the coefficients it reports are large (they are on their way to infinity)
    assert np.max(np.abs(penalised_coefs(est))) > 8


@pytest.mark.parametrize("algorithm", ["gradient_em", "gd"])
@pytest.mark.parametrize("name", ["expert-bernoulli", "gate-linear", "gate-logistic-xor"])
def test_gradient_methods_on_separable_data_stay_finite(name, algorithm):
    cls, X, y, kwargs = DATA[name]
    est, msgs, seconds = fit_recording(
        cls(random_state=0, algorithm=algorithm, max_iter=500), X, y, **kwargs
    )
    assert seconds < FIT_SECONDS
    assert_all_finite(est, X, y, kwargs)
    # The gradient methods creep towards infinity too slowly to be told from slow convergence
    # after 500 steps; they must at least not claim a clean fit.
    assert msgs, "no ConvergenceWarning"
    assert_monotone(est.objective_history_)


def test_separation_warning_texts():
    """The expert and the gate messages, as a reader sees them."""
    cls, X, y, kwargs = DATA["expert-bernoulli"]
    _, msgs, _ = fit_recording(cls(random_state=0), X, y, **kwargs)
    assert any("data look separable" in m and "use alpha > 0" in m for m in msgs), msgs
    cls, X, y, kwargs = DATA["gate-linear"]
    _, msgs, _ = fit_recording(cls(random_state=0), X, y, **kwargs)
    assert any(m.startswith("the gate separates") and "use alpha > 0" in m for m in msgs), msgs


# --------------------------------------------------------------------------------------------
# alpha > 0: moderate, silent, monotone
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(DATA))
def test_penalty_gives_moderate_coefficients_without_warning(name):
    cls, X, y, kwargs = DATA[name]
    est, msgs, seconds = fit_recording(cls(random_state=0, alpha=1.0), X, y, **kwargs)
    assert seconds < FIT_SECONDS
    assert_all_finite(est, X, y, kwargs)
    assert not any(SEPARABLE.search(m) for m in msgs), msgs
    assert est.converged_, msgs
    assert np.max(np.abs(penalised_coefs(est))) < 5
    assert_monotone(est.objective_history_)
    # the recorded objective is the penalised log-likelihood of the fit
    assert est.objective_history_[-1] == pytest.approx(
        est.loglik_ - 0.5 * est.alpha * np.sum(penalised_coefs(est) ** 2), rel=1e-12
    )


@pytest.mark.parametrize("alpha", [0.3, 3.0])
@pytest.mark.parametrize(
    "name", ["expert-bernoulli", "expert-multinomial", "gate-linear", "gate-logistic-xor"]
)
def test_penalised_fit_without_intercepts_is_a_finite_maximum(name, alpha):
    """Every coefficient penalised (and the variance floored): a finite maximiser exists. The fit
    reaches a stationary point that a BFGS polish of the penalised objective cannot improve."""
    cls, X, y, kwargs = DATA[name]
    est, msgs, seconds = fit_recording(
        cls(random_state=0, alpha=alpha, fit_intercept=False), X, y, **kwargs
    )
    assert seconds < FIT_SECONDS and est.converged_ and not msgs
    fam = est.family_
    data = make_data(X, y, kwargs.get("gate_X"), fit_intercept=False)  # y: codes 0..C-1 already
    grad = objective_gradient(fam, data, est.params_, alpha)[0]
    assert np.max(np.abs(grad)) < 1e-3, grad
    v0 = to_free(fam, est.params_)

    def neg(v):
        return -objective(fam, data, from_free(fam, v, est.params_), alpha)

    def neg_grad(v):
        return -objective_gradient(fam, data, from_free(fam, v, est.params_), alpha)[0]

    res = optimize.minimize(neg, v0, jac=neg_grad, method="BFGS", options={"gtol": 1e-9})
    assert -res.fun - est.objective_history_[-1] <= 1e-6
    assert np.max(np.abs(v0[: est.gate_coef_.size])) < 10


def test_penalty_shrinks_monotonically():
    """Larger alpha, smaller penalised coefficients (norm at the fit), on the XOR data."""
    cls, X, y, kwargs = DATA["gate-logistic-xor"]
    norms = []
    for alpha in (0.1, 1.0, 10.0):
        est, _, _ = fit_recording(cls(random_state=0, alpha=alpha), X, y, **kwargs)
        norms.append(np.linalg.norm(penalised_coefs(est)))
    assert norms[0] > norms[1] > norms[2]
