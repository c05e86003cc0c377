"""The weighted regressions every iterative M-step solves, as :class:`moe_lib.solvers.Problem`.

- :class:`SoftmaxRegression`: weighted, soft-label, L2-penalised softmax regression with a
  reference class. The gate's M-step is one (soft labels = responsibilities, unit weights); a
  multinomial expert's M-step is one (one-hot labels, weights = that expert's responsibilities).
- :class:`LogisticRegressions`: ``K`` weighted logistic (binomial) regressions solved jointly.
  Their objective is a sum of per-regression terms, each divided by its total weight, so the
  Hessian is block-diagonal and Newton on the sum is Newton on every regression at once, with
  one pass over the design per evaluation. The logistic experts' M-step is one; the symmetric
  models' soft-label regressions are one with ``K = 1``.

Each objective is scaled per unit weight (binomial counts: per unit of their information), so
the solvers' gradient tolerance grows neither with the sample size nor with the counts. Each
evaluation runs over the design in cache-sized row blocks (:func:`moe_lib._linalg.row_blocks`).
"""

from __future__ import annotations

import numpy as np

from moe_lib._curvature import Curvature
from moe_lib._hessians import raw_pairs, softmax_neg_hessian
from moe_lib._linalg import (
    column_sum,
    expit_exp_minus_abs,
    reference_lse_softmax_columns,
    row_blocks,
    row_sum,
    softplus_from,
    weighted_grams,
)
from moe_lib._problem import Design, Problem, SolveInfo, score_step_limit
from moe_lib.solvers import INNER_MAX_ITER, INNER_TOL, maximize

#: Soft labels whose rows sum to one within this are treated as summing to one
#: (:class:`SoftmaxRegression`); responsibilities do, up to a few units of rounding.
LABEL_SUM_ROUNDING = 1e-12


class SoftmaxRegression(Problem):
    """``sum_i w_i sum_c T_ic log P_ic - alpha/2 ||mask * coef||^2``, divided by ``sum_i w_i``.

    ``P_i = softmax(coef @ x_i)`` with row 0 of ``coef`` fixed at zero; the unknowns are the
    other ``C - 1`` rows, flattened.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    targets : ndarray of shape (n, C)
        Non-negative soft labels (rows usually sum to 1).
    weights : ndarray of shape (n,)
        Non-negative sample weights with a positive sum.
    alpha : float
        L2 penalty on the masked coefficients.
    mask : ndarray of shape (p,)
        1 for penalised columns, 0 for unpenalised ones (the intercept).
    design : Design or None
        What is known of ``X`` (``moe_lib._problem.Design``): its outlying rows, left out
        of the score size, and its transpose. Computed here when not given.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(3), [-1.0, 0.0, 1.0]])
    >>> problem = SoftmaxRegression(X, np.full((3, 2), 0.5), np.ones(3), 0.0, np.zeros(2))
    >>> round(problem.value(np.zeros(2)), 6), problem.gradient(np.zeros(2))  # log(1/2) per row
    (-0.693147, array([0., 0.]))
    """

    def __init__(self, X, targets, weights, alpha: float, mask, design=None) -> None:
        super().__init__()
        wsum = float(np.sum(weights))
        if not wsum > 0:
            raise ValueError("weights must have a positive sum to fit a softmax regression")
        self.X, self.alpha, self.mask = X, float(alpha), np.asarray(mask, dtype=float)
        n, p = X.shape
        self.C, self.p = targets.shape[1], p
        self.scale = 1.0 / wsum
        label_sums = row_sum(targets)
        # Soft labels that sum to one up to rounding (the gate's responsibilities) are taken to
        # sum to one: the objective moves by less than its own rounding and the gradient by
        # ~1e-15 per unit weight, far below the solvers' tolerance, and the design needs no
        # row weights (the gate's weights are ones), which saves a pass over it per M-step.
        labels_sum_to_one = bool(np.all(np.abs(label_sums - 1.0) <= LABEL_SUM_ROUNDING))
        self.row_weight = weights if labels_sum_to_one else weights * label_sums
        # The gradient's X^T (w * P) as P^T (w * X): the weighted design is formed once per
        # problem, not once per evaluation.
        unit_rows = bool(np.all(self.row_weight == 1.0))
        self.weighted_x = X if unit_rows else self.row_weight[:, None] * X
        # The targets' part of the value and gradient is linear in the coefficients:
        # sum_i w_i sum_c T_ic s_ic = <targets_x, coef> with targets_x = T^T (w X), formed once
        # (from the weighted design when the labels sum to one, as one-hot labels do).
        if labels_sum_to_one:
            weights_x = self.weighted_x
        else:
            weights_x = X if np.all(weights == 1.0) else weights[:, None] * X
        self.targets_x = targets[:, 1:].T @ weights_x
        # With three or more classes the scores are formed class-major, B @ X^T, from a
        # transposed copy of the design: BLAS forms the (C - 1, rows) product about twice as fast
        # as X @ B^T for few classes (evaluation 0.86 ms against 1.15 ms at n = 1e4, p = 21,
        # ten classes). Two classes need one score, a matrix-vector product either way.
        self.design = design = _design_of(design, X)
        self.design_t = design.transposed if self.C > 2 else None
        # The probabilities at the last point evaluated, class-major; the buffer is reused by
        # every evaluation (only the last point's are ever read).
        self._probs = np.empty((self.C - 1, n))
        # For the deferred value, from the last evaluation: two classes, the score and its
        # exp(-|s|); more, each row's sum_c exp(s_c) and whether its block was shifted.
        if self.C == 2:
            self._score, self._exp_minus_abs = np.empty(n), np.empty(n)
        else:
            self._sums = np.empty(n)
        self.blocks = row_blocks(n, max(self.C - 1, p))
        self._shifted = [False] * len(self.blocks)
        self._leave_out(design.outlying, self.blocks)
        m = self.C - 1
        self.evaluation_passes = self.hessp_passes = 2.0 * m
        # A (C - 1) x (C - 1) grid of weighted Gram matrices, symmetric: m (m + 1) / 2 distinct.
        self.hessian_passes = m * (m + 1) / 2 * (p + 1) / 2

    def _evaluate(self, v):
        # One pass over the design in row blocks: scores, log-sum-exp, probabilities, and the
        # products with the design of the gradient.
        C, p = self.C, self.p
        B = v.reshape(C - 1, p)
        # Class-major probabilities: each block's scores, shape (C - 1, rows), are overwritten
        # by its probabilities; the Hessian reads them through the transposed view.
        probs = self._probs
        value, size = float(np.vdot(self.targets_x, B)), 0.0
        weighted_px = np.zeros((C - 1, p))
        for block, rows in enumerate(self.blocks):
            # The reference class has score 0: only the other C - 1 scores are computed.
            scores = probs[:, rows]
            if C == 2:
                # Two classes: the softmax is the logistic function of the one score; the value
                # (its softplus) waits until asked for (_deferred_value).
                score = self._score[rows]
                np.matmul(self.X[rows], B[0], out=score)
                size = max(size, self._block_score_size(score[None], block,
                                                        float(score.max(initial=0.0))))
                expit_exp_minus_abs(score, out=(scores[0], self._exp_minus_abs[rows]))
            else:
                np.matmul(B, self.design_t[:, rows], out=scores)
                top = float(scores.max(initial=0.0))
                size = max(size, self._block_score_size(scores, block, top))
                # The log-sum-exp's log1p waits (the block's sums are kept) unless the block's
                # scores had to be shifted, where it is taken now.
                lse = reference_lse_softmax_columns(scores, top, self._sums[rows])
                self._shifted[block] = lse is not None
                if lse is not None:
                    value -= self.row_weight[rows] @ lse
            weighted_px += scores @ self.weighted_x[rows]
        self.B, self.P, self._score_size = B, probs.T, size
        self.grad_ = (self.targets_x - weighted_px - self.alpha * self.mask * B).ravel()
        self._eager_value = value
        return None

    def _deferred_value(self):
        B = self.B
        value = self._eager_value - 0.5 * self.alpha * float(np.sum(self.mask * B**2))
        if self.C == 2:
            # sum_i w_i softplus(s_i) from the kept exp(-|s_i|).
            softplus = softplus_from(self._score, self._exp_minus_abs)
            return (value - float(self.row_weight @ softplus)) * self.scale
        for rows, shifted in zip(self.blocks, self._shifted, strict=True):
            if not shifted:
                value -= float(self.row_weight[rows] @ np.log1p(self._sums[rows]))
        return value * self.scale

    def _gradient(self):
        return self.grad_ * self.scale

    def _neg_hessian(self):
        neg_h = softmax_neg_hessian(self.X, self.P, self.row_weight, raw_pairs(self.design))
        neg_h[np.diag_indices(neg_h.shape[0])] += self.alpha * np.tile(self.mask, self.C - 1)
        return neg_h * self.scale

    def step_limit(self, x, step):
        return score_step_limit(self.X, step.reshape(self.C - 1, self.p), self.left_out)

    def _neg_hessp(self, u):
        P, U = self.P, u.reshape(self.C - 1, self.p)
        PXU = P * (self.X @ U.T)
        HU = self.row_weight[:, None] * (PXU - P * row_sum(PXU)[:, None])
        return (HU.T @ self.X + self.alpha * self.mask * U).ravel() * self.scale


def fit_weighted_softmax(
    X: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    coef_init: np.ndarray,
    *,
    alpha: float = 0.0,
    penalty_mask: np.ndarray | None = None,
    tol: float = INNER_TOL,
    max_iter: int = INNER_MAX_ITER,
    curvature: Curvature | None = None,
    design: Design | None = None,
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise a :class:`SoftmaxRegression` from ``coef_init`` (its row 0 is ignored).

    ``curvature``: that of a nearby problem (``SolveInfo.curvature`` of the previous EM
    iteration's solve), used first for quasi-Newton steps. ``design``: what is known of ``X``
    (``moe_lib._problem.Design``; computed here when not given, once per run by EM).

    Returns
    -------
    coef : ndarray of shape (C, p)
        Row 0 is zero.
    info : SolveInfo

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> T = np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0.2, 0.8]])
    >>> coef, info = fit_weighted_softmax(X, T, np.ones(4), np.zeros((2, 2)))
    >>> bool(info.converged), coef.shape
    (True, (2, 2))
    """
    p, C = X.shape[1], targets.shape[1]
    mask = np.ones(p) if penalty_mask is None else penalty_mask
    problem = SoftmaxRegression(X, targets, weights, alpha, mask, design)
    v0 = np.asarray(coef_init, dtype=float)[1:].ravel()
    v, info = maximize(problem, v0, tol=tol, max_iter=max_iter, curvature=curvature)
    return np.vstack([np.zeros((1, p)), v.reshape(C - 1, p)]), info


class LogisticRegressions(Problem):
    """``sum_k [sum_i W_ik (y_i eta_ik - m_i sp(eta_ik)) - alpha/2 ||mask b_k||^2] / M_k``.

    ``eta_ik = x_i^T b_k``, ``M_k = sum_i W_ik m_i``, for counts times ``4 r_k (1 - r_k)`` at
    the pooled rate ``r_k`` (per unit of weight and information); ``y`` may be soft (in
    ``[0, m]``). The unknowns are the ``K`` coefficient vectors, flattened.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    y : ndarray of shape (n,) or (n, K)
        Labels shared by the regressions, or one column of (soft) labels per regression.
    trials : ndarray of shape (n,)
        Trial counts ``m_i`` (ones for Bernoulli labels).
    weights : ndarray of shape (n, K)
        Non-negative weights of each regression, each column with a positive sum.
    alpha : float
    mask : ndarray of shape (p,)
    design : Design or None
        As in :class:`SoftmaxRegression` (its outlying rows are used).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(3), [-1.0, 0.0, 1.0]])
    >>> targets = np.array([[0.2, 1.0], [0.5, 1.0], [0.8, 1.0]])  # one column per regression
    >>> problem = LogisticRegressions(X, targets, np.ones(3), np.ones((3, 2)), 0.0, np.zeros(2))
    >>> problem.gradient(np.zeros(4)).round(6)  # both at the zero start: mean (t - 1/2) x
    array([0. , 0.2, 0.5, 0. ])
    """

    def __init__(self, X, y, trials, weights, alpha: float, mask, design=None) -> None:
        super().__init__()
        self.X, self.alpha, self.mask = X, float(alpha), np.asarray(mask, dtype=float)
        self.K, self.p = weights.shape[1], X.shape[1]
        Y = y[:, None] if y.ndim == 1 else y
        self.WY = weights * Y
        self.WM = weights * trials[:, None]
        # Per unit of weight and trial (Bernoulli labels: the weights' sums): a row's gradient
        # (y - m p) x grows with its count m. Counts are per unit of information at the pooled
        # rate r, 4 r (1 - r) per trial (1 if balanced; at least one event): at r = 1e-9 a
        # gradient of 1e-10 per trial is met 0.1 away from the maximiser.
        total = column_sum(self.WM)
        self.WF = None  # (counts: the weighted failures, m - y, exact)
        if np.any(trials != 1.0):
            self.WF = weights * (trials[:, None] - Y)
            rate = column_sum(self.WY) / total
            total = total * np.maximum(np.minimum(4.0 * rate * (1.0 - rate), 1.0), 1.0 / total)
        self.scale = 1.0 / total
        self.blocks = row_blocks(X.shape[0], max(self.K, self.p))
        self._leave_out(_design_of(design, X).outlying, self.blocks)
        # At the last point evaluated: the scores, their expit and exp(-|score|), shape (n, K).
        self._scores, self.S, self._exp_minus_abs = (np.empty((X.shape[0], self.K))
                                                     for _ in range(3))
        self.evaluation_passes = self.hessp_passes = 2.0 * self.K
        self.hessian_passes = self.K * (self.p + 1) / 2

    def _evaluate(self, b):
        # The gradient (penalty excluded), the scores, their expit and exp(-|score|), in one
        # pass over X by row blocks (the (n, K) temporaries stay in cache). The value waits
        # until asked for (_deferred_value): only line searches need it.
        X, B = self.X, b.reshape(self.K, self.p)
        S, E, scores = self.S, self._exp_minus_abs, self._scores
        G = np.zeros((self.K, self.p))
        size = 0.0
        for block, rows in enumerate(self.blocks):
            Xb, wy, wm = X[rows], self.WY[rows], self.WM[rows]
            eta = scores[rows]
            np.matmul(Xb, B.T, out=eta)
            size = max(size, self._block_score_size(eta.T, block, float(eta.max(initial=0.0))))
            s, e = expit_exp_minus_abs(eta, out=(S[rows], E[rows]))
            residual = s * wm
            np.subtract(wy, residual, out=residual)
            if self.WF is not None:
                # Counts, where p > 1/2: y - m p = m (1 - p) - (m - y), 1 - p from exp(-|eta|)
                # (m p rounds at ~1e-16 m: ~1e-7 of a near-certain row's residual at 1e9 trials).
                np.copyto(residual, wm * e * s - self.WF[rows], where=eta > 0)  # (e s = 1 - p)
            G += residual.T @ Xb
        self.B, self._score_size = B, size
        self.G = G - self.alpha * self.mask * B
        return None

    def _deferred_value(self):
        # sum_i (W y)_ik eta_ik - (W m)_ik softplus(eta_ik), softplus from the kept exp(-|eta|).
        softplus = softplus_from(self._scores, self._exp_minus_abs)
        softplus *= self.WM
        terms = self.WY * self._scores
        terms -= softplus
        value = column_sum(terms) - 0.5 * self.alpha * np.sum(self.mask * self.B**2, axis=1)
        return float(value @ self.scale)

    def _gradient(self):
        return (self.G * self.scale[:, None]).ravel()

    def _curvature_weights(self):
        return self.WM * self.S * (1 - self.S)

    def _neg_hessian(self):
        K, p = self.K, self.p
        grams = weighted_grams(self.X, self._curvature_weights())
        H = np.zeros((K * p, K * p))
        for k, block in enumerate(grams):
            block[np.diag_indices(p)] += self.alpha * self.mask
            H[k * p : (k + 1) * p, k * p : (k + 1) * p] = block * self.scale[k]
        return H

    def step_limit(self, x, step):
        return score_step_limit(self.X, step.reshape(self.K, self.p), self.left_out)

    def _neg_hessp(self, u):
        U = u.reshape(self.K, self.p)
        HU = (self._curvature_weights() * (self.X @ U.T)).T @ self.X + self.alpha * self.mask * U
        return (HU * self.scale[:, None]).ravel()


def fit_weighted_logistic(
    X: np.ndarray,
    y: np.ndarray,
    trials: np.ndarray,
    weights: np.ndarray,
    coef_init: np.ndarray,
    *,
    alpha: float = 0.0,
    penalty_mask: np.ndarray | None = None,
    tol: float = INNER_TOL,
    max_iter: int = INNER_MAX_ITER,
    polish: int = 0,
    curvature: Curvature | None = None,
    design: Design | None = None,
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise :class:`LogisticRegressions` from ``coef_init`` of shape (K, p).

    ``curvature`` and ``design`` as in :func:`fit_weighted_softmax`.

    Returns
    -------
    coef : ndarray of shape (K, p)
    info : SolveInfo

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> y = np.array([0.0, 1.0, 0.0, 1.0])
    >>> coef, info = fit_weighted_logistic(X, y, np.ones(4), np.ones((4, 1)), np.zeros((1, 2)))
    >>> bool(info.converged), coef.shape
    (True, (1, 2))
    """
    mask = np.ones(X.shape[1]) if penalty_mask is None else penalty_mask
    problem = LogisticRegressions(X, y, trials, weights, alpha, mask, design)
    b, info = maximize(problem, np.asarray(coef_init, dtype=float).ravel(), tol=tol,
                       max_iter=max_iter, polish=polish, curvature=curvature)
    return b.reshape(coef_init.shape), info


def _design_of(design, X: np.ndarray) -> Design:
    """``design`` (a :class:`~moe_lib._problem.Design` of ``X``'s shape), or ``X``'s own."""
    if design is None:
        return Design(X)
    if not isinstance(design, Design):
        raise TypeError(
            f"design must be a moe_lib._problem.Design of X or None, got {type(design).__name__}"
        )
    if design.X.shape != X.shape:
        raise ValueError(
            f"design describes an array of shape {design.X.shape}, but X has shape {X.shape}"
        )
    return design
