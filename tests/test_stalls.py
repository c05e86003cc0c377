"""Fits that stop short of a maximum are reported, never a silent success (issue 13).

- EM from random responsibilities can stall near the saddle point where two experts coincide:
  its steps shrink, the stopping rule is met, and the fit is the single regression in disguise.
  The experts' log-densities of the observed labels are then alike row by row
  (:func:`moe_lib.diagnostics.duplicate_experts_messages`), which the fit says.
- A gradient method whose steps are too small (a tiny ``step_size``, or a huge ``alpha`` that
  sets the default step for every block) stops changing its objective far from a stationary
  point; one exact EM step from there would still raise the objective, which the fit says.
- Binomial counts of a rare outcome out of 1e9 trials: a gradient tolerance per trial was met
  0.1 away from the M-step's maximiser, and a stopping rule per trial (50 nats here) ended EM
  after two iterations, 2 nats below the one-expert fit, with a false "separable" warning.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import time_limit
from scipy.special import gammaln
from sklearn.exceptions import ConvergenceWarning

from moe_lib import (
    LinearExperts,
    MixtureOfLinearExperts,
    MixtureOfLogisticExperts,
    MoEParams,
    make_data,
)
from moe_lib.diagnostics import DUPLICATE_NATS, duplicate_experts_messages
from moe_lib.regression import fit_weighted_logistic

_time_limit = time_limit(60)


def _step(seed: int = 24, n: int = 400):
    """y jumps from -5 to 5 at x = 0: two flat experts and a steep gate fit it."""
    X = np.linspace(-3, 3, n)[:, None]
    y = np.where(X[:, 0] > 0, 5.0, -5.0) + 0.1 * np.random.default_rng(seed).normal(size=n)
    return X, y


def _least_squares_loglik(X, y):
    design = np.column_stack([np.ones(len(y)), X])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return -0.5 * len(y) * (np.log(2 * np.pi * np.mean(resid**2)) + 1)


@pytest.mark.parametrize("random_state", [0, 2])
def test_em_stalled_where_two_experts_coincide_is_reported(random_state):
    X, y = _step()
    with pytest.warns(ConvergenceWarning, match=r"experts 1 and 2 \(indices 0 and 1\) fit the "
                      r"data alike .* one with 1 expert fewer.* n_init > 1"):
        est = MixtureOfLinearExperts(random_state=random_state).fit(X, y)
    # The stall: the fit is the least-squares line (both experts), to a tenth of a nat.
    assert est.loglik_ == pytest.approx(_least_squares_loglik(X, y), abs=0.1)
    # Restarts find the experts apart, over a thousand nats better, without that message.
    best = MixtureOfLinearExperts(random_state=random_state, n_init=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # (the steep gate's run-off)
        best.fit(X, y)
    assert best.loglik_ > _least_squares_loglik(X, y) + 1000
    assert not any("alike" in m for m in best.fit_messages_)


def test_duplicate_experts_are_named_in_pairs():
    X, y = _step(n=60)
    data, family = make_data(X, y), LinearExperts()
    coef = np.array([[0.0, 2.5], [0.0, -1.0], [0.0, 2.5 + 1e-4]])
    params = MoEParams(np.zeros((3, 2)), coef, np.ones(3))
    msgs = duplicate_experts_messages(family, data, params)
    assert len(msgs) == 1 and msgs[0].startswith("experts 1 and 3 (indices 0 and 2) fit")
    # Experts that differ by more than DUPLICATE_NATS per sample are not named.
    apart = MoEParams(params.gate, np.array([[0.0, 2.5], [0.0, -1.0], [0.0, 3.5]]), np.ones(3))
    logp = family.log_prob(data, apart)
    assert np.sqrt(np.mean((logp[:, 0] - logp[:, 2]) ** 2)) > DUPLICATE_NATS
    assert duplicate_experts_messages(family, data, apart) == []


def test_alike_experts_are_reported_as_one_group():
    X, y = _step(n=60)
    data, family = make_data(X, y), LinearExperts()
    coef = np.array([[0.0, 2.5], [0.0, 2.5 + 1e-4], [0.0, -1.0], [0.0, 2.5 - 1e-4]])
    msgs = duplicate_experts_messages(family, data, MoEParams(np.zeros((4, 2)), coef, np.ones(4)))
    assert len(msgs) == 1, msgs
    assert msgs[0].startswith("experts 1, 2 and 4 (indices 0, 1 and 3) fit the data alike")
    assert "one with 2 experts fewer" in msgs[0]


def test_a_fit_with_distinct_experts_has_no_such_message():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(1000, 2))
    y = np.where(rng.random(1000) < 0.5, X @ [1.0, -1.0] + 1, X @ [-1.0, 0.5] - 1)
    y = y + 0.3 * rng.normal(size=1000)
    for n_experts in (2, 4):  # (four: overspecified, the extra experts split the noise)
        est = MixtureOfLinearExperts(n_experts, random_state=0, max_iter=50)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        assert not any("alike" in m for m in est.fit_messages_), est.fit_messages_


@pytest.mark.parametrize("algorithm", ["gd", "gradient_em"])
def test_a_huge_alpha_does_not_pass_for_convergence_of_a_gradient_method(algorithm):
    """alpha = 1e12 sets the curvature bound, so the default step barely moves the unpenalised
    intercepts: the objective stops changing far from the maximum that exact EM reaches."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2))
    z = rng.random(500) < 1 / (1 + np.exp(-2 * X[:, 0]))
    y = np.where(z, X @ [0.5, -1] + 2, X @ [-1, 0.3] - 2) + 0.3 * rng.normal(size=500)
    em = MixtureOfLinearExperts(alpha=1e12, random_state=0).fit(X, y)
    assert em.converged_
    with pytest.warns(ConvergenceWarning, match=r"short of a stationary point \(an exact EM "
                      r"step from there would still add .* alpha"):
        est = MixtureOfLinearExperts(alpha=1e12, algorithm=algorithm, random_state=0).fit(X, y)
    assert not est.converged_
    assert est.objective_history_[-1] < em.objective_history_[-1] - 0.1


def _rare_counts(n: int = 1000, seed: int = 62):
    """Events at a rate of ~1e-9 (0 to 8 out of 1e9 trials per row), log-linear in x_0."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, rng.poisson(np.exp(0.5 * X[:, 0])).astype(float), np.full(n, 1e9)


def _newton_binomial(D, y, m, iterations=60):
    """The maximum-likelihood coefficients by plain Newton from the pooled rate's intercept."""
    b = np.zeros(D.shape[1])
    b[0] = np.log(y.sum() / (m.sum() - y.sum()))
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-(D @ b)))
        b = b + np.linalg.solve((D * (m * p * (1 - p))[:, None]).T @ D, D.T @ (y - m * p))
    return b


@pytest.mark.parametrize("certain", [False, True])
def test_the_m_step_on_rare_counts_reaches_its_maximiser(certain):
    """Rare events, and their mirror image, near-certain ones (m - y events of rate 1 - 1e-9,
    whose maximiser is the rare one's negated: m p rounds at ~1e-7 of their residuals)."""
    X, y, m = _rare_counts()
    D = np.column_stack([np.ones(len(y)), X])
    exact = _newton_binomial(D, y, m)
    labels, sign = (m - y, -1.0) if certain else (y, 1.0)
    coef, info = fit_weighted_logistic(D, labels, m, np.ones((len(y), 1)), np.zeros((1, 3)))
    assert info.converged
    np.testing.assert_allclose(coef[0], sign * exact, rtol=0, atol=1e-7)


def test_a_mixture_on_rare_counts_is_no_worse_than_one_expert():
    X, y, m = _rare_counts()
    D = np.column_stack([np.ones(len(y)), X])
    b = _newton_binomial(D, y, m)
    eta = D @ b
    one_expert = float(y @ eta - m @ np.logaddexp(0, eta))
    est = MixtureOfLogisticExperts(random_state=0, max_iter=2000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y, n_trials=m)
    assert not [str(w.message) for w in caught if "separable" in str(w.message)]
    log_binom = float(np.sum(gammaln(m + 1) - gammaln(y + 1) - gammaln(m - y + 1)))
    # Two experts can always do what one does; here they do better by several nats.
    assert est.loglik_ > one_expert + log_binom + 1.0, (est.loglik_, one_expert + log_binom)


def test_a_fit_stops_at_its_budget_of_passes_and_says_so():
    """Ten experts of ten classes cost thousands of passes per EM iteration: max_passes bounds
    the fit where max_iter does not (the default bound is MAX_PASSES)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 5))
    y = rng.integers(0, 10, size=2000)
    est = MixtureOfLogisticExperts(5, alpha=1.0, random_state=0, max_passes=2e4)
    with pytest.warns(ConvergenceWarning, match=r"before converging: its iterations have cost "
                      r".* passes over the data, the bound max_passes=20000; increase max_passes"):
        est.fit(X, y)
    assert not est.converged_
    assert np.sum(est.passes_) >= 2e4 > np.sum(est.passes_[:-1])
    longer = MixtureOfLogisticExperts(5, alpha=1.0, random_state=0, max_passes=None, max_iter=40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        longer.fit(X, y)
    assert longer.n_iter_ > est.n_iter_
    # The same iterates up to the budget: it only stops the fit.
    np.testing.assert_allclose(longer.objective_history_[: est.n_iter_],
                               est.objective_history_, rtol=1e-12)


@pytest.mark.parametrize("value", [0, -1.0, "many"])
def test_max_passes_must_be_positive(value):
    with pytest.raises((ValueError, TypeError), match="max_passes"):
        MixtureOfLinearExperts(max_passes=value).fit(*_step(n=40))


def test_counts_so_large_that_the_loglik_rounds_say_so():
    """At 1e13 trials per row the log-likelihood's terms are ~1e13: its rounding is ~10 nats."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 1))
    for trials, warned in ((1e9, False), (1e13, True)):
        y = rng.binomial(np.int64(trials), 1 / (1 + np.exp(-X[:, 0]))).astype(float)
        est = MixtureOfLogisticExperts(random_state=0, max_iter=30)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y, n_trials=trials)
        said = [m for m in est.fit_messages_ if "known to" in m]
        assert bool(said) == warned, est.fit_messages_


def test_a_steep_gate_at_a_finite_maximum_is_not_called_a_runoff():
    """A true gate of slope 15 has log-odds near 60 on the data, past the bar of 50 that flags a
    run-off; the log-likelihood falls when the fitted gate is scaled up (a finite maximum), so no
    warning. Separable labels, where it rises along that ray, still warn (test_separation)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 1))
    z = rng.random(2000) < 1 / (1 + np.exp(-15 * X[:, 0]))
    y = np.where(z, 1 + 2 * X[:, 0], -1 - X[:, 0]) + 0.3 * rng.normal(size=2000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = MixtureOfLinearExperts(random_state=0).fit(X, y)
    assert est.converged_ and not [str(w.message) for w in caught]
    scores = np.abs(np.column_stack([np.ones(2000), X]) @ np.c_[est.gate_intercept_,
                                                               est.gate_coef_].T)
    assert np.max(scores[:, 1] - scores[:, 0]) > 50  # (the bar is crossed)
    assert abs(est.gate_coef_[1, 0] - 15) < 2
