"""The scikit-learn estimator for mixtures of linear-Gaussian experts."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin

from moe_lib._validation import named
from moe_lib.estimators._base import (
    BaseMixtureOfExperts,
    check_2d,
    check_lengths,
    validate_inputs,
)
from moe_lib.experts import LinearExperts
from moe_lib.gate import gate_log_proba


class MixtureOfLinearExperts(RegressorMixin, BaseMixtureOfExperts):
    """Mixture of linear-Gaussian experts with a softmax gate.

    ``y | x, z=k ~ N(x^T beta_k + b_k, sigma_k^2)``, ``P(z=k | g) = softmax_k(g^T w_k + c_k)`` with
    expert 0 as the gate's reference (``w_0 = 0``, ``c_0 = 0``), fitted by exact EM (default),
    gradient EM or gradient descent, all ascending the same penalised log-likelihood.

    Parameters
    ----------
    n_experts : int, default=2
        Number of experts K >= 2.
    algorithm : {"em", "gradient_em", "gd"}, default="em"
        Exact EM; one gradient step on Q per iteration with per-block curvature steps; or gradient
        ascent on the log-likelihood.
    step_size : float, optional
        Gradient methods only. For "gd" the step on the per-sample objective (default: the inverse
        of the largest block curvature bound, recomputed each iteration); for "gradient_em" a
        multiplier of the per-block steps (default 1).
    max_iter : int, default=500
        Bound on iterations (M-steps); a fit that reaches it says so in a
        ``ConvergenceWarning``. The fits that reach it are mostly ones that would not converge in
        many more: an overspecified mixture, whose EM converges sublinearly, or experts
        collapsing one after another onto tied values of ``y``.
    max_passes : float or None, default=200000
        Bound on each start's cost in passes over the data (a pass: one product of the design
        with a vector; ``passes_`` holds each iteration's; ``n_init`` starts cost up to
        ``n_init`` times as much). An iteration costs a few passes with two linear experts and
        thousands with ten multinomial experts of ten classes, so this, with ``max_iter``, bounds
        every start to seconds at the largest sizes the library is benchmarked on (10,000 rows,
        20 features, 10 experts; ``benchmarks/README.md``). A start that reaches it says so in a
        ``ConvergenceWarning``; ``None``: no bound.
    tol : float, default=1e-10
        Stop when the last increase of the objective, and its Aitken extrapolation, are below
        ``tol`` per sample (for binomial counts, not below the objective's rounding, which grows
        with the counts; see :func:`moe_lib.fit.has_converged`).
    n_init : int, default=1
        Seeded random starts (random responsibilities); the best objective is kept. Ignored
        when ``fit`` is given ``init_resp`` or ``init_params`` (one given start).
    random_state : int, numpy Generator, RandomState or None
        Seed of the random starts.
    fit_intercept : bool, default=True
        Add an (unpenalised) intercept to the experts and to the gate.
    alpha : float, default=0.0
        L2 penalty on the gate's coefficients (intercepts excluded). Linear experts are never
        penalised; ``alpha`` exists here so that a gate that separates can be regularised. The
        default is the maximum-likelihood fit the book's theory is about: exact EM is then
        independent of the units of ``X`` and ``y`` (a fixed default penalty would not be), and a
        gate whose coefficients run off to infinity (no maximum exists) is detected, stopped and
        reported by a ``ConvergenceWarning`` that suggests ``alpha > 0``.

    Attributes
    ----------
    coef_ : ndarray of shape (K, p)
    intercept_ : ndarray of shape (K,)
    sigma_ : ndarray of shape (K,)
        Noise standard deviations (floored at ``1e-4`` times the robust scale of ``y``,
        :func:`moe_lib.scaling.robust_scale`).
    gate_coef_ : ndarray of shape (K, q)
        Row 0 is zero (reference expert).
    gate_intercept_ : ndarray of shape (K,)
    loglik_ : float
        Total log-likelihood at the fit, nats.
    loglik_history_, objective_history_ : ndarray of shape (n_iter_,)
        Log-likelihood and penalised objective after each M-step.
    passes_ : ndarray
        Each iteration's cost in passes over the data, one entry per iteration (``passes`` of
        :class:`~moe_lib.result.FitResult`).
    n_iter_ : int
    converged_ : bool
    init_objectives_ : ndarray of shape (n_init,)
        Final objective of every start.
    fit_messages_ : list of str
        The diagnostics of the fit (also issued as ``ConvergenceWarning``).
    params_ : MoEParams
        The parameters on the designs (intercept column first), for the low-level API.

    Examples
    --------
    >>> from moe_lib import MixtureOfLinearExperts, load_tonedata
    >>> X, y = load_tonedata(return_X_y=True)
    >>> est = MixtureOfLinearExperts(n_experts=2, random_state=0).fit(X, y)
    >>> round(est.loglik_, 3), est.coef_.shape
    (142.848, (2, 1))
    """

    def fit(self, X, y, gate_X=None, init_resp=None, init_params=None):
        """Fit the mixture.

        Parameters
        ----------
        X : array-like of shape (n, p)
            Expert covariates.
        y : array-like of shape (n,)
            Responses.
        gate_X : array-like of shape (n, q), optional
            Gate covariates; ``None`` uses ``X``; shape (n, 0) gives constant mixing weights.
        init_resp : array-like of shape (n, K), optional
            Start from these responsibilities: the first iteration is an M-step from them.
        init_params : MoEParams, optional
            Start from these parameters (on the designs, intercept column first).

        Returns
        -------
        self
        """
        self._check_hyperparameters()
        check_2d(X, "X")
        check_lengths(X, y)
        _check_numeric_y(y)
        X, y = validate_inputs(self, X, y, dtype=float, y_numeric=True)
        if np.ptp(y) == 0 and y.size > self.n_experts:
            raise ValueError(
                f"y is constant (every value is {y[0]:g}): a mixture of linear experts would fit "
                "it exactly with zero variance, an unbounded likelihood; there is nothing to fit"
            )
        G = self._gate_array(X, gate_X, fitting=True)
        self._fit_family(LinearExperts(), X, y, G, None, init_resp, init_params)
        self.sigma_ = self.params_.sigma.copy()
        return self

    def score(self, X, y, sample_weight=None) -> float:
        """R^2 of :meth:`predict` (scikit-learn's regressor score)."""
        check_lengths(X, y)  # (scikit-learn's own message does not say which is which)
        _check_numeric_y(y)
        return super().score(X, y, sample_weight=sample_weight)

    def predict(self, X, gate_X=None) -> np.ndarray:
        """Conditional mean ``E[y | x] = sum_k pi_k(g) (x^T beta_k + b_k)``, shape (n,)."""
        Xd, Gd = self._design(X, gate_X)
        pi = np.exp(gate_log_proba(Gd, self.params_.gate))
        return np.sum(pi * self.family_.expert_mean(Xd, self.params_.coef), axis=1)


def _check_numeric_y(y) -> None:
    """A ``TypeError`` naming y when it holds strings (scikit-learn's message names a dtype)."""
    y = named(lambda: np.asarray(y), "y")
    numeric = y.dtype.kind not in "USa"
    if numeric and y.dtype.kind == "O":
        try:
            y.astype(float)
        except (TypeError, ValueError):
            numeric = False
    if not numeric:
        raise TypeError(
            f"y must hold numbers (a regression response), got {y.dtype} values; for class "
            "labels use MixtureOfLogisticExperts"
        )
