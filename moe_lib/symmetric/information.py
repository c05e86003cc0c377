"""Information matrices and EM's local rate for SymMoLinE and SymMoLogE.

``hess L = hess A - I_{z|x,y}``: the complete-data information ``hess A`` (:func:`complete_fisher`)
minus the missing information ``I_{z|x,y} = E[Cov_{z|x,y}(T_x)]`` (:func:`missing_information`).
Near a fixed point EM contracts like the Missing Information Matrix
``M = (hess A)^{-1} I_{z|x,y}`` (:func:`mim`), at the rate ``lambda_max(M)``
(:func:`predicted_rate`); chapter 5 of the book derives these forms.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.special import expit

from moe_lib._linalg import weighted_gram
from moe_lib._validation import check_int, check_real
from moe_lib.symmetric._checks import (
    RngLike,
    check_data,
    check_full_rank,
    check_kind,
    check_rng,
    check_vector,
    check_X,
    sign_factor,
)
from moe_lib.symmetric.model import _unit_vector


def _mean_gram(X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``mean_i weights_i x_i x_i^T``, shape (d, d)."""
    return weighted_gram(X, weights) / X.shape[0]


def _sig_prime(u: np.ndarray) -> np.ndarray:
    s = expit(u)
    return s * (1.0 - s)


def complete_fisher(kind: str, X: np.ndarray, w: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Complete-data information ``hess A``, block diagonal in ``(w, beta)``.

    ``diag(E[sig'(x^T w) x x^T], E[x x^T])`` (linear) or
    ``diag(E[sig'(x^T w) x x^T], E[sig'(x^T beta) x x^T])`` (logistic), empirical means.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
    w, beta : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (2d, 2d)
        Coordinates ordered ``(w, beta)``.

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0]])
    >>> complete_fisher("linear", X, np.zeros(1), np.zeros(1)).tolist()
    [[0.25, 0.0], [0.0, 1.0]]
    """
    check_kind(kind)
    X = check_X(X)
    d = X.shape[1]
    w, beta = check_vector(w, "w", d), check_vector(beta, "beta", d)
    return _complete_fisher(kind, X, w, beta)


def _complete_fisher(kind, X, w, beta):
    d = X.shape[1]
    out = np.zeros((2 * d, 2 * d))
    out[:d, :d] = _mean_gram(X, _sig_prime(X @ w))
    if kind == "linear":
        out[d:, d:] = X.T @ X / X.shape[0]
    else:
        out[d:, d:] = _mean_gram(X, _sig_prime(X @ beta))
    return out


def missing_information(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """Missing information ``I_{z|x,y} = E[v g g^T]``, ``v = p(1 - p)``, ``g = (x, c x)``.

    ``c = 2y`` (linear) or ``2y - 1`` (logistic); ``p`` is the posterior
    (:func:`moe_lib.symmetric.posterior`). This is ``E[Cov_{z|x,y}(T_x)]``, and
    ``hess L = hess A - I_{z|x,y}``.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (2d, 2d)

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0]])
    >>> missing_information("logistic", X, np.array([1.0, 0.0]), np.zeros(1), np.zeros(1)).tolist()
    [[0.25, 0.0], [0.0, 0.25]]
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    return _missing_information(kind, X, y, w, beta)


def _missing_information(kind, X, y, w, beta):
    d = X.shape[1]
    c = sign_factor(kind, y)
    p = expit(X @ w + c * (X @ beta))
    v = p * (1.0 - p)
    out = np.empty((2 * d, 2 * d))
    out[:d, :d] = _mean_gram(X, v)
    out[:d, d:] = _mean_gram(X, v * c)
    out[d:, :d] = out[:d, d:].T
    out[d:, d:] = _mean_gram(X, v * c**2)
    return out


def mim(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Missing Information Matrix ``M = (hess A)^{-1} I_{z|x,y}``.

    At a fixed point of EM this is the Jacobian of the EM map.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
        Must have full column rank.
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (2d, 2d)

    Examples
    --------
    With ``w = 0`` SymMoLogE's labels carry no information on ``beta``: its block of ``M`` is 1.

    >>> X = np.array([[1.0], [-1.0]])
    >>> mim("logistic", X, np.array([1.0, 0.0]), np.zeros(1), np.zeros(1)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    check_full_rank(X)
    return linalg.solve(
        _complete_fisher(kind, X, w, beta),
        _missing_information(kind, X, y, w, beta),
        assume_a="pos",
    )


def predicted_rate(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> float:
    """``lambda_max(M)``, the largest generalised eigenvalue of ``(I_{z|x,y}, hess A)``.

    Computed with ``scipy.linalg.eigh(I, hess A)`` (a symmetric-definite pencil, so the
    eigenvalues are real). Near a fixed point ``theta_hat`` the EM parameter error contracts by
    this factor per iteration, and the objective gap by about its square.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
        Must have full column rank.
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)

    Returns
    -------
    float

    Examples
    --------
    >>> from moe_lib.symmetric import random_instance, sample
    >>> w_star, beta_star = random_instance("linear", 2, 4.0, rng=0)
    >>> X, y, _ = sample("linear", w_star, beta_star, 2000, rng=1)
    >>> 0 < predicted_rate("linear", X, y, w_star, beta_star) < 0.5  # high SNR: fast EM
    True
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    check_full_rank(X)
    return _rate(kind, X, y, w, beta)


def _rate(kind, X, y, w, beta):
    vals = linalg.eigh(
        _missing_information(kind, X, y, w, beta),
        _complete_fisher(kind, X, w, beta),
        eigvals_only=True,
    )
    return float(vals[-1])


def rate_in_ball(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    radius: float,
    n_points: int,
    rng: RngLike = None,
) -> float:
    """``sup lambda_max(M)`` over sampled points of a ball around ``theta = (w, beta)``.

    The ball is the Euclidean ball in ``R^{2d}`` of radius ``radius * ||theta||`` (relative
    radius, our choice); ``n_points`` points are drawn uniformly in it, and the centre is always
    included. The result estimates ``1 - alpha`` of the paper's Theorem B.2 on that ball (a
    sampled supremum, hence a lower estimate of the true supremum).

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
        Must have full column rank.
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)
        Centre of the ball.
    radius : float
        Relative radius (>= 0).
    n_points : int
        Number of sampled points (>= 0) besides the centre.
    rng : numpy Generator, int seed or None

    Returns
    -------
    float

    Examples
    --------
    >>> from moe_lib.symmetric import random_instance, sample
    >>> w_star, beta_star = random_instance("linear", 2, 2.0, rng=0)
    >>> X, y, _ = sample("linear", w_star, beta_star, 500, rng=1)
    >>> centre = predicted_rate("linear", X, y, w_star, beta_star)
    >>> rate_in_ball("linear", X, y, w_star, beta_star, 0.2, 5, rng=2) >= centre
    True
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    radius = check_real(radius, "radius", min_value=0.0)
    n_points = check_int(n_points, "n_points", min_value=0)
    check_full_rank(X)
    gen = check_rng(rng)
    d = w.shape[0]
    theta = np.concatenate([w, beta])
    r_abs = radius * float(np.linalg.norm(theta))
    best = _rate(kind, X, y, w, beta)
    # One point at a time: each needs its own generalised eigenproblem.
    for _ in range(n_points):
        direction = _unit_vector(2 * d, gen)
        point = theta + r_abs * gen.random() ** (1.0 / (2 * d)) * direction
        best = max(best, _rate(kind, X, y, point[:d], point[d:]))
    return best
