"""The symmetric two-expert models SymMoLinE and SymMoLogE, in closed form.

Fruytier, Mokhtari & Sanghavi (2025) study two experts with opposite regressors, ``beta_1 = beta``
and ``beta_2 = -beta``; write ``s_1 = +1`` and ``s_2 = -1``:

- **SymMoLinE** (``kind="linear"``): ``y = s_z x^T beta + eps`` with ``eps ~ N(0, 1)``;
- **SymMoLogE** (``kind="logistic"``): ``P(y = 1 | x, z) = sig(s_z x^T beta)``, ``y in {0, 1}``.

Our conventions (the book states them as ours, not the paper's):

- the gate is ``P(z = 1 | x) = sig(x^T w)`` with a single vector ``w`` (digest §8 item 2);
- ``x ~ N(0, I_d)`` with no intercept (§8 item 3);
- expert labels are the paper's ``z in {1, 2}``; ``z = 1`` is the ``+beta`` expert with gate
  probability ``sig(x^T w)``. In the generic code (:mod:`moe_lib.model`) that expert has index 1
  and ``z = 2`` (the ``-beta`` expert, gate reference) has index 0: ``index = 2 - z``;
- ``L`` is the *mean negative* log-likelihood, every constant included.

Everything here is computed from the closed forms of the digest (§1.4, §2.7, §2.8, §4.5, §5.3),
independently of :mod:`moe_lib.algorithms`, :mod:`moe_lib.gating` and :mod:`moe_lib.experts`, so
that the generic machinery can be checked against it. With ``u = x^T w``, ``a = x^T beta`` and
``c = 2y`` (linear) or ``c = 2y - 1`` (logistic):

- posterior ``p = P(z = 1 | x, y) = sig(u + c a)``;
- complete-data log-partition ``A_x = sp(u) + a^2/2`` (linear) or ``sp(u) + sp(a)`` (logistic);
- ``grad L = grad A - T_bar``; ``hess L = hess A - I_{z|x,y}`` with ``I_{z|x,y} = E[p(1-p) g g^T]``,
  ``g = (x, c x)``;
- the EM step is the unit-step mirror-descent step ``grad A(theta+) = grad A(theta) - grad L``;
  near a fixed point it contracts like ``M = (hess A)^{-1} I_{z|x,y}`` (missing information).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from scipy.special import expit, log_expit
from sklearn.exceptions import ConvergenceWarning

from moe_lib._linalg import weighted_gram
from moe_lib._regression import LogisticRegressions
from moe_lib._solvers import INNER_MAX_ITER, maximize
from moe_lib.params import MoEParams

KINDS = ("linear", "logistic")
METHODS = ("em", "gradient_em", "gd")

RngLike = np.random.Generator | int | None


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------
def _check_kind(kind: str) -> str:
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


def _rng(rng: RngLike) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, int | np.integer):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def _vector(v: np.ndarray, name: str, d: int | None = None) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if v.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {v.shape}")
    if d is not None and v.shape[0] != d:
        raise ValueError(f"{name} must have shape ({d},) to match X, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite")
    return v


def _check_X(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-dimensional array (n, d), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X must be finite")
    return X


def _check_data(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    _check_kind(kind)
    X = _check_X(X)
    n, d = X.shape
    y = np.asarray(y, dtype=float)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite")
    if kind == "logistic" and not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold binary labels in {0, 1} for kind='logistic'")
    return X, y, _vector(w, "w", d), _vector(beta, "beta", d)


def _check_theta(w: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = _vector(w, "w")
    beta = _vector(beta, "beta", w.shape[0])
    return w, beta


def _sig_prime(u: np.ndarray) -> np.ndarray:
    s = expit(u)
    return s * (1.0 - s)


def _weighted_gram(X: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``mean_i weights_i x_i x_i^T``, shape (d, d)."""
    return weighted_gram(X, weights) / X.shape[0]


def _lambda_max_cov(X: np.ndarray) -> float:
    """Largest eigenvalue of ``Sigma_hat = X^T X / n``."""
    return float(linalg.eigvalsh(X.T @ X / X.shape[0])[-1])


def _check_full_rank(X: np.ndarray) -> tuple[np.ndarray, bool]:
    """Cholesky factor of ``Sigma_hat = X^T X / n``; ``ValueError`` if X is (numerically)
    rank deficient, where the M-steps have no unique solution."""
    gram = X.T @ X / X.shape[0]
    try:
        factor = linalg.cho_factor(gram, lower=True)
    except linalg.LinAlgError:
        factor = None
    if factor is None or np.min(np.abs(np.diag(factor[0]))) ** 2 <= 1e-13 * np.max(np.diag(gram)):
        raise ValueError(
            "X must have full column rank (X^T X is singular): the EM step is not unique"
        )
    return factor


def _sign_factor(kind: str, y: np.ndarray) -> np.ndarray:
    """``c = 2y`` (linear) or ``2y - 1`` (logistic): the posterior log-odds are ``u + c a``."""
    return 2.0 * y if kind == "linear" else 2.0 * y - 1.0


# --------------------------------------------------------------------------------------------
# Sampling and instances
# --------------------------------------------------------------------------------------------
def sample(
    kind: str, w: np.ndarray, beta: np.ndarray, n: int, rng: RngLike = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` samples ``(x, y, z)`` from SymMoLinE or SymMoLogE with ``x ~ N(0, I_d)``.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    w : ndarray of shape (d,)
        Gate vector: ``P(z = 1 | x) = sig(x^T w)``.
    beta : ndarray of shape (d,)
        Regressor of expert ``z = 1``; expert ``z = 2`` uses ``-beta``.
    n : int
        Number of samples (>= 1).
    rng : numpy Generator, int seed or None

    Returns
    -------
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
        Real responses (linear) or labels in {0., 1.} (logistic).
    z : ndarray of shape (n,), int
        Expert labels in {1, 2}; ``z = 1`` is the ``+beta`` expert (generic index ``2 - z``).
    """
    _check_kind(kind)
    w, beta = _check_theta(w, beta)
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    gen = _rng(rng)
    d = w.shape[0]
    X = gen.standard_normal((int(n), d))
    z = np.where(gen.random(int(n)) < expit(X @ w), 1, 2)
    s = np.where(z == 1, 1.0, -1.0)
    a = s * (X @ beta)
    if kind == "linear":
        y = a + gen.standard_normal(int(n))
    else:
        y = (gen.random(int(n)) < expit(a)).astype(float)
    return X, y, z


def _unit_vector(d: int, gen: np.random.Generator) -> np.ndarray:
    v = gen.standard_normal(d)
    return v / np.linalg.norm(v)


def random_instance(
    kind: str, d: int, snr: float, w_norm: float = 1.0, rng: RngLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """A true parameter ``theta* = (w*, beta*)`` with directions uniform on the sphere.

    ``||beta*|| = snr`` (the SNR of :func:`snr`; the noise scale is 1 for SymMoLinE) and
    ``||w*|| = w_norm`` (digest §8 items 4 and 12: our choice).

    Parameters
    ----------
    kind : {"linear", "logistic"}
    d : int
        Dimension (>= 1).
    snr : float
        ``||beta*||`` (> 0).
    w_norm : float
        ``||w*||`` (>= 0).
    rng : numpy Generator, int seed or None

    Returns
    -------
    w_star, beta_star : ndarray of shape (d,)
    """
    _check_kind(kind)
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1:
        raise ValueError(f"d must be an integer >= 1, got {d!r}")
    if not (np.isfinite(snr) and snr > 0):
        raise ValueError(f"snr must be finite and > 0, got {snr!r}")
    if not (np.isfinite(w_norm) and w_norm >= 0):
        raise ValueError(f"w_norm must be finite and >= 0, got {w_norm!r}")
    gen = _rng(rng)
    w_star = float(w_norm) * _unit_vector(int(d), gen)
    beta_star = float(snr) * _unit_vector(int(d), gen)
    return w_star, beta_star


def initial_point(
    w_star: np.ndarray, beta_star: np.ndarray, rng: RngLike = None, *, radius: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Start ``theta^1 = theta* + Delta`` with ``||Delta_w|| = radius ||w*||`` and
    ``||Delta_beta|| = radius ||beta*||`` in uniformly random directions (digest §8 item 13).

    With ``radius = 1`` the initial relative errors are 1, as in the paper's figures.

    Parameters
    ----------
    w_star, beta_star : ndarray of shape (d,)
    rng : numpy Generator, int seed or None
    radius : float
        Relative size of the perturbation (>= 0).

    Returns
    -------
    w0, beta0 : ndarray of shape (d,)

    Raises
    ------
    ValueError
        If the start would be ``theta = 0``, a fixed point of EM (both ``w*`` and ``beta*`` zero).
    """
    w_star, beta_star = _check_theta(w_star, beta_star)
    if not (np.isfinite(radius) and radius >= 0):
        raise ValueError(f"radius must be finite and >= 0, got {radius!r}")
    if not (np.any(w_star) or np.any(beta_star)):
        raise ValueError("w_star and beta_star are both 0: the start would be the fixed point 0")
    gen = _rng(rng)
    d = w_star.shape[0]
    w0 = w_star + radius * np.linalg.norm(w_star) * _unit_vector(d, gen)
    beta0 = beta_star + radius * np.linalg.norm(beta_star) * _unit_vector(d, gen)
    return w0, beta0


def snr(kind: str, beta: np.ndarray) -> float:
    """Signal-to-noise ratio ``||beta||_2`` (our choice, digest §8 item 4).

    For SymMoLinE this is ``||beta|| / sigma`` with ``sigma = 1``; for SymMoLogE it is the norm on
    the logit scale.
    """
    _check_kind(kind)
    return float(np.linalg.norm(_vector(beta, "beta")))


# --------------------------------------------------------------------------------------------
# Likelihood, posterior, gradient
# --------------------------------------------------------------------------------------------
def posterior(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """``p_i = P(z_i = 1 | x_i, y_i)``, the posterior weight of the ``+beta`` expert.

    ``sig(x^T w + 2 y x^T beta)`` (linear) or ``sig(x^T w + (2y - 1) x^T beta)`` (logistic).

    Returns
    -------
    ndarray of shape (n,)
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    return expit(X @ w + _sign_factor(kind, y) * (X @ beta))


def neg_loglik(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray) -> float:
    """Mean negative log-likelihood ``L = -(1/n) sum_i log p(y_i | x_i)``, all constants included.

    Computed with ``logaddexp`` of the two experts' log-joint terms (log-sigmoid gate).
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    u, a = X @ w, X @ beta
    if kind == "linear":
        # log N(y; +-a, 1) = -log(2 pi)/2 - (y^2 + a^2)/2 +- y a
        base = -0.5 * np.log(2 * np.pi) - 0.5 * (y**2 + a**2)
        per = base + np.logaddexp(log_expit(u) + y * a, log_expit(-u) - y * a)
    else:
        sa = (2.0 * y - 1.0) * a
        per = np.logaddexp(log_expit(u) + log_expit(sa), log_expit(-u) + log_expit(-sa))
    return float(-np.mean(per))


def gradient(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of :func:`neg_loglik`, ``grad L = grad A - T_bar`` (digest §2.8).

    - gate: ``E[(sig(x^T w) - p) x]``;
    - linear experts: ``Sigma_hat beta - E[(2p - 1) y x]``;
    - logistic experts: ``E[(sig(x^T beta) - y~) x]`` with ``y~ = p y + (1 - p)(1 - y)``.

    Returns
    -------
    grad_w, grad_beta : ndarray of shape (d,)
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    n = X.shape[0]
    p = expit(X @ w + _sign_factor(kind, y) * (X @ beta))
    grad_w = X.T @ (expit(X @ w) - p) / n
    if kind == "linear":
        grad_beta = X.T @ (X @ beta - (2.0 * p - 1.0) * y) / n
    else:
        y_soft = p * y + (1.0 - p) * (1.0 - y)
        grad_beta = X.T @ (expit(X @ beta) - y_soft) / n
    return grad_w, grad_beta


# --------------------------------------------------------------------------------------------
# One step of each method
# --------------------------------------------------------------------------------------------
def _soft_logistic_fit(
    X: np.ndarray, targets: np.ndarray, start: np.ndarray, tol: float, what: str
) -> np.ndarray:
    """``argmax_b mean_i [t_i x_i^T b - sp(x_i^T b)]`` by Newton, to a gradient of ``tol``.

    Two polishing chord steps follow (:func:`moe_lib._solvers.polish_steps`): without them a warm
    start whose gradient is already below ``tol`` is returned unchanged, and long EM runs stall at
    an error of about ``tol / curvature`` instead of converging to rounding level.
    """
    n = X.shape[0]
    problem = LogisticRegressions(X, targets, np.ones(n), np.ones((n, 1)), 0.0, np.ones(X.shape[1]))
    b, info = maximize(problem, start, tol=tol, max_iter=INNER_MAX_ITER, polish=2)
    g = problem.gradient(b)
    if not info.converged and np.max(np.abs(g)) > tol:
        warnings.warn(
            f"the {what} solve of the EM step stopped with gradient {np.max(np.abs(g)):.2e} > "
            f"tol={tol:g} after {info.n_iter} Newton iterations: the EM step is inexact",
            ConvergenceWarning,
            stacklevel=3,
        )
    return b


def em_update(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    tol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """One exact EM step (digest §2.7), computed from the closed forms.

    - E-step: ``p = posterior(kind, X, y, w, beta)``;
    - gate: soft-label logistic regression of ``p`` on ``X`` (Newton, warm start ``w``);
    - linear experts: ``beta+ = solve(X^T X, X^T ((2p - 1) y))``;
    - logistic experts: soft-label logistic regression of ``y~ = p y + (1 - p)(1 - y)`` on ``X``.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
        Must have full column rank.
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)
    tol : float
        Gradient tolerance (largest entry, per-sample mean scale) of the Newton solves.

    Returns
    -------
    w_new, beta_new : ndarray of shape (d,)
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be finite and > 0, got {tol!r}")
    gram = _check_full_rank(X)
    p = expit(X @ w + _sign_factor(kind, y) * (X @ beta))
    w_new = _soft_logistic_fit(X, p, w, tol, "gate")
    if kind == "linear":
        beta_new = linalg.cho_solve(gram, X.T @ ((2.0 * p - 1.0) * y) / X.shape[0])
    else:
        y_soft = p * y + (1.0 - p) * (1.0 - y)
        beta_new = _soft_logistic_fit(X, y_soft, beta, tol, "expert")
    return w_new, beta_new


def curvature_bounds(kind: str, X: np.ndarray) -> tuple[float, float]:
    """Per-block curvature bounds of ``Q(. | theta_t)`` (i.e. of ``hess A``), digest §6.

    Returns
    -------
    L_w, L_beta : float
        ``lambda_max(Sigma_hat) / 4`` for the gate; ``lambda_max(Sigma_hat)`` (linear) or
        ``lambda_max(Sigma_hat) / 4`` (logistic) for the experts, ``Sigma_hat = X^T X / n``.
    """
    _check_kind(kind)
    lam = _lambda_max_cov(_check_X(X))
    return 0.25 * lam, (lam if kind == "linear" else 0.25 * lam)


def gradient_em_update(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    step: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One gradient-EM step: a gradient step on ``Q(. | theta_t)`` with per-block steps.

    ``w+ = w - step / L_w grad_w L`` and ``beta+ = beta - step / L_beta grad_beta L`` with the
    bounds of :func:`curvature_bounds` (our reading of the paper's Gradient EM, digest §6).

    Parameters
    ----------
    step : float, optional
        Multiplier of the per-block steps ``1 / L_block`` (default 1, > 0).
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    mult = _check_step(step, 1.0)
    l_w, l_beta = curvature_bounds(kind, X)
    g_w, g_beta = gradient(kind, X, y, w, beta)
    return w - mult / l_w * g_w, beta - mult / l_beta * g_beta


def gd_update(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    step: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One gradient-descent step on ``L`` with one step for both blocks: ``theta - step grad L``.

    Parameters
    ----------
    step : float, optional
        Step size (> 0). Default ``1 / max(L_w, L_beta)`` of :func:`curvature_bounds`, safe because
        ``hess L <= hess A``.
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    if step is None:
        step = 1.0 / max(curvature_bounds(kind, X))
    eta = _check_step(step, 1.0)
    g_w, g_beta = gradient(kind, X, y, w, beta)
    return w - eta * g_w, beta - eta * g_beta


def _check_step(step: float | None, default: float) -> float:
    if step is None:
        return default
    if isinstance(step, bool) or not (np.isscalar(step) and np.isfinite(step) and step > 0):
        raise ValueError(f"step must be a finite number > 0 or None, got {step!r}")
    return float(step)


# --------------------------------------------------------------------------------------------
# Information matrices and rates
# --------------------------------------------------------------------------------------------
def complete_fisher(kind: str, X: np.ndarray, w: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Complete-data information ``hess A`` (block diagonal in ``(w, beta)``, digest §5.3).

    ``diag(E[sig'(x^T w) x x^T], E[x x^T])`` (linear) or
    ``diag(E[sig'(x^T w) x x^T], E[sig'(x^T beta) x x^T])`` (logistic), empirical means.

    Returns
    -------
    ndarray of shape (2d, 2d)
        Coordinates ordered ``(w, beta)``.
    """
    _check_kind(kind)
    X = _check_X(X)
    d = X.shape[1]
    w, beta = _vector(w, "w", d), _vector(beta, "beta", d)
    out = np.zeros((2 * d, 2 * d))
    out[:d, :d] = _weighted_gram(X, _sig_prime(X @ w))
    if kind == "linear":
        out[d:, d:] = X.T @ X / X.shape[0]
    else:
        out[d:, d:] = _weighted_gram(X, _sig_prime(X @ beta))
    return out


def missing_information(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """Missing information ``I_{z|x,y} = E[v g g^T]``, ``v = p(1 - p)``, ``g = (x, c x)``.

    ``c = 2y`` (linear) or ``2y - 1`` (logistic); ``p`` is :func:`posterior`. This is
    ``E[Cov_{z|x,y}(T_x)]`` and ``hess L = hess A - I_{z|x,y}`` (digest §4.5).

    Returns
    -------
    ndarray of shape (2d, 2d)
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    d = X.shape[1]
    c = _sign_factor(kind, y)
    p = expit(X @ w + c * (X @ beta))
    v = p * (1.0 - p)
    out = np.empty((2 * d, 2 * d))
    out[:d, :d] = _weighted_gram(X, v)
    out[:d, d:] = _weighted_gram(X, v * c)
    out[d:, :d] = out[:d, d:].T
    out[d:, d:] = _weighted_gram(X, v * c**2)
    return out


def mim(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Missing Information Matrix ``M = (hess A)^{-1} I_{z|x,y}`` (digest §5.3).

    At a fixed point of EM this is the Jacobian of the EM map.

    Returns
    -------
    ndarray of shape (2d, 2d)
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    _check_full_rank(X)
    return linalg.solve(
        complete_fisher(kind, X, w, beta), missing_information(kind, X, y, w, beta), assume_a="pos"
    )


def predicted_rate(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> float:
    """``lambda_max(M)``, the largest generalised eigenvalue of ``(I_{z|x,y}, hess A)``.

    Computed with ``scipy.linalg.eigh(I, hess A)`` (a symmetric-definite pencil, so the
    eigenvalues are real). Near a fixed point ``theta_hat`` the EM parameter error contracts by
    this factor per iteration, and the objective gap by about its square.
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    _check_full_rank(X)
    return _rate(kind, X, y, w, beta)


def _rate(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray) -> float:
    vals = linalg.eigh(
        missing_information(kind, X, y, w, beta),
        complete_fisher(kind, X, w, beta),
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
    radius); ``n_points`` points are drawn uniformly in it, and the centre is always included.
    The result estimates ``1 - alpha`` of Theorem B.2 on that ball (digest §8 item 5; a sampled
    supremum, hence a lower estimate of the true supremum).

    Parameters
    ----------
    radius : float
        Relative radius (>= 0).
    n_points : int
        Number of sampled points (>= 0) besides the centre.
    rng : numpy Generator, int seed or None

    Returns
    -------
    float
    """
    X, y, w, beta = _check_data(kind, X, y, w, beta)
    if not (np.isfinite(radius) and radius >= 0):
        raise ValueError(f"radius must be finite and >= 0, got {radius!r}")
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer) or n_points < 0:
        raise ValueError(f"n_points must be an integer >= 0, got {n_points!r}")
    _check_full_rank(X)
    gen = _rng(rng)
    d = w.shape[0]
    theta = np.concatenate([w, beta])
    r_abs = float(radius) * float(np.linalg.norm(theta))
    best = _rate(kind, X, y, w, beta)
    for _ in range(int(n_points)):
        direction = _unit_vector(2 * d, gen)
        point = theta + r_abs * gen.random() ** (1.0 / (2 * d)) * direction
        best = max(best, _rate(kind, X, y, point[:d], point[d:]))
    return best


# --------------------------------------------------------------------------------------------
# Bridges and drivers
# --------------------------------------------------------------------------------------------
def to_moe_params(w: np.ndarray, beta: np.ndarray) -> MoEParams:
    """Generic parameters for ``SymmetricLinearExperts`` / ``SymmetricLogisticExperts``.

    ``gate = [0, w]`` (expert 0 is the reference), ``coef = [-beta, +beta]``, ``sigma = None``; use
    with ``make_data(X, y, fit_intercept=False)``.
    """
    w, beta = _check_theta(w, beta)
    return MoEParams(
        gate=np.vstack([np.zeros_like(w), w]), coef=np.vstack([-beta, beta]), sigma=None
    )


def from_moe_params(params: MoEParams) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_moe_params`: ``(w, beta) = (gate[1], coef[1])``.

    Raises
    ------
    ValueError
        If the shapes are not those of a symmetric pair, ``gate[0] != 0`` or
        ``coef[0] != -coef[1]`` (relative tolerance 1e-12).
    """
    if not isinstance(params, MoEParams):
        raise TypeError(f"params must be a MoEParams, got {type(params).__name__}")
    gate, coef = np.asarray(params.gate, dtype=float), np.asarray(params.coef, dtype=float)
    if gate.ndim != 2 or gate.shape[0] != 2 or coef.shape != gate.shape:
        raise ValueError(
            "params must have gate and coef of the same shape (2, d), got "
            f"gate {gate.shape} and coef {coef.shape}"
        )
    if np.any(gate[0] != 0):
        raise ValueError("params.gate[0] must be 0 (the reference expert)")
    scale = max(float(np.max(np.abs(coef))), 1.0)
    if np.max(np.abs(coef[0] + coef[1])) > 1e-12 * scale:
        raise ValueError("params.coef must be a symmetric pair: coef[0] == -coef[1]")
    return gate[1].copy(), coef[1].copy()


@dataclass(frozen=True)
class MethodPath:
    """The iterates of :func:`run_method`.

    Attributes
    ----------
    w, beta : ndarray of shape (n_iter + 1, d)
        Row ``t`` is the iterate after ``t`` steps (row 0 the start).
    loss : ndarray of shape (n_iter + 1,)
        ``L`` (mean negative log-likelihood) at each iterate.
    kind, method : str
    """

    w: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    kind: str
    method: str

    @property
    def theta(self) -> np.ndarray:
        """Iterates as ``(n_iter + 1, 2d)`` rows ``(w, beta)``."""
        return np.hstack([self.w, self.beta])


def run_method(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w0: np.ndarray,
    beta0: np.ndarray,
    method: str,
    n_iter: int,
    step: float | None = None,
) -> MethodPath:
    """Iterate EM, gradient EM or GD for ``n_iter`` steps and record every iterate and ``L``.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X, y : data
    w0, beta0 : ndarray of shape (d,)
        Start.
    method : {"em", "gradient_em", "gd"}
        :func:`em_update`, :func:`gradient_em_update` or :func:`gd_update`.
    n_iter : int
        Number of steps (>= 0).
    step : float, optional
        Multiplier of the per-block steps (``"gradient_em"``) or the step size (``"gd"``);
        ignored by EM.

    Returns
    -------
    MethodPath
        If an iterate becomes non-finite (a too large step), a ``RuntimeWarning`` is issued and
        the remaining rows are ``nan``.
    """
    X, y, w0, beta0 = _check_data(kind, X, y, w0, beta0)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(n_iter, bool) or not isinstance(n_iter, int | np.integer) or n_iter < 0:
        raise ValueError(f"n_iter must be an integer >= 0, got {n_iter!r}")
    if method != "em":
        _check_step(step, 1.0)
    d = X.shape[1]
    W = np.full((n_iter + 1, d), np.nan)
    B = np.full((n_iter + 1, d), np.nan)
    loss = np.full(n_iter + 1, np.nan)
    w, beta = w0, beta0
    W[0], B[0], loss[0] = w, beta, neg_loglik(kind, X, y, w, beta)
    for t in range(1, n_iter + 1):
        if method == "em":
            w, beta = em_update(kind, X, y, w, beta)
        elif method == "gradient_em":
            w, beta = gradient_em_update(kind, X, y, w, beta, step)
        else:
            w, beta = gd_update(kind, X, y, w, beta, step)
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(beta))):
            warnings.warn(
                f"{method} produced a non-finite iterate at step {t}; the remaining rows are nan "
                "(reduce step)",
                RuntimeWarning,
                stacklevel=2,
            )
            break
        W[t], B[t], loss[t] = w, beta, neg_loglik(kind, X, y, w, beta)
    return MethodPath(W, B, loss, kind, method)


def align_sign(
    w: np.ndarray,
    beta: np.ndarray,
    w_star: np.ndarray,
    beta_star: np.ndarray,
    kind: str = "linear",
) -> tuple[np.ndarray, np.ndarray]:
    """The representative of ``(w, beta)`` closest to theta* among the parameters with its law.

    Both models have the label swap ``(w, beta) ~ (-w, -beta)``. SymMoLogE has a second symmetry:
    its observed law ``P(y=1|x) = (1 + tanh(x^T w / 2) tanh(x^T beta / 2)) / 2`` is symmetric in
    ``w`` and ``beta``, so with ``kind="logistic"`` the four images ``(+-w, +-beta)`` and
    ``(+-beta, +-w)`` are compared. Distances are Euclidean in ``(w, beta)`` jointly; ties keep
    the first image.

    Returns
    -------
    w, beta : ndarray of shape (d,)
    """
    _check_kind(kind)
    w, beta = _check_theta(w, beta)
    w_star = _vector(w_star, "w_star", w.shape[0])
    beta_star = _vector(beta_star, "beta_star", w.shape[0])
    images = [(w, beta), (-w, -beta)]
    if kind == "logistic":
        images += [(beta, w), (-beta, -w)]
    dist = [np.sum((a - w_star) ** 2) + np.sum((b - beta_star) ** 2) for a, b in images]
    a, b = images[int(np.argmin(dist))]
    return a.copy(), b.copy()
