"""The numerical kernels every layer shares: log-sum-exp and softmax, softplus and the logistic
function, and blocked weighted Gram matrices (faster than scipy's general versions here)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Up to this many entries along the last axis, :func:`max_last_axis` takes elementwise maxima of
#: column blocks instead of calling ``np.max``, whose reduction along a short contiguous axis costs
#: tens of nanoseconds per row (30-60x slower for K = 2 at n = 1e5).
_SHORT_AXIS = 16


def max_last_axis(a: np.ndarray) -> np.ndarray:
    """``np.max(a, axis=-1, keepdims=True)``, exactly (maxima are exact; NaN propagates)."""
    if not 2 <= a.shape[-1] <= _SHORT_AXIS:
        return np.max(a, axis=-1, keepdims=True)
    m = a
    while m.shape[-1] > 1:
        h = m.shape[-1] // 2
        top = np.maximum(m[..., :h], m[..., h : 2 * h])
        if m.shape[-1] % 2:
            top[..., :1] = np.maximum(top[..., :1], m[..., 2 * h :])
        m = top
    return m


def logsumexp(a: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(a)))`` along ``axis``, shifted by the maximum so that nothing overflows.

    Rows that are entirely ``-inf`` give ``-inf``.
    """
    if axis in (-1, a.ndim - 1):
        m = max_last_axis(a)
    else:
        m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the answer for an all -inf row
        if axis in (-1, a.ndim - 1):
            out = np.log(row_sum(np.exp(a - m)))[..., None] + m
        else:
            out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def softplus(u: np.ndarray) -> np.ndarray:
    """``log(1 + e^u)`` without overflow: ``max(u, 0) + log1p(e^{-|u|})``.

    The formula of ``-scipy.special.log_expit(-u)``, in numpy's vectorised ufuncs (3x faster at
    n = 1e6).
    """
    u = np.asarray(u, dtype=float)
    e = np.abs(u)
    np.negative(e, out=e)
    return softplus_from(u, np.exp(e, out=e), scratch=e)


def softplus_expit(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``softplus(u)`` and the logistic function ``expit(u) = 1 / (1 + e^{-u})`` from one ``exp``.

    Both use ``e = exp(-|u|) <= 1`` (:func:`expit_exp_minus_abs`): nothing overflows, small
    probabilities keep their relative accuracy, and ``e`` is the one temporary (page faults).

    Examples
    --------
    >>> sp, s = softplus_expit(np.array([-800.0, 0.0, 3.0]))
    >>> sp.round(6).tolist(), s.round(6).tolist()
    ([0.0, 0.693147, 3.048587], [0.0, 0.5, 0.952574])
    """
    s, e = expit_exp_minus_abs(u)
    return softplus_from(u, e, scratch=e), s


def expit_exp_minus_abs(
    u: np.ndarray, out: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The logistic function ``expit(u)`` and ``e = exp(-|u|)``, from one ``exp``.

    ``expit(u) = e / (1 + e)`` for ``u < 0`` (``e = e^u``: small probabilities keep their relative
    accuracy), else ``1 / (1 + e)``; ``e`` gives ``softplus(u)`` later (:func:`softplus_from`),
    if a value is asked for. ``out``: two arrays shaped like ``u`` to write the two into.

    Examples
    --------
    >>> s, e = expit_exp_minus_abs(np.array([-2.0, 0.0, 2.0]))
    >>> s.round(6).tolist(), e.round(6).tolist()
    ([0.119203, 0.5, 0.880797], [0.135335, 1.0, 0.135335])
    """
    u = np.asarray(u, dtype=float)
    s, e = (np.empty_like(u), np.empty_like(u)) if out is None else out
    np.abs(u, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    np.less(u, 0.0, out=s)  # 1 where u < 0, then e there, 1 elsewhere
    np.multiply(s, e, out=s)
    np.add(s, u >= 0.0, out=s)
    s /= 1.0 + e
    return s, e


def softplus_from(t: np.ndarray, e: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """``softplus(t) = max(t, 0) + log1p(e)`` from ``e = exp(-|t|)``, in a new array;
    ``scratch`` (``e`` itself, where the caller no longer needs it) holds ``max(t, 0)``."""
    out = np.log1p(e)
    out += np.maximum(t, 0.0, out=scratch)
    return out


def row_sum(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=-1)``, as a matrix-vector product when the last axis is short.

    numpy's reduction along a short contiguous axis costs ~10 ns per row; ``a @ ones`` runs in
    BLAS (measured at n = 1e6: 10x faster for 2 columns, 5x for 8). The summation order differs,
    so results can differ from ``np.sum`` in the last bit.
    """
    if a.ndim >= 1 and 2 <= a.shape[-1] <= _SHORT_AXIS and a.dtype == np.float64:
        return a @ np.ones(a.shape[-1])
    return np.sum(a, axis=-1)


#: Row blocks of the fused evaluations (:func:`row_blocks`) hold about this many elements per
#: (rows, width) array, so that a block's temporaries stay in the L2 cache (measured best of
#: 2**14..2**22 at n = 2e5, width 10). Larger temporaries also cost page faults: glibc hands
#: arrays of more than a few hundred kB back to the system when they are freed, so each
#: evaluation maps them afresh (at n = 1e4, p = 21, ten classes, one block of 2**18 elements took
#: 3.5 ms per evaluation, blocks of 2**16 elements 1.8 ms).
_EVAL_BLOCK_ELEMENTS = 2**16


def row_blocks(n: int, width: int) -> list[slice]:
    """Slices of ``range(n)`` for evaluating a model block by block.

    At n = 1e6 an elementwise pipeline over (n, K) arrays (scores, ``exp``, ``log1p``, products)
    is limited by memory traffic; on blocks of ~16k elements the temporaries stay in cache
    (measured: value and gradient of eight logistic experts in 0.47x the time).
    """
    rows = max(256, _EVAL_BLOCK_ELEMENTS // max(width, 1))
    return [slice(start, start + rows) for start in range(0, n, rows)]


def column_sum(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=0)`` of an (n, K) array, as a vector-matrix product (one BLAS pass)."""
    return np.ones(a.shape[0]) @ a


#: Rows per block of :func:`weighted_gram`: about this many array elements, so that the weighted
#: block stays in the L2 cache (measured best at n = 1e6: ~4096 rows for 11 columns, ~1024 for 101).
_GRAM_BLOCK_ELEMENTS = 2**16
#: From this many columns on, :func:`weighted_gram` uses a symmetric product of ``sqrt(w) X``
#: (half the flops) when the weights are non-negative; below it the general product is faster.
_GRAM_SYRK_MIN_COLS = 32


def weighted_gram(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``X^T diag(w) X``, accumulated over row blocks that stay in cache.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    w : ndarray of shape (n,)
        Row weights (any sign).

    Returns
    -------
    ndarray of shape (p, p)
        Equal to ``(X * w[:, None]).T @ X`` up to rounding (measured: 3e-15 relative), but without
        an (n, p) temporary: 2.4x faster at n = 1e6, p = 11 and 1.8x at p = 101, where
        memory traffic, not arithmetic, dominates the one-shot product.
    """
    n, p = X.shape
    gram = np.zeros((p, p))
    rows = max(256, _GRAM_BLOCK_ELEMENTS // max(p, 1))
    symmetric = p >= _GRAM_SYRK_MIN_COLS and bool(np.all(w >= 0))
    if symmetric:
        sw = np.sqrt(w)
    for start in range(0, n, rows):
        block = slice(start, start + rows)
        Xb = X[block]
        if symmetric:
            Yb = Xb * sw[block, None]
            gram += Yb.T @ Yb
        else:
            gram += (Xb * w[block, None]).T @ Xb
    return gram


#: :func:`pairwise_weighted_grams` applies to designs with at most this many columns.
PAIRWISE_MAX_COLS = 16
#: Rows per block of :func:`pairwise_weighted_grams` (its temporaries stay in the L2 cache).
PAIRWISE_BLOCK_ROWS = 512
#: :func:`weighted_grams` uses the pairwise products from this many Gram matrices on (measured
#: at n = 1e6, p = 11: 8 Gram matrices in 0.49x the time of 8 calls of :func:`weighted_gram`,
#: 4 in 0.94x, 2 in 1.9x).
PAIRWISE_MIN_GRAMS = 5


def weighted_grams(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``X^T diag(W[:, k]) X`` for every column ``k`` of ``W``.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    W : ndarray of shape (n, K)
        Row weights, one column per Gram matrix (any sign).

    Returns
    -------
    ndarray of shape (K, p, p)
    """
    p, K = X.shape[1], W.shape[1]
    if p <= PAIRWISE_MAX_COLS and K >= PAIRWISE_MIN_GRAMS:
        return pairwise_weighted_grams(X, lambda rows: W[rows], K)
    return np.stack([weighted_gram(X, W[:, k]) for k in range(K)]) if K else np.zeros((0, p, p))


def pairwise_weighted_grams(
    X: np.ndarray, block_weights: Callable[[slice], np.ndarray], n_grams: int
) -> np.ndarray:
    """Many weighted Gram matrices of a narrow design from one product per row block.

    Each row block contributes ``Z^T A``, where ``Z`` holds the products ``x_ia x_ib`` of the
    column pairs ``a <= b`` (``p(p+1)/2`` columns) and ``A = block_weights(rows)`` the weights,
    one column per Gram matrix. One pass over ``X`` serves all of them, at about half the flops
    of separate products, so it pays when ``p`` is small and there are many matrices.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    block_weights : callable
        ``rows -> ndarray of shape (rows, n_grams)``, the weights of a slice of rows (computed
        per block, so that an (n, n_grams) array need not exist).
    n_grams : int

    Returns
    -------
    ndarray of shape (n_grams, p, p)
    """
    n, p = X.shape
    cols_a, cols_b = np.triu_indices(p)
    sums = np.zeros((cols_a.size, n_grams))
    # The products are formed one row per column pair, ``p`` broadcast products per block, into
    # one buffer reused by every block: gathering columns (``Xb[:, cols_a] * Xb[:, cols_b]``)
    # made three fresh (rows, p(p+1)/2) arrays per block, which the allocator mapped afresh at
    # times (17-43 ms against 10-12 ms at n = 1e4, p = 21, 45 Gram matrices).
    starts = np.concatenate([[0], np.cumsum(np.arange(p, 0, -1))])
    z = np.empty((cols_a.size, min(n, PAIRWISE_BLOCK_ROWS)))
    for start in range(0, n, PAIRWISE_BLOCK_ROWS):
        rows = slice(start, start + PAIRWISE_BLOCK_ROWS)
        block_t = np.ascontiguousarray(X[rows].T)
        zr = z[:, : block_t.shape[1]]
        for a in range(p):
            np.multiply(block_t[a], block_t[a:], out=zr[starts[a] : starts[a + 1]])
        sums += zr @ block_weights(rows)
    grams = np.zeros((n_grams, p, p))
    grams[:, cols_a, cols_b] = sums.T
    grams[:, cols_b, cols_a] = sums.T
    return grams


def softmax(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(a - logsumexp(a))`` along ``axis``: probabilities that sum to 1, without overflow."""
    return np.exp(a - logsumexp(a, axis=axis, keepdims=True))


#: Scores up to this size cannot overflow ``exp`` (its limit is ~709.78).
_EXP_SAFE = 700.0


def reference_lse_softmax(
    scores: np.ndarray, want_softmax: bool = True, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Log-sum-exp and probabilities of a softmax whose reference class has score 0.

    Parameters
    ----------
    scores : ndarray of shape (n, C - 1)
        Scores of the non-reference classes (the reference's is 0).
    want_softmax : bool
        Also return the probabilities.
    out : ndarray of shape (n, C - 1), optional
        Where to write the probabilities (``scores`` itself is allowed: the fused evaluations
        overwrite each block's scores with its probabilities instead of allocating).

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
        e = np.exp(scores, out=out if want_softmax else None)
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
    return lse, np.divide(e, total[:, None], out=e if out is None else out)


def reference_lse_softmax_columns(
    scores: np.ndarray, top: float, sums_out: np.ndarray | None = None
) -> np.ndarray | None:
    """:func:`reference_lse_softmax` of class-major scores, the probabilities written over them.

    Parameters
    ----------
    scores : ndarray of shape (C - 1, n)
        Scores of the non-reference classes, one row per class; overwritten by their
        probabilities.
    top : float
        ``scores.max()`` (the caller has it).
    sums_out : ndarray of shape (n,), optional
        Where no score needs shifting, ``sum_c exp(scores_ci)`` is written here and None is
        returned: the caller takes the ``log1p`` later, if it needs the log-sum-exp at all.

    Returns
    -------
    ndarray of shape (n,) or None
        ``log(1 + sum_c exp(scores_ci))`` (None when written to ``sums_out`` as sums).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([[0.0, np.log(3.0)]])
    >>> reference_lse_softmax_columns(s, float(s.max())).round(4), s.round(2)
    (array([0.6931, 1.3863]), array([[0.5 , 0.75]]))
    """
    if top > _EXP_SAFE:
        lse, _ = reference_lse_softmax(scores.T, out=scores.T)
        return lse
    # Summing a class-major block over its classes adds contiguous rows (no short-axis
    # reduction), and one reciprocal per column replaces C - 1 divisions.
    np.exp(scores, out=scores)
    total = scores.sum(axis=0, out=sums_out)
    if sums_out is None:
        lse = np.log1p(total)
        total += 1.0
    else:
        lse, total = None, total + 1.0
    scores *= np.reciprocal(total, out=total)
    return lse


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


def lambda_max(X: np.ndarray, w: np.ndarray) -> float:
    """Largest eigenvalue of ``X^T diag(w) X`` (0 for a design without columns)."""
    if X.shape[1] == 0:
        return 0.0
    return float(np.linalg.eigvalsh(weighted_gram(X, w))[-1])
