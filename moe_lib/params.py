"""The data types every layer shares: parameters, data, the free vector and the penalty.

Conventions (the book states them as ours, not the paper's):

- designs carry their intercept column explicitly (:func:`add_intercept`); the masks of
  :class:`MoEData` mark which columns the L2 penalty touches (not the intercept);
- the gate's expert 0 is the reference: ``gate[0] == 0``;
- the gradient methods move a *free vector*: the non-reference gate rows, then the expert
  family's free coordinates (``log sigma`` for variances, no reference class, one vector for a
  tied symmetric pair); :func:`to_free` and :func:`from_free` convert.

This module asks the expert family (any object with the methods of
:class:`moe_lib.experts.ExpertFamily`) for its layout; it imports no model code.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from moe_lib._validation import check_array, check_bool, check_real

if TYPE_CHECKING:
    from moe_lib.experts import ExpertFamily


@dataclass(frozen=True)
class MoEParams:
    """Parameters of a mixture of experts (immutable; shapes checked on construction).

    Attributes
    ----------
    gate : ndarray of shape (K, q)
        Gate coefficients on the gate design (intercept column included); row 0 is the
        reference expert's and is zero in a fit.
    coef : ndarray of shape (K, p) or (K, C, p)
        Expert coefficients on the expert design; multinomial experts have class 0 as reference.
    sigma : ndarray of shape (K,) or None
        Noise standard deviations of linear-Gaussian experts.

    Examples
    --------
    >>> import numpy as np
    >>> params = MoEParams(np.zeros((2, 3)), np.ones((2, 3)), np.ones(2))
    >>> params.n_experts
    2
    >>> MoEParams(np.zeros((2, 3)), np.ones((3, 3)))
    Traceback (most recent call last):
    ...
    ValueError: coef must have one row per expert (2), got shape (3, 3)
    """

    gate: np.ndarray
    coef: np.ndarray
    sigma: np.ndarray | None = None

    def __post_init__(self) -> None:
        gate = check_array(self.gate, "gate", ndim=2, finite=False)
        coef = check_array(self.coef, "coef", finite=False)
        K = gate.shape[0]
        if K < 1:
            raise ValueError(f"gate must have at least one row (one per expert), got {gate.shape}")
        if coef.ndim not in (2, 3) or coef.shape[0] != K:
            raise ValueError(f"coef must have one row per expert ({K}), got shape {coef.shape}")
        object.__setattr__(self, "gate", gate)
        object.__setattr__(self, "coef", coef)
        if self.sigma is not None:
            sigma = check_array(self.sigma, "sigma", shape=(K,), finite=False)
            object.__setattr__(self, "sigma", sigma)

    @property
    def n_experts(self) -> int:
        """Number of experts K."""
        return self.gate.shape[0]

    def replace(self, **changes) -> MoEParams:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def copy(self) -> MoEParams:
        """A deep copy."""
        return MoEParams(
            self.gate.copy(), self.coef.copy(), None if self.sigma is None else self.sigma.copy()
        )

    def is_finite(self) -> bool:
        """Whether every parameter is finite (a diverging gradient method produces non-finite
        ones)."""
        parts = [self.gate, self.coef] + ([] if self.sigma is None else [self.sigma])
        return all(bool(np.all(np.isfinite(p))) for p in parts)

    def check(self, family: ExpertFamily, data: MoEData, name: str = "params") -> MoEParams:
        """Raise ``ValueError`` unless these parameters fit ``family`` on ``data``.

        Checks the shapes against the designs, finiteness, positive variances where the family
        has them, the gate's reference row and multinomial experts' reference class.
        """
        K = self.n_experts
        want_gate = (K, data.gate_X.shape[1])
        want_coef = family.coef_shape(K, data.X.shape[1])
        if self.gate.shape != want_gate or self.coef.shape != want_coef:
            raise ValueError(
                f"{name} must have gate shape {want_gate} and coef shape {want_coef} "
                "(intercept columns first when fit_intercept=True), got "
                f"{self.gate.shape} and {self.coef.shape}"
            )
        if not (np.all(np.isfinite(self.gate)) and np.all(np.isfinite(self.coef))):
            raise ValueError(f"{name} must hold finite gate and coef values")
        if family.has_sigma and (
            self.sigma is None or not np.all(np.isfinite(self.sigma) & (self.sigma > 0))
        ):
            raise ValueError(f"{name}.sigma must hold {K} finite positive standard deviations")
        if np.any(self.gate[0] != 0):
            raise ValueError(f"{name}.gate row 0 must be zero: expert 0 is the gate's reference")
        if self.coef.ndim == 3 and np.any(self.coef[:, 0, :] != 0):
            raise ValueError(
                f"{name}.coef[:, 0, :] must be zero: class 0 is each multinomial expert's "
                "reference"
            )
        family.check_coef(self.coef, name)
        return self


@dataclass(frozen=True)
class MoEData:
    """A data set in design-matrix form.

    Attributes
    ----------
    X : ndarray of shape (n, p)
        Expert design.
    y : ndarray of shape (n,)
        Responses (floats; class codes for multinomial experts).
    gate_X : ndarray of shape (n, q)
        Gate design (may have 0 columns: fixed mixing weights).
    n_trials : ndarray of shape (n,) or None
        Binomial trial counts.
    expert_mask : ndarray of shape (p,)
        1 for penalised expert columns, 0 otherwise (default: all penalised).
    gate_mask : ndarray of shape (q,)
        1 for penalised gate columns, 0 otherwise (default: all penalised).

    Examples
    --------
    >>> import numpy as np
    >>> data = MoEData(np.ones((3, 2)), np.zeros(3), np.ones((3, 0)))
    >>> data.n_samples, data.expert_mask, data.gate_mask
    (3, array([1., 1.]), array([], dtype=float64))
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
        """Number of samples n."""
        return self.X.shape[0]

    @property
    def objective_rounding(self) -> float:
        """The objective's rounding, below which no stopping rule can judge a change: 0, or for
        binomial counts :data:`COUNT_ROUNDING` machine epsilons per nat of the counts' own
        information, ``sum_i m_i H(y_i / m_i)`` (``H`` the binary entropy, the rate clipped to
        ``[1/(2 m_i), 1 - 1/(2 m_i)]``): a row's log-likelihood is a difference of terms of that
        size, ~0.7 m_i for balanced outcomes (at 1e9 trials known to ~1e-7 only), ~20 for a
        rare event."""
        if self.n_trials is None:
            return 0.0
        m = self.n_trials
        rate = np.clip(self.y / m, 0.5 / m, 1.0 - 0.5 / m)
        information = -m * (rate * np.log(rate) + (1.0 - rate) * np.log1p(-rate))
        return COUNT_ROUNDING * float(np.finfo(float).eps) * float(np.sum(information))

    def rows(self, rows: slice) -> MoEData:
        """The samples ``rows`` (views, no copies)."""
        trials = None if self.n_trials is None else self.n_trials[rows]
        return replace(self, X=self.X[rows], y=self.y[rows], gate_X=self.gate_X[rows],
                       n_trials=trials)


#: Machine epsilons per nat of :attr:`MoEData.objective_rounding` (a margin over the rounding of
#: the sum of the rows' terms).
COUNT_ROUNDING = 4.0


def add_intercept(X: np.ndarray) -> np.ndarray:
    """Prepend a column of ones: (n, p) -> (n, p + 1).

    Examples
    --------
    >>> add_intercept(np.array([[2.0], [3.0]]))
    array([[1., 2.],
           [1., 3.]])
    """
    X = np.asarray(X, dtype=float)
    return np.hstack([np.ones((X.shape[0], 1)), X])


def make_data(
    X: np.ndarray,
    y: np.ndarray,
    gate_X: np.ndarray | None = None,
    *,
    n_trials: np.ndarray | None = None,
    fit_intercept: bool = True,
    family: ExpertFamily | None = None,
) -> MoEData:
    """Build :class:`MoEData` from raw features, adding intercept columns when asked.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Expert covariates (finite).
    y : array-like of shape (n,)
    gate_X : array-like of shape (n, q), optional
        Gate covariates; ``None`` uses ``X``; shape (n, 0) gives constant mixing weights.
    n_trials : array-like of shape (n,), optional
        Binomial trial counts.
    fit_intercept : bool
        Prepend an (unpenalised) intercept column to both designs.
    family : ExpertFamily, optional
        When given, ``y`` and ``n_trials`` are checked for it (``family.check_y``): labels in
        ``{0, 1}`` for logistic experts, counts ``<= n_trials``, class codes for multinomial
        experts, finite responses for linear experts.

    Returns
    -------
    MoEData

    Examples
    --------
    >>> import numpy as np
    >>> data = make_data(np.arange(6.0).reshape(3, 2), np.array([0.5, 1.0, 2.0]))
    >>> data.X.shape, data.gate_X.shape, data.expert_mask.tolist()
    ((3, 3), (3, 3), [0.0, 1.0, 1.0])
    """
    X = check_array(X, "X", ndim=2)
    n = X.shape[0]
    if n == 0:
        raise ValueError("X must have at least one sample (row), got shape (0, p)")
    gX = X if gate_X is None else check_array(gate_X, "gate_X", shape=(n, None))
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if check_bool(fit_intercept, "fit_intercept"):
        # The gate on X shares X's design array (one copy of the data, one standardisation).
        X, gX = add_intercept(X), (None if gate_X is None else add_intercept(gX))
        gX = X if gX is None else gX
        emask = np.r_[0.0, np.ones(X.shape[1] - 1)]
        gmask = np.r_[0.0, np.ones(gX.shape[1] - 1)]
    else:
        emask, gmask = np.ones(X.shape[1]), np.ones(gX.shape[1])
    if family is not None:
        y, n_trials = family.check_y(y, n_trials)
    nt = None if n_trials is None else check_array(n_trials, "n_trials", shape=(n,))
    return MoEData(X, y, gX, nt, emask, gmask)


def to_free(family: ExpertFamily, params: MoEParams) -> np.ndarray:
    """Free parameter vector: non-reference gate rows, then the family's free coordinates.

    Examples
    --------
    >>> from moe_lib.experts import LinearExperts
    >>> p = MoEParams(np.array([[0.0, 0.0], [1.0, 2.0]]), np.ones((2, 2)), np.array([1.0, 2.0]))
    >>> to_free(LinearExperts(), p).round(3).tolist()
    [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.693]
    """
    return np.concatenate([params.gate[1:].ravel(), family.to_free(params.coef, params.sigma)])


def from_free(family: ExpertFamily, v: np.ndarray, like: MoEParams) -> MoEParams:
    """Inverse of :func:`to_free`, shaped like ``like``.

    Examples
    --------
    >>> from moe_lib.experts import LinearExperts
    >>> p = MoEParams(np.array([[0.0, 0.0], [1.0, 2.0]]), np.ones((2, 2)), np.array([1.0, 2.0]))
    >>> q = from_free(LinearExperts(), to_free(LinearExperts(), p), p)
    >>> bool(np.allclose(q.sigma, p.sigma) and np.array_equal(q.gate, p.gate))
    True
    """
    K, q = like.gate.shape
    m = (K - 1) * q
    gate = np.vstack([np.zeros((1, q)), v[:m].reshape(K - 1, q)])
    coef, sigma = family.from_free(v[m:], K, like.coef.shape[-1])
    return MoEParams(gate, coef, sigma)


def check_alpha(alpha: float) -> float:
    """The L2 penalty strength: a finite number >= 0.

    Examples
    --------
    >>> check_alpha(0)
    0.0
    >>> check_alpha(-1.0)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a finite number >= 0, got -1.0
    """
    return check_real(alpha, "alpha", min_value=0.0)


def penalty(family: ExpertFamily, data: MoEData, params: MoEParams, alpha: float) -> float:
    """``alpha/2 * (||gate coefs||^2 + ||logistic expert coefs||^2)``, intercepts excluded.

    Linear-Gaussian experts are never penalised (``family.penalized`` is False).

    Examples
    --------
    >>> from moe_lib.experts import LogisticExperts
    >>> data = make_data(np.zeros((2, 1)), np.array([0.0, 1.0]))
    >>> p = MoEParams(np.array([[0.0, 0.0], [5.0, 1.0]]), np.array([[9.0, 2.0], [9.0, 0.0]]))
    >>> penalty(LogisticExperts(), data, p, alpha=2.0)  # slopes 1 and 2; intercepts are free
    5.0
    """
    if alpha == 0:
        return 0.0
    gate_sq = float(np.sum(data.gate_mask * params.gate**2))
    return 0.5 * alpha * (gate_sq + family.penalty(params.coef, data.expert_mask))


def penalty_weights(family: ExpertFamily, data: MoEData, params: MoEParams) -> np.ndarray:
    """Diagonal ``d`` with ``penalty(alpha) = alpha/2 * sum_j d_j v_j^2`` in free coordinates.

    Examples
    --------
    >>> from moe_lib.experts import LogisticExperts
    >>> data = make_data(np.zeros((2, 1)), np.array([0.0, 1.0]))
    >>> p = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)))
    >>> penalty_weights(LogisticExperts(), data, p)
    array([0., 1., 0., 1., 0., 1.])
    """
    gate_w = np.tile(np.asarray(data.gate_mask, dtype=float), params.n_experts - 1)
    if family.penalized:
        mask = np.broadcast_to(np.asarray(data.expert_mask, dtype=float), params.coef.shape)
        exp_w = family.to_free(np.array(mask), None)
    else:
        exp_w = np.zeros(family.to_free(params.coef, params.sigma).size)
    return np.concatenate([gate_w, exp_w])
