"""The negated Hessian of a weighted softmax regression, assembled three ways.

``sum_i w_i (diag(P_i) - P_i P_i^T) (x) x_i x_i^T`` is a ``(C - 1) x (C - 1)`` grid of weighted Gram
matrices of the design; which assembly is fastest depends on the design's width and the number of
classes (measured at n = 1e6), so :func:`softmax_neg_hessian` picks one by shape.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from moe_lib._linalg import PAIRWISE_MAX_COLS, pairwise_weighted_grams, weighted_gram

#: From this many non-reference classes on (C >= 7), wide designs use
#: :func:`_neg_hessian_one_product` instead of ``(C-1)C/2`` separate weighted Gram matrices
#: (0.75 of the time at n = 1e5, p = 101, C = 8), which is slower for C <= 5.
ONE_PRODUCT_MIN_BLOCKS = 6
#: With that many classes, :func:`_neg_hessian_pairwise` stays the fastest up to this many columns
#: (measured at n = 1e4 and 1e5, nine non-reference classes: 0.49-0.51x the time of
#: :func:`_neg_hessian_one_product` at p = 21, 0.59-0.64x at p = 31, 0.77-0.92x at p = 41).
PAIRWISE_MAX_COLS_MANY_CLASSES = 40

#: Row chunk of :func:`_neg_hessian_one_product`, in array elements (8 MB of float64 per temporary).
HESSIAN_CHUNK = 2**20

#: A raw design's pair products are kept, as a sparse matrix, when at most this fraction of them
#: is non-zero (:func:`sparse_pair_products`: indicator features). Measured at n = 1e4, p = 21,
#: nine non-reference classes: a Hessian from the sparse products takes 0.5-0.7x the time of the
#: dense assembly at pair densities 0.6-13 % (the block weights then dominate).
SPARSE_PAIR_DENSITY = 0.1


def softmax_neg_hessian(
    X: np.ndarray, P: np.ndarray, w: np.ndarray,
    raw: tuple[sparse.csr_array, np.ndarray] | None = None,
) -> np.ndarray:
    """``sum_i w_i (diag(P_i) - P_i P_i^T) (x) x_i x_i^T``, the negated softmax Hessian.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    P : ndarray of shape (n, C - 1)
        Probabilities of the non-reference classes.
    w : ndarray of shape (n,)
        Non-negative row weights.
    raw : (csr_array, ndarray), optional
        When ``X = R @ A.T`` for a raw design ``R`` with sparse pair products
        (:func:`sparse_pair_products` of ``R``, and ``A``): every block is formed from the sparse
        products, ``A (R^T diag(.) R) A^T`` (one-hot features: standardisation centres them into
        a dense ``X``, whose blocks cost ``n p^2`` each).

    Returns
    -------
    ndarray of shape ((C - 1) p, (C - 1) p)
        Block ``(c, d)`` is ``X^T diag(w P_c (delta_cd - P_d)) X``; the diagonal blocks use the
        weights ``w P_c (1 - P_c)`` (no cancellation). Three assemblies give the same matrix up
        to rounding; the fastest for the shape is used (measured at n = 1e6, p = 11: one or two
        non-reference classes, separate weighted Gram matrices; 3 to 7 classes,
        :func:`_neg_hessian_pairwise`; more classes, the pairwise products up to
        :data:`PAIRWISE_MAX_COLS_MANY_CLASSES` columns and :func:`_neg_hessian_one_product`
        beyond).

    Examples
    --------
    >>> import numpy as np
    >>> X, P = np.array([[1.0], [2.0]]), np.array([[0.5], [0.25]])
    >>> softmax_neg_hessian(X, P, np.ones(2))  # sum_i p_i (1 - p_i) x_i^2
    array([[1.]])
    """
    k, p = P.shape[1], X.shape[1]
    if raw is not None:
        return _neg_hessian_pairwise(X, P, w, raw)
    if k >= 3 and p <= PAIRWISE_MAX_COLS:
        return _neg_hessian_pairwise(X, P, w)
    if k >= ONE_PRODUCT_MIN_BLOCKS:
        if p <= PAIRWISE_MAX_COLS_MANY_CLASSES:
            return _neg_hessian_pairwise(X, P, w)
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


def sparse_pair_products(R: np.ndarray) -> sparse.csr_array | None:
    """The products ``r_ia r_ib`` of the column pairs ``a <= b`` of an indicator-like design.

    Returns
    -------
    csr_array of shape (n, p(p+1)/2) or None
        The products in the order of ``np.triu_indices(p)`` when at most
        :data:`SPARSE_PAIR_DENSITY` of them are non-zero; None for other designs (decided from
        the columns' densities first, so a dense design costs one count), and for designs wider
        than :data:`PAIRWISE_MAX_COLS_MANY_CLASSES` columns (the pairs are found one by one).

    Examples
    --------
    >>> import numpy as np
    >>> R = np.zeros((100, 3)); R[7, 1] = R[7, 2] = R[9, 2] = 2.0
    >>> sparse_pair_products(R).toarray()[[7, 9]][:, 3:]  # pairs (1, 1), (1, 2), (2, 2)
    array([[4., 4., 4.],
           [0., 0., 4.]])
    >>> sparse_pair_products(np.ones((100, 3))) is None
    True
    """
    n, p = R.shape
    if p > PAIRWISE_MAX_COLS_MANY_CLASSES:
        return None
    cols_a, cols_b = np.triu_indices(p)
    limit = SPARSE_PAIR_DENSITY * n * cols_a.size
    counts = np.count_nonzero(R, axis=0)
    # Rows where both columns of a pair are non-zero: at least counts_a + counts_b - n (exactly
    # counts_a for a = b), so a dense design is turned down after this count alone.
    if n == 0 or np.sum(np.maximum(counts[cols_a] + counts[cols_b] - n, 0)) > limit:
        return None
    columns = sparse.csc_array(R)
    nonzero_rows = [columns.indices[columns.indptr[a] : columns.indptr[a + 1]] for a in range(p)]
    rows, cols, values, total = [], [], [], 0
    for j, (a, b) in enumerate(zip(cols_a, cols_b, strict=True)):
        at = (nonzero_rows[a] if a == b
              else np.intersect1d(nonzero_rows[a], nonzero_rows[b], assume_unique=True))
        rows.append(at)
        cols.append(np.full(at.size, j))
        values.append(R[at, a] * R[at, b])
        total += at.size
        if total > limit:
            return None
    data = (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols)))
    return sparse.csr_array(sparse.coo_array(data, shape=(n, cols_a.size)))


def raw_pairs(design) -> tuple[sparse.csr_array, np.ndarray] | None:
    """``raw`` of :func:`softmax_neg_hessian` for a ``moe_lib._problem.Design`` with a raw
    design whose pair products are sparse, else None; computed once per design (its ``memo``)."""
    if design is None or design.raw is None:
        return None
    if "raw pairs" not in design.memo:
        R, A = design.raw
        products = sparse_pair_products(R)
        design.memo["raw pairs"] = None if products is None else (products, A)
    return design.memo["raw pairs"]


def _neg_hessian_pairwise(
    X: np.ndarray, P: np.ndarray, w: np.ndarray,
    raw: tuple[sparse.csr_array, np.ndarray] | None = None,
) -> np.ndarray:
    """All ``k(k+1)/2`` blocks by :func:`moe_lib._linalg.pairwise_weighted_grams`, or from a raw
    design's sparse pair products mapped by ``A`` (``raw``, see :func:`softmax_neg_hessian`).

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

    if raw is None:
        grams = pairwise_weighted_grams(X, block_weights, cls_c.size)
    else:
        products, A = raw
        sums = np.zeros((products.shape[1], cls_c.size))
        step = max(512, HESSIAN_CHUNK // (4 * cls_c.size))
        for start in range(0, X.shape[0], step):
            rows = slice(start, start + step)
            sums += products[rows].T @ block_weights(rows)
        grams = np.zeros((cls_c.size, p, p))
        pair_a, pair_b = np.triu_indices(p)
        grams[:, pair_a, pair_b] = sums.T
        grams[:, pair_b, pair_a] = sums.T
        grams = A @ grams @ A.T  # (the raw Gram matrices, standardised: X = R A^T)
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
