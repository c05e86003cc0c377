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
``b~_j = s_j b_j`` is penalised with weight ``mask_j / s_j**2``. For linear-Gaussian experts
``y`` is scaled too (by a power of two, and re-centred when far from zero: :class:`DataScaling`),
so that ``y`` of 1e-300 or 1e300, or 1e12 plus noise, is fitted as well as ``y`` near 1.
Gradient methods are not equivariant (that is the point of comparing them with EM, chapter 3 of
the book) and run on the data as given.
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
        with np.errstate(over="ignore", under="ignore"):
            center, scale = _center_scale(design, intercept is not None)
            # Squares of columns beyond ~1e+-154 leave the normal floats: those columns are
            # measured at the scale of their largest entry (1e-310 and 1e200 are still columns).
            top = np.maximum(np.abs(lo), np.abs(hi))
            far = ~((scale > 1e-150) & (scale < 1e150)) & (top > 0)
            if far.any():
                top = top[far]
                c, s = _center_scale(design[:, far] / top, intercept is not None)
                center[far], scale[far] = c * top, s * top
        if intercept is not None:
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

    def matrix(self) -> np.ndarray:
        """``A`` (p, p) with ``apply(design) = design @ A.T``: the centres are taken through the
        intercept column (whose value is ``level``)."""
        A = np.diag(1.0 / self.scale)
        if self.intercept is not None:
            A[:, self.intercept] -= self.center / (self.scale * self.level)
        return A

    def mask(self, mask: np.ndarray) -> np.ndarray:
        """Penalty weights on the standardised coefficients (same penalty on the originals)."""
        # (Capped: a column of scale 1e-160 would give an infinite weight, and 0 * inf = NaN
        # where alpha = 0; 1e300 pins its coefficient as surely.)
        with np.errstate(over="ignore", divide="ignore", under="ignore"):
            return np.minimum(np.asarray(mask, dtype=float) / self.scale**2, 1e300)

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


#: ``y`` of linear-Gaussian experts is re-centred (with an intercept) when its median exceeds its
#: robust scale this many times: the residuals of ``1e12 + noise`` would otherwise keep only the
#: noise's last digits.
Y_OFFSET_RATIO = 1024.0


@dataclass(frozen=True)
class DataScaling:
    """The scalings of a data set's expert and gate designs, and of ``y`` for linear experts.

    ``y~ = (y - y_center) / y_scale`` (linear-Gaussian experts only, whose model maps onto itself:
    coefficients and standard deviations scale with ``y``, the intercept absorbs the centre).
    ``y_scale`` is a power of two near ``y``'s robust scale, so dividing by it is exact; it keeps
    the variance floor and squared residuals of ``y`` at 1e-160 or 1e160 within range.

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
    y_center: float = 0.0
    y_scale: float = 1.0

    @property
    def y_log_scale(self) -> float:
        """``log(y_scale)``. The log-likelihood of ``y`` is that of ``y~`` minus this per sample."""
        return float(np.log(self.y_scale))

    def _shifts_y(self) -> bool:
        return self.y_scale != 1.0 or self.y_center != 0.0

    def to_std(self, params: MoEParams) -> MoEParams:
        """Parameters on the original data -> on the standardised data."""
        coef, sigma = self.expert.to_std(params.coef), params.sigma
        if self._shifts_y():
            coef /= self.y_scale
            if self.expert.intercept is not None:
                coef[..., self.expert.intercept] -= (
                    self.y_center / (self.y_scale * self.expert.level))
            sigma = None if sigma is None else sigma / self.y_scale
        return MoEParams(self.gate.to_std(params.gate), coef, sigma)

    def to_raw(self, params: MoEParams) -> MoEParams:
        """Parameters on the standardised data -> on the original data."""
        coef, sigma = params.coef, params.sigma
        if self._shifts_y():
            coef = coef * self.y_scale
            if self.expert.intercept is not None:
                coef[..., self.expert.intercept] += self.y_center / self.expert.level
            sigma = None if sigma is None else sigma * self.y_scale
        return MoEParams(self.gate.to_raw(params.gate), self.expert.to_raw(coef), sigma)


def standardize(data: MoEData, family=None) -> tuple[MoEData, DataScaling]:
    """The data set with standardised designs, and the map between the two parametrisations.

    When the gate design is the expert design (``make_data`` with ``gate_X=None``), the
    standardised designs are one array too. With a ``family`` whose model is a location-scale
    family in ``y`` (``family.location_scale``: linear-Gaussian experts) ``y`` is scaled too
    (:class:`DataScaling`).

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
    y, y_center, y_scale = data.y, 0.0, 1.0
    if family is not None and family.location_scale and data.n_samples:
        y_center, y_scale = _y_scaling(y, expert.intercept is not None)
        if y_center != 0.0 or y_scale != 1.0:
            y = (y - y_center) / y_scale
    std = replace(
        data, X=X, y=y, gate_X=gate_X, expert_mask=expert.mask(data.expert_mask),
        gate_mask=gate.mask(data.gate_mask),
    )
    return std, DataScaling(expert, gate, y_center, y_scale)


def robust_scale(y: np.ndarray) -> float:
    """A scale of ``y`` that one outlier cannot inflate.

    The normal-consistent median absolute deviation ``1.4826 * median(|y - median(y)|)``; when
    more than half of ``y`` is one value (zero-inflated data) that is 0, and the mean absolute
    deviation from the median is used instead; for a constant ``y``, the smallest normal float.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([-1.0, 0.0, 1.0, 1e9])          # one gross outlier
    >>> round(robust_scale(y), 4), round(float(np.std(y)), -6)
    (1.4826, 433000000.0)
    >>> robust_scale(np.array([0.0, 0.0, 0.0, 4.0]))  # mostly zeros
    1.0
    """
    y = np.asarray(y, dtype=float)
    dev = np.abs(y - np.median(y))
    scale = 1.4826 * float(np.median(dev))
    if not scale > 0:
        scale = float(np.mean(dev))
    return scale if scale > 0 else float(np.finfo(float).tiny)


def _center_scale(design: np.ndarray, centred: bool) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations (``centred``), or zeros and root mean squares."""
    if centred:
        return design.mean(axis=0), design.std(axis=0)
    return np.zeros(design.shape[1]), np.sqrt(np.mean(design**2, axis=0))


def _y_scaling(y: np.ndarray, intercept: bool) -> tuple[float, float]:
    """``(center, scale)`` of :class:`DataScaling` for responses ``y``."""
    median = float(np.median(y))
    # The deviations from the median, computed at a safe scale (values near 1e308 would overflow).
    top = float(np.max(np.abs(y)))
    if not 0.0 < top < np.inf:
        return 0.0, 1.0
    spread = robust_scale(y / top) * top
    if not 0.0 < spread < np.inf or spread <= np.finfo(float).tiny * top:
        return 0.0, 1.0  # (constant y: nothing to scale)
    center = median if intercept and abs(median) > Y_OFFSET_RATIO * spread else 0.0
    return center, float(2.0 ** np.round(np.log2(spread)))
