"""What chapter 6 of the book measures on batched runs: EM's limit, errors, hitting times.

- :func:`em_limit`: continue EM until the gradient vanishes, giving the reference ``theta_hat``;
- :func:`closest_image` and :func:`relative_errors`: parameter errors modulo the symmetries of
  the observed law (vectorised :func:`~moe_lib.symmetric.align_sign`);
- :func:`first_hit`: the first iteration at which a curve reaches a level.
"""

from __future__ import annotations

import numpy as np

from moe_lib._validation import check_array, check_bool, check_int, check_real
from moe_lib.symmetric.batch import (
    Batch,
    BatchPaths,
    _check_theta_batch,
    _em_step,
    _evaluate,
    steppers,
)


def _max_gradient(batch: Batch, w: np.ndarray, beta: np.ndarray) -> np.ndarray:
    _, g_w, g_beta = _evaluate(batch.kind, batch.X, batch.y, w, beta)
    return np.maximum(np.abs(g_w).max(axis=1), np.abs(g_beta).max(axis=1))


def em_limit(
    batch: Batch,
    w: np.ndarray,
    beta: np.ndarray,
    tol: float = 1e-10,
    max_iter: int = 5000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Continue EM from ``(w, beta)`` until ``max |grad L| <= tol`` on every instance.

    Only the instances still above ``tol`` take further steps, so each stops at the first EM
    iterate that meets the tolerance: its ``theta_hat``.

    Parameters
    ----------
    batch : Batch
    w, beta : ndarray of shape (B, d)
        Finite starting iterates, e.g. the last iterates of an EM run.
    tol : float
        Tolerance on the largest absolute entry of ``grad L`` (> 0).
    max_iter : int
        Bound on the extra EM steps per instance (>= 0).

    Returns
    -------
    w_hat, beta_hat : ndarray of shape (B, d)
    n_extra : ndarray of shape (B,), int
        EM steps taken by each instance.
    converged : ndarray of shape (B,), bool
        Whether the instance met the tolerance within ``max_iter`` steps.

    Examples
    --------
    >>> from moe_lib.symmetric import make_batch
    >>> batch = make_batch("linear", [0, 1], d=2, n=200)
    >>> w_hat, beta_hat, n_extra, converged = em_limit(batch, batch.w0, batch.beta0)
    >>> bool(converged.all()), bool(np.all(n_extra > 0))
    (True, True)
    """
    w, beta = _check_theta_batch(batch, w, beta, finite=True)
    tol = check_real(tol, "tol", min_value=0.0, strict=True)
    max_iter = check_int(max_iter, "max_iter", min_value=0)
    w, beta = w.copy(), beta.copy()
    n_extra = np.zeros(len(w), dtype=int)
    todo = _max_gradient(batch, w, beta) > tol
    stepping = steppers(batch.kind, batch.X, batch.y)
    for _ in range(max_iter):
        if not todo.any():
            break
        idx = np.flatnonzero(todo)
        w[idx], beta[idx] = _em_step(
            batch.kind, batch.X[idx], batch.y[idx], w[idx], beta[idx], [stepping[i] for i in idx]
        )
        n_extra[todo] += 1
        todo = _max_gradient(batch, w, beta) > tol
    return w, beta, n_extra, ~todo


def _check_paths(batch: Batch, paths: BatchPaths) -> None:
    if not isinstance(paths, BatchPaths):
        raise TypeError(f"paths must be a BatchPaths, got {type(paths).__name__}")
    B, d = batch.w0.shape
    if paths.w.shape[0] != B or paths.w.shape[2] != d:
        raise ValueError(
            f"paths must hold B = {B} instances in dimension d = {d} to match batch, got w of "
            f"shape {paths.w.shape}"
        )


def closest_image(
    batch: Batch, paths: BatchPaths, swap: bool | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every iterate replaced by the image of its law closest to ``theta*``.

    As :func:`~moe_lib.symmetric.align_sign`, per instance and iteration: the label swap
    ``(-w, -beta)`` in both models and, with ``swap`` (default: ``kind == "logistic"``), the
    gate/expert swaps ``(beta, w)`` and ``(-beta, -w)`` of SymMoLogE. Distances are Euclidean in
    ``(w, beta)`` jointly; ties keep the first image.

    Parameters
    ----------
    batch : Batch
    paths : BatchPaths
        Paths of the instances of ``batch``.
    swap : bool, optional
        Also compare the gate/expert swaps.

    Returns
    -------
    w, beta : ndarray of shape (B, T + 1, d)
    which : ndarray of shape (B, T + 1), int
        The image used: 0 ``(w, beta)``, 1 ``(-w, -beta)``, 2 ``(beta, w)``, 3 ``(-beta, -w)``.

    Examples
    --------
    >>> from moe_lib.symmetric import make_batch
    >>> batch = make_batch("logistic", [0], d=2, n=50)
    >>> ws, bs = batch.w_star[:, None, :], batch.beta_star[:, None, :]
    >>> paths = BatchPaths(np.concatenate([-bs, ws], 1), np.concatenate([-ws, bs], 1),
    ...                    np.zeros((1, 2)))
    >>> closest_image(batch, paths)[2].tolist()
    [[3, 0]]
    """
    _check_paths(batch, paths)
    swap = batch.kind == "logistic" if swap is None else check_bool(swap, "swap")
    ws, bs = batch.w_star[:, None, :], batch.beta_star[:, None, :]
    images = [(paths.w, paths.beta), (-paths.w, -paths.beta)]
    if swap:
        images += [(paths.beta, paths.w), (-paths.beta, -paths.w)]
    dist = np.stack([np.sum((a - ws) ** 2 + (b - bs) ** 2, axis=-1) for a, b in images])
    which = np.argmin(dist, axis=0)  # ties keep the first image, as in align_sign
    pick = which[None, ..., None]
    w = np.take_along_axis(np.stack([a for a, _ in images]), pick, axis=0)[0]
    beta = np.take_along_axis(np.stack([b for _, b in images]), pick, axis=0)[0]
    return w, beta, which


def relative_errors(
    batch: Batch, paths: BatchPaths, swap: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``||beta^t - beta*|| / ||beta*||`` and ``||w^t - w*|| / ||w*||`` modulo the symmetries.

    The iterates are first replaced by their :func:`closest_image` (``swap=False``: modulo the
    label swap only).

    Parameters
    ----------
    batch : Batch
    paths : BatchPaths
    swap : bool, optional
        As in :func:`closest_image`.

    Returns
    -------
    err_beta, err_w : ndarray of shape (B, T + 1)

    Examples
    --------
    >>> from moe_lib.symmetric import make_batch, run_batch
    >>> batch = make_batch("linear", [0, 1], d=2, n=50)
    >>> err_beta, err_w = relative_errors(batch, run_batch(batch, "em", 5))
    >>> err_beta[:, 0].round(12).tolist()  # the starts are at relative distance 1
    [1.0, 1.0]
    """
    w, beta, _ = closest_image(batch, paths, swap)
    ws, bs = batch.w_star[:, None, :], batch.beta_star[:, None, :]
    err_beta = np.linalg.norm(beta - bs, axis=-1) / np.linalg.norm(bs, axis=-1)
    err_w = np.linalg.norm(w - ws, axis=-1) / np.linalg.norm(ws, axis=-1)
    return err_beta, err_w


def first_hit(values: np.ndarray, level: float, never: int) -> np.ndarray:
    """First index ``t`` along the last axis with ``values[..., t] <= level``.

    Parameters
    ----------
    values : ndarray of shape (..., T)
        E.g. optimisation errors along paths (``nan`` never hits).
    level : float
    never : int
        Returned where the level is never reached.

    Returns
    -------
    ndarray of shape values.shape[:-1], int

    Examples
    --------
    >>> first_hit(np.array([[3.0, 1.0, 0.5], [3.0, 2.0, 2.0]]), 1.0, 99).tolist()
    [1, 99]
    """
    values = check_array(values, "values", finite=False)
    if values.ndim == 0:
        raise ValueError("values must have at least one axis (the iterations)")
    level = check_real(level, "level")
    never = check_int(never, "never")
    hit = values <= level
    return np.where(hit.any(axis=-1), hit.argmax(axis=-1), never)
