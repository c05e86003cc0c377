"""The softmax gate and the weighted softmax regression that fits it.

The gate is ``pi_k(x) = exp(x^T w_k) / sum_j exp(x^T w_j)`` with expert 0 as the reference
(``w_0 = 0``). Its M-step maximises ``sum_{i,k} r_ik log pi_k(x_i; w)`` minus an optional
L2 penalty: a multinomial logistic regression whose soft labels are the responsibilities. The
multinomial (C-class softmax) experts solve the same problem with one-hot labels and the
responsibilities as sample weights, so :func:`fit_weighted_softmax` serves both.
"""

from __future__ import annotations

import numpy as np

from moe_lib._math import (
    PAIRWISE_MAX_COLS,
    logsumexp,
    max_last_axis,
    pairwise_weighted_grams,
    row_blocks,
    row_sum,
    softplus_expit,
    weighted_gram,
)
from moe_lib._newton import SolveInfo, newton_cg_maximize, newton_maximize

#: Above this many free coefficients the softmax solver switches from full Newton (Hessian formed,
#: Cholesky) to Newton-CG with Hessian-vector products.
MAX_NEWTON_DIM = 400


def log_softmax_ref(X: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Log-probabilities of a softmax model with linear scores.

    Parameters
    ----------
    X : ndarray of shape (n, p)
        Design matrix (intercept column included when wanted).
    coef : ndarray of shape (C, p)
        Coefficients; row 0 is the reference class and is normally all zeros.

    Returns
    -------
    ndarray of shape (n, C)
        ``log P(class c | x_i)``, computed with log-sum-exp.
    """
    coef = np.asarray(coef, dtype=float)
    if coef.shape[0] > 1 and not np.any(coef[0]):
        scores = X @ coef[1:].T
        lse, _ = reference_lse_softmax(scores, want_softmax=False)
        out = np.empty((X.shape[0], coef.shape[0]))
        out[:, 0] = -lse
        np.subtract(scores, lse[:, None], out=out[:, 1:])
        return out
    eta = X @ coef.T
    return eta - logsumexp(eta, axis=1, keepdims=True)


#: Scores up to this size cannot overflow ``exp`` (its limit is ~709.78).
_EXP_SAFE = 700.0


def reference_lse_softmax(
    scores: np.ndarray, want_softmax: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Log-sum-exp and probabilities of a softmax whose reference class has score 0.

    Parameters
    ----------
    scores : ndarray of shape (n, C - 1)
        Scores of the non-reference classes (the reference's is 0).
    want_softmax : bool
        Also return the probabilities.

    Returns
    -------
    lse : ndarray of shape (n,)
        ``log(1 + sum_c exp(scores_ic))``.
    probs : ndarray of shape (n, C - 1) or None
        ``exp(scores - lse)``, the non-reference classes' probabilities.

    Notes
    -----
    The reference term ``exp(0) = 1`` keeps every row sum >= 1, so nothing underflows to
    ``log 0``; when no score exceeds 700 nothing overflows either, and the row maximum (a pass
    over the array) is not needed: ``lse = log1p(sum_c exp(s_c))``. Otherwise the scores are
    shifted by ``max(0, row max)``.
    """
    top = float(np.max(scores)) if scores.size else 0.0
    if top <= _EXP_SAFE:
        e = np.exp(scores)
        total_minus_one = row_sum(e)
        lse = np.log1p(total_minus_one)
        if not want_softmax:
            return lse, None
        e /= (1.0 + total_minus_one)[:, None]
        return lse, e
    shift = np.maximum(max_last_axis(scores), 0.0)[:, 0]
    e = np.exp(scores - shift[:, None])
    rest = row_sum(e)
    total = np.exp(-shift) + rest
    # log1p keeps the tiny probabilities of rows whose reference class dominates (shift 0).
    lse = np.where(shift > 0, np.log(total) + shift, np.log1p(rest))
    if not want_softmax:
        return lse, None
    e /= total[:, None]
    return lse, e


def gate_log_proba(gate_X: np.ndarray, gate_coef: np.ndarray) -> np.ndarray:
    """Log mixing weights ``log pi_k(x_i)``, shape (n, K); a design with 0 columns gives 1/K."""
    return log_softmax_ref(gate_X, gate_coef)


#: Row chunk of :func:`_neg_hessian_one_product`, in array elements (8 MB of float64 per temporary).
HESSIAN_CHUNK = 2**20
#: From this many non-reference classes on (C >= 7), wide designs use
#: :func:`_neg_hessian_one_product` instead of ``(C-1)C/2`` separate weighted Gram matrices
#: (0.75 of the time at n = 1e5, p = 101, C = 8), which is slower for C <= 5.
ONE_PRODUCT_MIN_BLOCKS = 6


def softmax_neg_hessian(X: np.ndarray, P: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``sum_i w_i (diag(P_i) - P_i P_i^T) (x) x_i x_i^T``, the negated softmax Hessian.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    P : ndarray of shape (n, C - 1)
        Probabilities of the non-reference classes.
    w : ndarray of shape (n,)
        Non-negative row weights.

    Returns
    -------
    ndarray of shape ((C - 1) p, (C - 1) p)
        Block ``(c, d)`` is ``X^T diag(w P_c (delta_cd - P_d)) X``; the diagonal blocks use the
        weights ``w P_c (1 - P_c)`` (no cancellation). Three assemblies give the same matrix up
        to rounding; the fastest for the shape is used (measured at n = 1e6, p = 11: one or two
        non-reference classes, separate weighted Gram matrices; 3 to 7 classes,
        :func:`_neg_hessian_pairwise`, 2.2x faster than the other two for C = 8).
    """
    k, p = P.shape[1], X.shape[1]
    if k >= 3 and p <= PAIRWISE_MAX_COLS:
        return _neg_hessian_pairwise(X, P, w)
    if k >= ONE_PRODUCT_MIN_BLOCKS:
        return _neg_hessian_one_product(X, P, w)
    return _neg_hessian_blocks(X, P, w)


def _neg_hessian_blocks(X: np.ndarray, P: np.ndarray, w: np.ndarray) -> np.ndarray:
    """One weighted Gram matrix per block ``(c, d)``, ``c <= d``."""
    k, p = P.shape[1], X.shape[1]
    neg_h = np.zeros((k, p, k, p))
    for c in range(k):
        for d in range(c, k):
            a = P[:, c] * (1 - P[:, c]) if c == d else -P[:, c] * P[:, d]
            block = weighted_gram(X, w * a)
            neg_h[c, :, d, :] = block
            neg_h[d, :, c, :] = block.T
    return neg_h.reshape(k * p, k * p)


def _neg_hessian_pairwise(X: np.ndarray, P: np.ndarray, w: np.ndarray) -> np.ndarray:
    """All ``k(k+1)/2`` blocks by :func:`moe_lib._math.pairwise_weighted_grams`.

    The block weights ``w P_c (delta_cd - P_d)``, ``c <= d``, are formed per row block, so the
    (n, k(k+1)/2) array of them never exists; worth it while ``p`` is small.
    """
    p, k = X.shape[1], P.shape[1]
    cls_c, cls_d = np.triu_indices(k)
    on_diag = cls_c == cls_d

    def block_weights(rows: slice) -> np.ndarray:
        Pb = P[rows]
        A = Pb[:, cls_c] * Pb[:, cls_d]
        A[:, on_diag] = Pb * (1 - Pb)
        A[:, ~on_diag] *= -1
        A *= w[rows, None]
        return A

    grams = pairwise_weighted_grams(X, block_weights, cls_c.size)
    neg_h = np.zeros((k, p, k, p))
    for j, (c, d) in enumerate(zip(cls_c, cls_d, strict=True)):
        neg_h[c, :, d, :] = grams[j]
        neg_h[d, :, c, :] = grams[j]
    return neg_h.reshape(k * p, k * p)


def _neg_hessian_one_product(X: np.ndarray, P: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Diagonal blocks from ``w P_c (1 - P_c)``, off-diagonal ones from one product ``Y^T Y``.

    ``Y`` has the rows ``sqrt(w_i) P_i (x) x_i``, so ``Y^T Y`` holds every ``X^T diag(w P_c P_d) X``
    at once, instead of ``(C - 1)(C - 2)/2`` separate weighted Gram matrices. Rows are processed
    in chunks of :data:`HESSIAN_CHUNK` elements so that memory stays bounded.
    """
    n, p = X.shape
    k = P.shape[1]
    m = k * p
    diag = np.zeros((m, p))
    off = np.zeros((m, m))
    sw = np.sqrt(np.maximum(w, 0.0))
    step = max(1, HESSIAN_CHUNK // m)
    for start in range(0, n, step):
        rows = slice(start, start + step)
        Xs, Ps = X[rows], P[rows]
        Z = ((w[rows, None] * (Ps * (1 - Ps)))[:, :, None] * Xs[:, None, :]).reshape(-1, m)
        diag += Z.T @ Xs
        Y = ((sw[rows, None] * Ps)[:, :, None] * Xs[:, None, :]).reshape(-1, m)
        off += Y.T @ Y
    neg_h = -off.reshape(k, p, k, p)
    diag = diag.reshape(k, p, p)
    for c in range(k):
        neg_h[c, :, c, :] = diag[c]
    return neg_h.reshape(m, m)


def fit_weighted_softmax(
    X: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    coef_init: np.ndarray,
    *,
    alpha: float = 0.0,
    penalty_mask: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[np.ndarray, SolveInfo]:
    """Weighted, soft-label, L2-penalised softmax regression with a reference class.

    Maximises ``sum_i w_i sum_c T_ic log P_ic - alpha/2 * ||mask * coef||^2`` over ``coef`` with row
    0 fixed at zero, where ``P_i = softmax(coef @ x_i)``. Solved by Newton with step halving (or
    Newton-CG above :data:`MAX_NEWTON_DIM` free coefficients) until the largest gradient entry,
    divided by the total weight, is at most ``tol``.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    targets : ndarray of shape (n, C)
        Non-negative soft labels (rows usually sum to 1).
    weights : ndarray of shape (n,)
        Non-negative sample weights with a positive sum.
    coef_init : ndarray of shape (C, p)
        Warm start; its row 0 is ignored (the reference row is zero).
    alpha : float
        L2 penalty strength on the masked coefficients (>= 0).
    penalty_mask : ndarray of shape (p,), optional
        1 for penalised columns, 0 for unpenalised ones (the intercept). Default: all penalised.
    tol : float
        Gradient tolerance per unit weight.
    max_iter : int
        Bound on Newton iterations.

    Returns
    -------
    coef : ndarray of shape (C, p)
        Row 0 is zero.
    info : SolveInfo
    """
    n, p = X.shape
    C = targets.shape[1]
    mask = np.ones(p) if penalty_mask is None else np.asarray(penalty_mask, dtype=float)
    wsum = float(np.sum(weights))
    if not wsum > 0:
        raise ValueError("weights must have a positive sum to fit a softmax regression")
    scale = 1.0 / wsum
    weighted_targets = weights[:, None] * targets
    row_weight = weights * row_sum(targets)
    m = (C - 1) * p

    def full(v: np.ndarray) -> np.ndarray:
        return np.vstack([np.zeros((1, p)), v.reshape(C - 1, p)])

    binary = C == 2
    # The targets' part of the gradient does not depend on the coefficients.
    targets_r = np.ascontiguousarray(weighted_targets[:, 1:])
    targets_x = targets_r.T @ X
    unit_rows = bool(np.all(row_weight == 1.0))
    blocks = row_blocks(n, max(C - 1, p))
    last: dict[str, object] = {}

    def evaluate(v: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
        """Probabilities of the non-reference classes (n, C - 1), the objective, its gradient.

        One pass over ``X`` in row blocks (scores, log-sum-exp, probabilities, and the products
        with ``X`` of the gradient), cached at the last point: Newton asks for the value, the
        gradient and the Hessian at the same point in turn.
        """
        if "v" in last and np.array_equal(last["v"], v):
            return last["out"]  # type: ignore[return-value]
        B = v.reshape(C - 1, p)
        P = np.empty((n, C - 1))
        value = 0.0
        weighted_px = np.zeros((C - 1, p))
        for rows in blocks:
            Xb = X[rows]
            # The reference class has score 0: only the other C - 1 scores are computed.
            scores = Xb @ B.T
            if binary:
                # Two classes: the softmax is the logistic function of the one score.
                lse, s = softplus_expit(scores[:, 0])
                Pb = s[:, None]
            else:
                lse, Pb = reference_lse_softmax(scores)
            value += np.vdot(targets_r[rows], scores) - row_weight[rows] @ lse
            P[rows] = Pb
            weighted_px += (Pb if unit_rows else row_weight[rows, None] * Pb).T @ Xb
        value -= 0.5 * alpha * np.sum(mask * B**2)
        G = targets_x - weighted_px - alpha * mask * B
        out = (P, float(value) * scale, G.ravel() * scale)
        last["v"], last["out"] = np.array(v, dtype=float, copy=True), out
        return out

    def fun(v: np.ndarray) -> float:
        return evaluate(v)[1]

    def grad(v: np.ndarray) -> np.ndarray:
        return evaluate(v)[2]

    def fun_grad(v: np.ndarray) -> tuple[float, np.ndarray]:
        return evaluate(v)[1:]

    def hess(v: np.ndarray) -> np.ndarray:
        neg_h = softmax_neg_hessian(X, evaluate(v)[0], row_weight)
        neg_h[np.diag_indices(m)] += alpha * np.tile(mask, C - 1)
        return -neg_h * scale

    cache: dict[str, np.ndarray] = {}

    def hessp(v: np.ndarray, u: np.ndarray) -> np.ndarray:
        # Newton-CG calls this many times at the same v: compute the probabilities once per v.
        if "v" not in cache or not np.array_equal(cache["v"], v):
            cache["v"], cache["P"] = v.copy(), evaluate(v)[0]
        P = cache["P"]
        U = u.reshape(C - 1, p)
        XU = X @ U.T
        PXU = P * XU
        HU = row_weight[:, None] * (PXU - P * row_sum(PXU)[:, None])
        return -(HU.T @ X + alpha * mask * U).ravel() * scale

    v0 = np.asarray(coef_init, dtype=float)[1:].ravel()
    if m <= MAX_NEWTON_DIM:
        v, info = newton_maximize(fun, grad, hess, v0, tol=tol, max_iter=max_iter)
    else:
        v, info = newton_cg_maximize(fun_grad, hessp, v0, tol=tol, max_iter=max_iter)
    return full(v), info
