"""Many instances at once: the batched runs of chapter 6 of the book.

A :class:`Batch` stacks ``B`` instances of one model along axis 0 (``X`` of shape (B, n, d), ...);
:func:`run_batch` iterates one algorithm on all of them and returns :class:`BatchPaths`. The
loss, the gradients, the E-step, the gradient steps and the linear experts' M-step are vectorised
over the instances; the soft-label logistic regressions of the EM step are solved instance by
instance by the library's one solver layer (:class:`moe_lib.symmetric.steps.EMStepper`), so
that a batched EM step is the EM step of :func:`moe_lib.symmetric.em_step` on every instance (to
rounding: the batched products sum in another order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from moe_lib._linalg import softplus
from moe_lib._validation import check_array, check_choice, check_int
from moe_lib.fit import ALGORITHMS
from moe_lib.symmetric._checks import check_kind
from moe_lib.symmetric.model import initial_point, random_instance, sample
from moe_lib.symmetric.steps import E_STEP_PASSES, GRADIENT_STEP_PASSES, EMStepper

#: A run whose mean negative log-likelihood is not finite or exceeds this (a too large step) is
#: marked ``nan`` from then on.
DIVERGED_LOSS = 1e6


@dataclass(frozen=True)
class Batch:
    """``B`` instances of one model stacked along axis 0 (shapes checked on construction).

    Attributes
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (B, n, d)
    y : ndarray of shape (B, n)
    w_star, beta_star : ndarray of shape (B, d)
        True parameters.
    w0, beta0 : ndarray of shape (B, d)
        Starts.

    Examples
    --------
    >>> batch = make_batch("linear", [0, 1, 2], d=2, n=50)
    >>> batch.X.shape, batch.take([0, 2]).w0.shape
    ((3, 50, 2), (2, 2))
    """

    kind: str
    X: np.ndarray
    y: np.ndarray
    w_star: np.ndarray
    beta_star: np.ndarray
    w0: np.ndarray
    beta0: np.ndarray

    def __post_init__(self) -> None:
        check_kind(self.kind)
        X = check_array(self.X, "X", ndim=3)
        B, n, d = X.shape
        if B == 0 or n == 0 or d == 0:
            raise ValueError(f"X must have shape (B, n, d) with B, n, d >= 1, got {X.shape}")
        y = check_array(self.y, "y", shape=(B, n))
        if self.kind == "logistic" and not np.all((y == 0) | (y == 1)):
            raise ValueError("y must hold binary labels in {0, 1} for kind='logistic'")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        for name in ("w_star", "beta_star", "w0", "beta0"):
            object.__setattr__(self, name, check_array(getattr(self, name), name, shape=(B, d)))

    def take(self, idx: np.ndarray) -> Batch:
        """The instances ``idx`` (integer indices, repeats allowed, or a boolean mask)."""
        return Batch(
            self.kind,
            *(getattr(self, f)[idx] for f in ("X", "y", "w_star", "beta_star", "w0", "beta0")),
        )


@dataclass(frozen=True)
class BatchPaths:
    """What :func:`run_batch` returns: the iterates of every instance.

    Attributes
    ----------
    w, beta : ndarray of shape (B, T + 1, d)
        ``[b, t]`` is instance ``b`` after ``t`` steps (``t = 0``: the start); ``nan`` from the
        step at which a run diverged.
    loss : ndarray of shape (B, T + 1)
        Mean negative log-likelihood ``L`` at each iterate (``nan`` likewise).
    passes : ndarray of shape (B, T + 1)
        Cumulative passes over the data at each iterate (0 at the start; zeros if not given):
        4 per gradient step, 2 per EM step plus its M-step's (:func:`~moe_lib.symmetric.run`).

    Examples
    --------
    >>> paths = BatchPaths(np.zeros((2, 4, 3)), np.zeros((2, 4, 3)), np.zeros((2, 4)))
    >>> paths.loss.shape, paths.passes.shape
    ((2, 4), (2, 4))
    """

    w: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    passes: np.ndarray | None = None

    def __post_init__(self) -> None:
        w = check_array(self.w, "w", ndim=3, finite=False)
        beta = check_array(self.beta, "beta", shape=w.shape, finite=False)
        loss = check_array(self.loss, "loss", shape=w.shape[:2], finite=False)
        passes = np.zeros(w.shape[:2]) if self.passes is None else self.passes
        passes = check_array(passes, "passes", shape=w.shape[:2])
        for name, value in (("w", w), ("beta", beta), ("loss", loss), ("passes", passes)):
            object.__setattr__(self, name, value)


def make_batch(
    kind: str,
    seeds: Iterable[int],
    d: int = 10,
    snr: float = 2.0,
    w_norm: float = 1.0,
    n: int = 2000,
) -> Batch:
    """One instance per seed: ``theta*`` (:func:`~moe_lib.symmetric.random_instance`), ``n``
    samples (:func:`~moe_lib.symmetric.sample`) and a start
    (:func:`~moe_lib.symmetric.initial_point`), all from ``np.random.default_rng(seed)``.

    The defaults are chapter 6's main setting: ``d = 10``, ``||beta*|| = 2``, ``||w*|| = 1``,
    ``n = 2000``.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    seeds : iterable of int
        One seed (>= 0) per instance, at least one.
    d, snr, w_norm, n
        As in :func:`~moe_lib.symmetric.random_instance` and :func:`~moe_lib.symmetric.sample`.

    Returns
    -------
    Batch

    Examples
    --------
    >>> batch = make_batch("logistic", range(4), d=3, snr=4.0, w_norm=4.0, n=100)
    >>> batch.X.shape, round(float(np.linalg.norm(batch.w_star[0])), 12)
    ((4, 100, 3), 4.0)
    """
    check_kind(kind)
    seeds = [check_int(s, "seeds", min_value=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)  # instance seed = instance index
        w_star, beta_star = random_instance(kind, d, snr, w_norm=w_norm, rng=rng)
        X, y, _ = sample(kind, w_star, beta_star, n, rng)
        w0, beta0 = initial_point(w_star, beta_star, rng)
        rows.append((X, y, w_star, beta_star, w0, beta0))
    return Batch(kind, *(np.stack(col) for col in zip(*rows, strict=True)))


def _mv(X, v):  # (B, n, d), (B, d) -> (B, n)
    return (X @ v[..., None])[..., 0]


def _tmv(X, r):  # (B, n, d), (B, n) -> (B, d): mean_i r_i x_i
    return (r[:, None, :] @ X)[:, 0, :] / X.shape[1]


def _log_sig(u):
    # log sig(u) = -softplus(-u), stable for all u
    return -softplus(-u)


def _check_theta_batch(batch: Batch, w: object, beta: object, finite: bool = False):
    shape = batch.w0.shape
    return (
        check_array(w, "w", shape=shape, finite=finite),
        check_array(beta, "beta", shape=shape, finite=finite),
    )


def batch_loss_and_gradient(
    batch: Batch, w: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``L``, ``grad_w L`` and ``grad_beta L`` of every instance, in one pass over the data.

    The same quantities as :func:`~moe_lib.symmetric.neg_loglik` and
    :func:`~moe_lib.symmetric.gradient`, instance by instance; a row of ``w`` or ``beta`` that is
    not finite gives ``nan``.

    Parameters
    ----------
    batch : Batch
    w, beta : ndarray of shape (B, d)

    Returns
    -------
    loss : ndarray of shape (B,)
    grad_w, grad_beta : ndarray of shape (B, d)

    Examples
    --------
    >>> from moe_lib.symmetric import neg_loglik
    >>> batch = make_batch("linear", [0, 1], d=2, n=50)
    >>> loss, g_w, g_beta = batch_loss_and_gradient(batch, batch.w0, batch.beta0)
    >>> ref = neg_loglik("linear", batch.X[1], batch.y[1], batch.w0[1], batch.beta0[1])
    >>> bool(abs(loss[1] - ref) < 1e-13), g_w.shape
    (True, (2, 2))
    """
    w, beta = _check_theta_batch(batch, w, beta)
    return _evaluate(batch.kind, batch.X, batch.y, w, beta)


def _evaluate(kind, X, y, w, beta):
    u, a = _mv(X, w), _mv(X, beta)
    ls_u = _log_sig(u)  # log P(z = 1 | x); log P(z = 2 | x) = ls_u - u
    if kind == "linear":
        l_plus, l_minus = ls_u + y * a, ls_u - u - y * a
        lse = np.logaddexp(l_plus, l_minus)
        loss = -np.mean(lse - 0.5 * np.log(2 * np.pi) - 0.5 * (y**2 + a**2), axis=1)
        p = np.exp(l_plus - lse)  # posterior P(z = 1 | x, y) = sig(u + 2 y a)
        g_beta = _tmv(X, a - (2 * p - 1) * y)
    else:
        c = 2.0 * y - 1.0
        ls_ca = _log_sig(c * a)
        l_plus, l_minus = ls_u + ls_ca, ls_u - u + ls_ca - c * a
        lse = np.logaddexp(l_plus, l_minus)
        loss = -np.mean(lse, axis=1)
        p = np.exp(l_plus - lse)  # posterior P(z = 1 | x, y) = sig(u + (2y - 1) a)
        sig_ca = np.exp(ls_ca)
        sig_a = np.where(c > 0, sig_ca, 1.0 - sig_ca)
        g_beta = _tmv(X, sig_a - (p * y + (1 - p) * (1 - y)))
    g_w = _tmv(X, np.exp(ls_u) - p)
    return loss, g_w, g_beta


def batch_curvature_bounds(batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~moe_lib.symmetric.curvature_bounds` of every instance.

    Parameters
    ----------
    batch : Batch

    Returns
    -------
    L_w, L_beta : ndarray of shape (B,)

    Examples
    --------
    >>> L_w, L_beta = batch_curvature_bounds(make_batch("linear", [0, 1], d=2, n=50))
    >>> bool(np.allclose(L_beta, 4 * L_w))
    True
    """
    return _curvature(batch.kind, batch.X)


def _curvature(kind, X):
    lam = np.linalg.eigvalsh(X.transpose(0, 2, 1) @ X / X.shape[1])[:, -1]
    return 0.25 * lam, (lam if kind == "linear" else 0.25 * lam)


def batch_em_step(
    batch: Batch, w: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One exact EM step on every instance: :func:`~moe_lib.symmetric.em_step`, batched.

    Parameters
    ----------
    batch : Batch
    w, beta : ndarray of shape (B, d)
        A row that is not finite stays ``nan``.

    Returns
    -------
    w_new, beta_new : ndarray of shape (B, d)

    Examples
    --------
    >>> from moe_lib.symmetric import em_step
    >>> batch = make_batch("logistic", [0, 1], d=2, snr=4.0, w_norm=4.0, n=200)
    >>> w1, beta1 = batch_em_step(batch, batch.w0, batch.beta0)
    >>> ref = em_step("logistic", batch.X[0], batch.y[0], batch.w0[0], batch.beta0[0])
    >>> bool(np.allclose(w1[0], ref[0], rtol=0, atol=1e-12))
    True
    """
    w, beta = _check_theta_batch(batch, w, beta)
    return _em_step(batch.kind, batch.X, batch.y, w, beta)


def steppers(kind: str, X: np.ndarray, y: np.ndarray) -> list[EMStepper]:
    """One :class:`~moe_lib.symmetric.steps.EMStepper` per instance (``X`` (B, n, d)): the work
    consecutive EM steps of an instance share (its Gram factor, its inner solves' Hessians).

    Examples
    --------
    >>> batch = make_batch("linear", [0, 1], d=2, n=50)
    >>> len(steppers("linear", batch.X, batch.y))
    2
    """
    return [EMStepper(kind, X[i], y[i]) for i in range(X.shape[0])]


def _em_step(kind, X, y, w, beta, stepping=None):
    """The batched E-step, then each instance's M-step through the one solver layer."""
    stepping = steppers(kind, X, y) if stepping is None else stepping
    ok = np.all(np.isfinite(w), axis=1) & np.all(np.isfinite(beta), axis=1)
    c = 2.0 * y if kind == "linear" else 2.0 * y - 1.0
    p = expit(_mv(X, w) + c * _mv(X, beta))  # E-step
    w_new, beta_new = np.full(w.shape, np.nan), np.full(beta.shape, np.nan)
    for i in np.flatnonzero(ok):
        w_new[i], beta_new[i] = stepping[i].step(w[i], beta[i], p[i])
    return w_new, beta_new


def _check_step_sizes(step_size: object, B: int) -> np.ndarray:
    steps = check_array(step_size, "step_size")
    if steps.ndim > 1 or (steps.ndim == 1 and steps.shape[0] != B):
        raise ValueError(
            f"step_size must be a number or an array of shape ({B},) (one per instance), got "
            f"shape {steps.shape}"
        )
    if not np.all(steps > 0):
        raise ValueError("step_size must be > 0")
    return np.broadcast_to(steps, (B,))


def run_batch(
    batch: Batch, algorithm: str, n_iter: int, step_size: float | np.ndarray | None = None
) -> BatchPaths:
    """Iterate one algorithm on every instance of ``batch`` from its start.

    Parameters
    ----------
    batch : Batch
    algorithm : {"em", "gradient_em", "gd"}
    n_iter : int
        Number of steps (>= 0).
    step_size : float or ndarray of shape (B,), optional
        GD's step or gradient EM's multiplier of the per-block steps ``1 / L_block``, one for all
        instances or one per instance (> 0); ignored by EM. Default: ``1 / max(L_w, L_beta)`` per
        instance for GD, 1 for gradient EM (:func:`~moe_lib.symmetric.curvature_bounds`).

    Returns
    -------
    BatchPaths
        A run whose loss is not finite or exceeds :data:`DIVERGED_LOSS` is ``nan`` from then on.

    Examples
    --------
    >>> batch = make_batch("linear", range(3), d=2, n=200)
    >>> paths = run_batch(batch, "gd", 20, step_size=1.0)
    >>> paths.w.shape, paths.loss.shape
    ((3, 21, 2), (3, 21))
    >>> bool(np.all(paths.loss[:, -1] < paths.loss[:, 0]))
    True
    >>> paths.passes[0, :3]  # four per gradient step
    array([0., 4., 8.])
    """
    if not isinstance(batch, Batch):
        raise TypeError(f"batch must be a Batch, got {type(batch).__name__}")
    algorithm = check_choice(algorithm, "algorithm", ALGORITHMS)
    n_iter = check_int(n_iter, "n_iter", min_value=0)
    kind, X, y = batch.kind, batch.X, batch.y
    B, d = batch.w0.shape
    L_w, L_beta = _curvature(kind, X)
    if step_size is None:
        step = 1.0 / np.maximum(L_w, L_beta) if algorithm == "gd" else np.ones(B)
    else:
        step = _check_step_sizes(step_size, B)
    step = step[:, None]
    W = np.full((B, n_iter + 1, d), np.nan)
    Beta = np.full((B, n_iter + 1, d), np.nan)
    loss = np.full((B, n_iter + 1), np.nan)
    # Cumulative passes: a fixed cost per gradient step; EM's as its steppers count them.
    passes = np.tile(GRADIENT_STEP_PASSES * np.arange(n_iter + 1.0), (B, 1))
    w, beta = batch.w0.copy(), batch.beta0.copy()
    stepping = steppers(kind, X, y) if algorithm == "em" else None
    with np.errstate(all="ignore"):
        for t in range(n_iter + 1):
            cur, g_w, g_beta = _evaluate(kind, X, y, w, beta)
            bad = ~(np.isfinite(cur) & (cur < DIVERGED_LOSS))
            w[bad], beta[bad], cur[bad] = np.nan, np.nan, np.nan
            W[:, t], Beta[:, t], loss[:, t] = w, beta, cur
            if t == n_iter:
                break
            if algorithm == "em":
                w, beta = _em_step(kind, X, y, w, beta, stepping)
                # Every E-step so far and the M-steps' work (their Gram factors included).
                passes[:, t + 1] = [E_STEP_PASSES * (t + 1) + s.passes for s in stepping]
            elif algorithm == "gradient_em":
                w, beta = w - step / L_w[:, None] * g_w, beta - step / L_beta[:, None] * g_beta
            else:
                w, beta = w - step * g_w, beta - step * g_beta
    return BatchPaths(W, Beta, loss, passes)
