"""The cached evaluation object of the solver layer, and what a solve reports.

A :class:`Problem` evaluates its value, gradient and negated Hessian lazily and caches them at the
last point, as the subproblem objects of scipy's ``optimize/_trustregion.py`` do: Newton asks for
all three at the same point in turn, and the fused evaluations of :mod:`moe_lib.regression`
compute the value and the gradient in one pass over the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from moe_lib._curvature import Curvature

#: Largest change of any linear score (a log-odds) that a cut-down Newton step may make
#: (:meth:`Problem.step_limit`).
MAX_SCORE_CHANGE = 20.0

#: A solve stops (unconverged) once its largest score (a log-odds against the reference) exceeds
#: this: its probabilities are then within e^-500 of 0 or 1, where the objective no longer changes
#: in floating point, and further steps only chase coefficients to infinity (the problem has no
#: finite maximiser). EM stops on such a solve (``moe_lib.fit.RUNOFF_LOGODDS``). Outlying rows
#: are left out of the largest score (:func:`outlying_rows`).
RUNOFF_SCORE = 500.0

#: A row is outlying (:func:`outlying_rows`) when, in some column, it lies more than this many
#: interquartile ranges from the column's median (for a normal feature: 27 standard deviations).
OUTLYING_IQRS = 20.0
#: The quartiles of :func:`outlying_rows` are those of at most this many evenly spaced rows.
QUARTILE_ROWS = 10_000

#: The contraction of the gradient's largest entry credited to one fresh Newton step near the
#: maximiser, against which a step on a reused factorisation is judged
#: (:meth:`Problem.reuse_bar`).
NEWTON_CONTRACTION = 1e-3


def outlying_rows(X: np.ndarray) -> np.ndarray:
    """The rows of a design far out from the bulk of its rows in some column, as sorted indices.

    A row is outlying when, in a column whose interquartile range is positive, it lies more than
    :data:`OUTLYING_IQRS` interquartile ranges from the column's median (a gross outlier, a value
    in the far tail of a heavy-tailed feature). The coefficients of such a column are set by the
    bulk of the rows, and at a finite maximiser they can give an outlying row a score of any size
    (its probability saturates, at no cost to the other rows); so the run-off rule, the per-step
    score cap and the saturation diagnostics judge the scores of the other rows only
    (:meth:`Problem.score_size`). Coefficients that run off make the bulk's scores grow too.
    Columns without spread (an intercept, a rare indicator) make no row outlying: their
    coefficients are set by the few rows where they differ, whose scores therefore show a run-off.

    The quartiles are those of at most :data:`QUARTILE_ROWS` evenly spaced rows; the result does
    not change when a column is shifted or scaled.

    Parameters
    ----------
    X : ndarray of shape (n, p)

    Returns
    -------
    ndarray of int, shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-1.0, 1.0, 20)
    >>> x[7] = 1e4  # one gross outlier
    >>> X = np.column_stack([np.ones(20), x])
    >>> outlying_rows(X)
    array([7])
    >>> outlying_rows(np.delete(X, 7, axis=0)).size  # no row stands out
    0
    """
    n = X.shape[0]
    if n == 0 or X.shape[1] == 0:
        return np.empty(0, dtype=np.intp)
    lower, median, upper = np.quantile(X[:: -(-n // QUARTILE_ROWS)], [0.25, 0.5, 0.75], axis=0)
    reach = OUTLYING_IQRS * (upper - lower)
    # Only the columns whose extremes lie beyond reach are scanned row by row (usually none).
    lowest, highest = _column_extremes(X)
    far = (upper > lower) & ((highest > median + reach) | (lowest < median - reach))
    rows = [np.flatnonzero(np.abs(X[:, j] - median[j]) > reach[j]) for j in np.flatnonzero(far)]
    return np.unique(np.concatenate(rows)) if rows else np.empty(0, dtype=np.intp)


class Design:
    """What the M-step problems of one EM run reuse about a design, computed when first asked.

    The design does not change across the iterations of an EM run, so its outlying rows
    (:func:`outlying_rows`) and its transpose in contiguous memory (from which softmax
    regressions with three or more classes form their scores) are computed once per run, not
    once per M-step problem.

    Examples
    --------
    >>> import numpy as np
    >>> design = Design(np.arange(6.0).reshape(3, 2))
    >>> design.outlying.size, design.transposed.flags.c_contiguous
    (0, True)

    ``raw``, when given, is the design before standardisation and the matrix ``A`` with
    ``X = raw @ A.T`` (``moe_lib.scaling.ColumnScaling.matrix``): a sparse raw design (indicator
    features, which standardisation centres into dense ones) lets softmax Hessians be formed from
    its sparse products; what the regressions derive from it is kept in ``memo``.
    """

    def __init__(self, X: np.ndarray, raw: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.X, self.raw = X, raw
        self.memo: dict = {}

    @cached_property
    def outlying(self) -> np.ndarray:
        """:func:`outlying_rows` of the design."""
        return outlying_rows(self.X)

    @cached_property
    def transposed(self) -> np.ndarray:
        """``X.T`` in contiguous memory."""
        return np.ascontiguousarray(self.X.T)


def _column_extremes(X: np.ndarray, rows_per_group: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Each column's minimum and maximum, shape (p,) each, reduced over groups of
    ``rows_per_group`` rows seen as one long row.

    Examples
    --------
    >>> import numpy as np
    >>> _column_extremes(np.array([[1.0, -2.0], [3.0, 0.5], [-1.0, 4.0]]))
    (array([-1., -2.]), array([3., 4.]))
    """
    # A reduction over the rows of a narrow array runs an inner loop as short as a row; over
    # groups of rows it runs at vector speed (measured at (2e5, 11): 2 ms against 11 ms for
    # X.max(axis=0)).
    n, p = X.shape
    if p == 0:
        return np.empty(0), np.empty(0)
    whole = n - n % rows_per_group
    grouped = X[:whole].reshape(whole // rows_per_group, rows_per_group * p)
    rest = X[whole:]
    lowest = np.min(grouped, axis=0, initial=np.inf).reshape(-1, p).min(axis=0)
    highest = np.max(grouped, axis=0, initial=-np.inf).reshape(-1, p).max(axis=0)
    return (np.minimum(lowest, rest.min(axis=0, initial=np.inf)),
            np.maximum(highest, rest.max(axis=0, initial=-np.inf)))


def score_step_limit(X: np.ndarray, step: np.ndarray, left_out: np.ndarray) -> float:
    """The fraction of a coefficient step (rows: one per score) that changes no score by more
    than :data:`MAX_SCORE_CHANGE` (one product with the design), the rows
    ``left_out`` (outlying rows) excepted."""
    changes = np.abs(X @ step.T)
    changes[left_out] = 0.0
    largest = float(np.max(changes, initial=0.0))
    return 1.0 if largest <= MAX_SCORE_CHANGE else MAX_SCORE_CHANGE / largest


def design_of(state: dict, name: str, X: np.ndarray, raw=None) -> Design:
    """The :class:`Design` of the M-step design called ``name``, kept in the M-step's ``state``
    (which the caller keeps across the iterations of an EM run).

    Examples
    --------
    >>> import numpy as np
    >>> state = {}
    >>> design = design_of(state, "gate", np.eye(3))
    >>> design_of(state, "gate", None) is design  # the second call reads it
    True
    """
    key = f"{name} design"
    if key not in state:
        state[key] = Design(X, raw)
    return state[key]


@dataclass(frozen=True)
class SolveInfo:
    """What an inner solve did.

    Attributes
    ----------
    n_iter : int
        Newton iterations taken.
    grad_norm : float
        Largest absolute gradient entry at the returned point.
    converged : bool
        True when ``grad_norm <= tol``.
    hit_bound : bool
        True when the solve stopped because it reached ``max_iter`` (or could not make progress)
        before meeting the tolerance.
    n_evaluations : int
        Evaluations of the objective and gradient.
    n_hessians : int
        Hessians formed (a weighted Gram matrix per block each).
    passes : float
        Their cost in passes over the data (``Problem.passes``), Hessian-vector products
        included.
    curvature : Curvature or None
        What the solve learnt of the curvature (a factorised negated Hessian and secant pairs),
        for a later solve of a nearby problem.
    score_size : float
        The largest absolute linear score (a log-odds against the reference class) at the
        returned point; 0 for problems without scores.
    unbounded : bool
        The solve stalled while its objective kept rising by more than ``1e-6 (1 + |f|)``: the
        iterates run off along a direction where the objective grows without bound (or
        towards a supremum far above the start), the signature of a problem without maximiser.

    Examples
    --------
    >>> info = SolveInfo(n_iter=3, grad_norm=1e-12, converged=True, hit_bound=False)
    >>> info.converged, info.n_evaluations
    (True, 0)
    """

    n_iter: int
    grad_norm: float
    converged: bool
    hit_bound: bool
    n_evaluations: int = 0
    n_hessians: int = 0
    passes: float = 0.0
    curvature: Curvature | None = field(default=None, repr=False, compare=False)
    unbounded: bool = False
    score_size: float = 0.0


class Problem:
    """A smooth concave objective to maximise, evaluated lazily and cached at the last point.

    Subclasses implement :meth:`_evaluate` (at ``x``: whatever the gradient needs; it returns the
    value, or None when :meth:`_deferred_value` computes it on demand), :meth:`_gradient` and
    :meth:`_neg_hessian` (at the point last evaluated), and :meth:`_neg_hessp` when Newton-CG may
    be used. Callers use :meth:`value`, :meth:`gradient`, :meth:`neg_hessian` and
    :meth:`neg_hessp`, which evaluate only when the point changes. A deferred value saves the
    evaluations that only the gradient judges (the solver's steps near the maximiser) the
    elementwise work of the value alone, for a logistic regression a ``log1p`` per score, as much
    as its ``exp``.

    The work is counted in *passes over the data*: one pass is one product of the ``n``-row
    design with one vector (``n p`` multiply-adds; elementwise work is not counted). An
    evaluation of a regression with ``m`` linear score columns costs ``2 m`` passes (the scores
    and the gradient's product ``X^T R``), a Hessian-vector product ``2 m`` as well, and a
    weighted Gram matrix ``X^T diag(s) X`` ``(p + 1) / 2`` passes (its distinct entries).
    Subclasses set ``evaluation_passes``, ``hessian_passes`` and ``hessp_passes``.
    """

    evaluation_passes = 0.0
    hessian_passes = 0.0
    hessp_passes = 0.0

    def __init__(self) -> None:
        self._x: np.ndarray | None = None
        self._value: float | None = None
        self._grad: np.ndarray | None = None
        self._hess: np.ndarray | None = None
        #: Evaluations and Hessians computed so far (the solve's cost, reported in SolveInfo).
        self.n_evaluations = 0
        self.n_hessians = 0
        self.passes = 0.0
        #: Set by evaluations of problems with linear scores (see :meth:`score_size`).
        self._score_size = 0.0
        #: The outlying rows left out of the score size (:meth:`_leave_out`), overall and
        #: per row block of the evaluations (positions within the block; None: none there).
        self.left_out = np.empty(0, dtype=np.intp)
        self._left_out_by_block: list = []

    # -- hooks ---------------------------------------------------------------------------
    def _evaluate(self, x: np.ndarray) -> float | None:
        raise NotImplementedError

    def _deferred_value(self) -> float:
        """The value at the point last evaluated, where :meth:`_evaluate` deferred it."""
        raise NotImplementedError

    def _gradient(self) -> np.ndarray:
        raise NotImplementedError

    def _neg_hessian(self) -> np.ndarray:
        raise NotImplementedError

    def _neg_hessp(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score_size(self, x: np.ndarray) -> float:
        """The largest absolute linear score at ``x`` (0 for problems without scores).

        Kept by the evaluation itself (no extra pass): a step whose score size jumps by more than
        :data:`MAX_SCORE_CHANGE` is a run-away towards infinity, not a Newton step to keep. The
        outlying rows given to the problem are left out (``moe_lib._problem.outlying_rows``).
        """
        self._at(x)
        return self._score_size

    def _leave_out(self, rows: np.ndarray, blocks: list[slice]) -> None:
        """Leave ``rows`` out of the score size, for evaluations over the row ``blocks``."""
        self.left_out = np.asarray(rows)
        self._left_out_by_block = []
        if self.left_out.size:
            for block in blocks:
                inside = self.left_out[
                    (self.left_out >= block.start) & (self.left_out < block.stop)
                ]
                self._left_out_by_block.append(inside - block.start if inside.size else None)

    def _block_score_size(self, scores: np.ndarray, block: int, top: float) -> float:
        """The largest absolute entry of one row block's class-major scores, shape
        (m, rows), whose largest entry is ``top``, with the rows left out set aside."""
        hidden = self._left_out_by_block[block] if self._left_out_by_block else None
        if hidden is None:
            return max(top, -float(scores.min(initial=0.0)))
        kept = scores[:, hidden].copy()
        scores[:, hidden] = 0.0
        size = max(float(scores.max(initial=0.0)), -float(scores.min(initial=0.0)))
        scores[:, hidden] = kept
        return size

    def step_limit(self, x: np.ndarray, step: np.ndarray) -> float:
        """The largest fraction of ``step`` worth trying after a rejected full step (default 1).

        Problems with linear scores return the fraction that changes no score by more than
        :data:`MAX_SCORE_CHANGE`, so that a huge Newton step (a nearly flat direction, common
        when the maximiser is far or does not exist) is cut to size in one go instead of by tens
        of halvings.
        """
        return 1.0

    def reuse_bar(self) -> float:
        """The gradient contraction a Newton step on a reused factorisation must achieve.

        A fresh Newton step costs an evaluation and a Hessian and is credited with a contraction
        of :data:`NEWTON_CONTRACTION`; a step on the kept factor costs an evaluation only. The
        bar asks the reused step for the same contraction per pass over the data:
        ``NEWTON_CONTRACTION ** (E / (E + H))``, ``E`` and ``H`` the ``evaluation_passes`` and
        ``hessian_passes``. Where a Hessian is dear (a softmax regression with many classes: a
        grid of weighted Gram matrices) almost any contraction is worth keeping; where it is
        cheap the bar approaches ``NEWTON_CONTRACTION``. A problem that does not count its
        passes is taken to have ``H = E`` (bar 0.03).

        Examples
        --------
        >>> import numpy as np
        >>> from moe_lib.regression import SoftmaxRegression
        >>> X, T = np.ones((4, 21)), np.full((4, 10), 0.1)
        >>> round(SoftmaxRegression(X, T, np.ones(4), 0.0, np.ones(21)).reuse_bar(), 2)
        0.78
        """
        e, h = self.evaluation_passes, self.hessian_passes
        return NEWTON_CONTRACTION ** (e / (e + h) if e + h > 0 else 0.5)

    def hessian_cost(self) -> float:
        """A negated Hessian's cost in evaluations: ``hessian_passes / evaluation_passes`` (1 for
        a problem that does not count its passes), for the renewal rule of
        :meth:`moe_lib._curvature.Curvature.worth_renewing`."""
        e, h = self.evaluation_passes, self.hessian_passes
        return h / e if e > 0 else 1.0

    # -- cached access -------------------------------------------------------------------
    def _at(self, x: np.ndarray) -> None:
        last = self._x  # (an exact comparison, cheaper than np.array_equal on short vectors)
        if last is None or last.shape != np.shape(x) or not (last == x).all():
            self.n_evaluations += 1
            self.passes += self.evaluation_passes
            value = self._evaluate(x)
            self._value = None if value is None else float(value)
            self._x = np.array(x, dtype=float, copy=True)
            self._grad = self._hess = None

    def value(self, x: np.ndarray) -> float:
        """The objective at ``x``."""
        self._at(x)
        if self._value is None:
            self._value = float(self._deferred_value())
        return self._value

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Its gradient at ``x``, shape (m,)."""
        self._at(x)
        if self._grad is None:
            self._grad = self._gradient()
        return self._grad

    def neg_hessian(self, x: np.ndarray) -> np.ndarray:
        """The negated Hessian at ``x`` (positive semi-definite), shape (m, m)."""
        self._at(x)
        if self._hess is None:
            self.n_hessians += 1
            self.passes += self.hessian_passes
            self._hess = self._neg_hessian()
        return self._hess

    def neg_hessp(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The negated Hessian at ``x`` times ``u``, shape (m,)."""
        self._at(x)
        self.passes += self.hessp_passes
        return self._neg_hessp(u)
