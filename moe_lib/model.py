"""The mixture-of-experts model: parameters, data, E-step, likelihood, penalty and sampling.

Conventions (the book states them as ours):

- designs carry their intercept column explicitly (:func:`add_intercept`); ``penalty_mask`` marks
  which columns the L2 penalty touches (not the intercept);
- the gate's expert 0 is the reference: ``gate[0] == 0``;
- the log-likelihood is the total over samples, in nats, every constant included.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from moe_lib._math import logsumexp, max_last_axis, row_blocks, row_sum
from moe_lib.experts import ExpertFamily
from moe_lib.gating import gate_log_proba


@dataclass(frozen=True)
class MoEParams:
    """Parameters of a mixture of experts (immutable).

    Attributes
    ----------
    gate : ndarray of shape (K, q)
        Gate coefficients on the gate design (intercept column included); row 0 is zero.
    coef : ndarray of shape (K, p) or (K, C, p)
        Expert coefficients on the expert design; multinomial experts have class 0 as reference.
    sigma : ndarray of shape (K,) or None
        Noise standard deviations of linear-Gaussian experts.
    """

    gate: np.ndarray
    coef: np.ndarray
    sigma: np.ndarray | None = None

    @property
    def n_experts(self) -> int:
        return self.gate.shape[0]

    def replace(self, **changes) -> MoEParams:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def copy(self) -> MoEParams:
        return MoEParams(
            self.gate.copy(), self.coef.copy(), None if self.sigma is None else self.sigma.copy()
        )


@dataclass(frozen=True)
class MoEData:
    """A validated data set in design-matrix form.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        Expert design.
    y : ndarray of shape (n,)
        Responses (floats; class codes for multinomial experts).
    gate_X : ndarray of shape (n, q)
        Gate design (may have 0 columns: fixed uniform mixing weights).
    n_trials : ndarray of shape (n,) or None
        Binomial trial counts.
    expert_mask : ndarray of shape (p,)
        1 for penalised expert columns, 0 otherwise.
    gate_mask : ndarray of shape (q,)
        1 for penalised gate columns, 0 otherwise.
    """

    X: np.ndarray
    y: np.ndarray
    gate_X: np.ndarray
    n_trials: np.ndarray | None = None
    expert_mask: np.ndarray = field(default=None)  # type: ignore[assignment]
    gate_mask: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.expert_mask is None:
            object.__setattr__(self, "expert_mask", np.ones(self.X.shape[1]))
        if self.gate_mask is None:
            object.__setattr__(self, "gate_mask", np.ones(self.gate_X.shape[1]))

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]


def add_intercept(X: np.ndarray) -> np.ndarray:
    """Prepend a column of ones: (n, p) -> (n, p + 1)."""
    X = np.asarray(X, dtype=float)
    return np.hstack([np.ones((X.shape[0], 1)), X])


def make_data(
    X: np.ndarray,
    y: np.ndarray,
    gate_X: np.ndarray | None = None,
    *,
    n_trials: np.ndarray | None = None,
    fit_intercept: bool = True,
) -> MoEData:
    """Build :class:`MoEData` from raw features, adding intercept columns when asked.

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
    gate_X : array-like of shape (n, q), optional
        Gate covariates; ``None`` uses ``X``; shape (n, 0) gives constant mixing weights.
    n_trials : array-like of shape (n,), optional
    fit_intercept : bool
        Prepend an (unpenalised) intercept column to both designs.
    """
    X = np.asarray(X, dtype=float)
    gX = X if gate_X is None else np.asarray(gate_X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-dimensional, got shape {X.shape}")
    if gX.ndim != 2 or gX.shape[0] != X.shape[0]:
        raise ValueError(f"gate_X must have shape (n_samples={X.shape[0]}, q), got {gX.shape}")
    y = np.asarray(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
    if fit_intercept:
        X, gX = add_intercept(X), add_intercept(gX)
        emask = np.r_[0.0, np.ones(X.shape[1] - 1)]
        gmask = np.r_[0.0, np.ones(gX.shape[1] - 1)]
    else:
        emask, gmask = np.ones(X.shape[1]), np.ones(gX.shape[1])
    nt = None if n_trials is None else np.asarray(n_trials, dtype=float)
    return MoEData(X, y, gX, nt, emask, gmask)


def joint_log_prob(family: ExpertFamily, data: MoEData, params: MoEParams) -> np.ndarray:
    """``log pi_k(x_i) + log p(y_i | x_i, z=k)``, shape (n, K)."""
    joint = gate_log_proba(data.gate_X, params.gate)
    joint += family.log_prob(data.X, data.y, data.n_trials, params.coef, params.sigma)
    return joint


def e_step(family: ExpertFamily, data: MoEData, params: MoEParams) -> tuple[np.ndarray, float]:
    """Responsibilities and total log-likelihood at ``params``.

    Returns
    -------
    resp : ndarray of shape (n, K)
        ``P(z_i = k | x_i, y_i)``, a softmax of the joint log-probabilities (log-sum-exp).
    loglik : float
        ``sum_i log p(y_i | x_i)`` in nats.
    """
    # Row block by row block (the blocks' temporaries stay in cache), in place on each block.
    n, K = data.n_samples, params.n_experts
    resp = np.empty((n, K))
    loglik = 0.0
    for rows in row_blocks(n, max(K, data.X.shape[1], data.gate_X.shape[1])):
        block = joint_log_prob(family, _rows_of(data, rows), params)
        shift = max_last_axis(block)
        shift = np.where(np.isfinite(shift), shift, 0.0)
        block -= shift
        np.exp(block, out=block)
        total = row_sum(block)
        block /= total[:, None]
        resp[rows] = block
        loglik += float(np.sum(np.log(total) + shift[:, 0]))
    return resp, loglik


def _rows_of(data: MoEData, rows: slice) -> MoEData:
    """The samples ``rows`` of ``data`` (views, no copies)."""
    trials = None if data.n_trials is None else data.n_trials[rows]
    return replace(data, X=data.X[rows], y=data.y[rows], gate_X=data.gate_X[rows], n_trials=trials)


def responsibilities(family: ExpertFamily, data: MoEData, params: MoEParams) -> np.ndarray:
    """Posterior probabilities of the experts, shape (n, K)."""
    return e_step(family, data, params)[0]


def log_likelihood(family: ExpertFamily, data: MoEData, params: MoEParams) -> float:
    """Total log-likelihood ``sum_i log sum_k pi_k(x_i) p(y_i | x_i, z=k)`` in nats."""
    return float(np.sum(logsumexp(joint_log_prob(family, data, params), axis=1)))


def penalty(family: ExpertFamily, data: MoEData, params: MoEParams, alpha: float) -> float:
    """``alpha/2 * (||gate coefs||^2 + ||logistic expert coefs||^2)``, intercepts excluded."""
    if alpha == 0:
        return 0.0
    gate_sq = float(np.sum(data.gate_mask * params.gate**2))
    return 0.5 * alpha * (gate_sq + family.penalty(params.coef, data.expert_mask))


def objective(family: ExpertFamily, data: MoEData, params: MoEParams, alpha: float = 0.0) -> float:
    """The penalised log-likelihood ``loglik - penalty`` that every algorithm ascends."""
    return log_likelihood(family, data, params) - penalty(family, data, params, alpha)


def sample(
    family: ExpertFamily,
    params: MoEParams,
    X: np.ndarray,
    gate_X: np.ndarray,
    rng: np.random.Generator,
    n_trials: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``(y, z)`` from the model at the given *designs* (intercept columns included).

    Returns
    -------
    y : ndarray of shape (n,)
    z : ndarray of shape (n,)
        Expert labels (0-based).
    """
    pi = np.exp(gate_log_proba(gate_X, params.gate))
    u = rng.random(X.shape[0])
    z = np.minimum((np.cumsum(pi, axis=1) < u[:, None]).sum(axis=1), params.n_experts - 1)
    y = family.sample(X, z, params.coef, params.sigma, n_trials, rng)
    return y, z


def random_params(
    family: ExpertFamily,
    n_experts: int,
    n_features: int,
    n_gate_features: int,
    rng: np.random.Generator,
    *,
    scale: float = 1.0,
    sigma: float = 1.0,
) -> MoEParams:
    """Standard-normal parameters times ``scale`` (reference rows zero; ``sigma`` for linear)."""
    gate = scale * rng.standard_normal((n_experts, n_gate_features))
    gate[0] = 0.0
    sig = np.full(n_experts, float(sigma)) if family.has_sigma else None
    raw = scale * rng.standard_normal(family.coef_shape(n_experts, n_features))
    # Round trip through the free coordinates: zeroes reference classes and ties symmetric pairs.
    coef = family.from_free(family.to_free(raw, sig), n_experts, n_features)[0]
    return MoEParams(gate, coef, sig)
