"""Standardised designs, so that exact EM's numerics do not depend on the units of the data.

An exact EM step is equivariant under an invertible linear change of the designs' columns: the
M-steps maximise over the whole span of the columns, so rescaling or re-centring a column changes
the coefficients, not the fitted model. The numerics are not: a tolerance on a gradient, a rank
test or a Cholesky factor depends on the columns' scales, and a column of timestamps (1e15 give
or take 1e7) is numerically collinear with the intercept. The EM driver therefore works on
standardised designs, and maps the parameters back:

- with an intercept column (a constant column that the penalty does not touch), every other
  column is centred and divided by its standard deviation;
- without one, every column is divided by its root mean square.

The L2 penalty keeps its meaning on the *original* coefficients: a standardised coefficient
``b~_j = s_j b_j`` is penalised with weight ``mask_j / s_j**2``. Gradient methods are not
equivariant (that is the point of comparing them with EM, chapter 3 of the book) and run on the
designs as given.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from moe_lib.params import MoEData, MoEParams


@dataclass(frozen=True)
class ColumnScaling:
    """``x~_j = (x_j - center_j) / scale_j`` for every column but the intercept.

    Attributes
    ----------
    center, scale : ndarray of shape (p,)
        The intercept column has centre 0 and scale 1.
    intercept : int or None
        Index of the intercept column (value ``level``), or None when the design has none.
    level : float
        The intercept column's constant value.

    Examples
    --------
    >>> import numpy as np
    >>> D = np.column_stack([np.ones(3), [1e15, 1e15 + 2e7, 1e15 + 4e7]])
    >>> scaling = ColumnScaling.of(D, np.array([0.0, 1.0]))
    >>> scaling.apply(D).round(4)
    array([[ 1.    , -1.2247],
           [ 1.    ,  0.    ],
           [ 1.    ,  1.2247]])
    """

    center: np.ndarray
    scale: np.ndarray
    intercept: int | None
    level: float = 1.0

    @classmethod
    def of(cls, design: np.ndarray, mask: np.ndarray) -> ColumnScaling:
        """The scaling of ``design`` (n, p), whose penalty mask is ``mask`` (p,)."""
        p = design.shape[1]
        if p == 0:
            return cls(np.zeros(0), np.ones(0), None)
        lo, hi = design.min(axis=0), design.max(axis=0)
        constant = (lo == hi) & (lo != 0) & (np.asarray(mask) == 0)
        intercept = int(np.argmax(constant)) if constant.any() else None
        if intercept is None:
            center = np.zeros(p)
            scale = np.sqrt(np.mean(design**2, axis=0))
        else:
            center = design.mean(axis=0)
            scale = design.std(axis=0)
            center[intercept] = 0.0
        # Zero (or unrepresentable) spreads: a column of zeros, or a second constant column; it
        # is left as it is (the rank check of the estimators reports a real deficiency).
        bad = ~(np.isfinite(scale) & (scale > 0))
        scale[bad], center[bad] = 1.0, 0.0
        level = 1.0
        if intercept is not None:
            scale[intercept] = 1.0
            level = float(design[0, intercept])
        return cls(center, scale, intercept, level)

    def apply(self, design: np.ndarray) -> np.ndarray:
        """The standardised design (a new array)."""
        return (design - self.center) / self.scale

    def mask(self, mask: np.ndarray) -> np.ndarray:
        """Penalty weights on the standardised coefficients (same penalty on the originals)."""
        return np.asarray(mask, dtype=float) / self.scale**2

    def to_std(self, coef: np.ndarray) -> np.ndarray:
        """Coefficients (..., p) on the original design -> on the standardised one."""
        out = coef * self.scale
        if self.intercept is not None:
            out[..., self.intercept] += (coef @ self.center) / self.level
        return out

    def to_raw(self, coef: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`to_std`."""
        out = coef / self.scale
        if self.intercept is not None:
            out[..., self.intercept] -= (out @ self.center) / self.level
        return out


@dataclass(frozen=True)
class DataScaling:
    """The scalings of a data set's expert and gate designs.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import MoEParams, make_data
    >>> data = make_data(np.array([[1e9], [2e9], [4e9]]), np.array([1.0, 2.0, 4.0]))
    >>> std, scaling = standardize(data)
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.5, 1e-9], [0.0, 2e-9]]), np.ones(2))
    >>> back = scaling.to_raw(scaling.to_std(params))
    >>> bool(np.allclose(back.coef, params.coef, rtol=1e-12, atol=0))
    True
    """

    expert: ColumnScaling
    gate: ColumnScaling

    def to_std(self, params: MoEParams) -> MoEParams:
        """Parameters on the original designs -> on the standardised designs."""
        return MoEParams(self.gate.to_std(params.gate), self.expert.to_std(params.coef),
                         params.sigma)

    def to_raw(self, params: MoEParams) -> MoEParams:
        """Parameters on the standardised designs -> on the original designs."""
        return MoEParams(self.gate.to_raw(params.gate), self.expert.to_raw(params.coef),
                         params.sigma)


def standardize(data: MoEData) -> tuple[MoEData, DataScaling]:
    """The data set with standardised designs, and the map between the two parametrisations.

    When the gate design is the expert design (``make_data`` with ``gate_X=None``), the
    standardised designs are one array too.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import make_data
    >>> std, scaling = standardize(make_data(np.array([[10.0], [20.0], [30.0]]), np.zeros(3)))
    >>> std.X[:, 1].round(4), std.expert_mask.round(4)
    (array([-1.2247,  0.    ,  1.2247]), array([0.   , 0.015]))
    """
    expert = ColumnScaling.of(data.X, data.expert_mask)
    X = expert.apply(data.X)
    if data.gate_X is data.X and np.array_equal(data.gate_mask, data.expert_mask):
        gate, gate_X = expert, X
    else:
        gate = ColumnScaling.of(data.gate_X, data.gate_mask)
        gate_X = gate.apply(data.gate_X)
    std = replace(
        data, X=X, gate_X=gate_X, expert_mask=expert.mask(data.expert_mask),
        gate_mask=gate.mask(data.gate_mask),
    )
    return std, DataScaling(expert, gate)
