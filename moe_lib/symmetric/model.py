"""SymMoLinE and SymMoLogE: sampling, instances, likelihood, posterior, gradient, symmetries.

With ``u = x^T w``, ``a = x^T beta`` and ``c = 2y`` (linear) or ``c = 2y - 1`` (logistic) the
posterior of the ``+beta`` expert is ``p = sig(u + c a)`` and the gradient of the mean negative
log-likelihood is ``grad L = grad A - T_bar`` (chapter 5 of the book): the complete-data
log-partition's gradient minus the mean expected sufficient statistic. The bridges
:func:`to_moe_params` and :func:`from_moe_params` translate to the generic parameters of
:class:`moe_lib.experts.SymmetricLinearExperts` and
:class:`moe_lib.experts.SymmetricLogisticExperts`.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from moe_lib._validation import check_int, check_real
from moe_lib.params import MoEParams
from moe_lib.symmetric._checks import (
    RngLike,
    check_data,
    check_kind,
    check_rng,
    check_theta,
    check_vector,
    sign_factor,
)
from moe_lib.symmetric._fused import evaluate


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

    Examples
    --------
    >>> X, y, z = sample("logistic", [1.0, 0.0], [0.0, 2.0], 5, rng=0)
    >>> X.shape, set(y.tolist()) <= {0.0, 1.0}, set(z.tolist()) <= {1, 2}
    ((5, 2), True, True)
    """
    check_kind(kind)
    w, beta = check_theta(w, beta)
    n = check_int(n, "n", min_value=1)
    gen = check_rng(rng)
    X = gen.standard_normal((n, w.shape[0]))
    z = np.where(gen.random(n) < expit(X @ w), 1, 2)
    a = np.where(z == 1, 1.0, -1.0) * (X @ beta)
    if kind == "linear":
        y = a + gen.standard_normal(n)
    else:
        y = (gen.random(n) < expit(a)).astype(float)
    return X, y, z


def _unit_vector(d: int, gen: np.random.Generator) -> np.ndarray:
    v = gen.standard_normal(d)
    return v / np.linalg.norm(v)


def random_instance(
    kind: str, d: int, snr: float, w_norm: float = 1.0, rng: RngLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """A true parameter ``theta* = (w*, beta*)`` with directions uniform on the sphere.

    ``||beta*|| = snr`` (the SNR of :func:`snr`; the noise scale is 1 for SymMoLinE) and
    ``||w*|| = w_norm``. Both norms are our choice: the paper fixes neither.

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

    Examples
    --------
    >>> w_star, beta_star = random_instance("linear", 3, 2.0, rng=0)
    >>> round(float(np.linalg.norm(beta_star)), 12), round(float(np.linalg.norm(w_star)), 12)
    (2.0, 1.0)
    """
    check_kind(kind)
    d = check_int(d, "d", min_value=1)
    snr = check_real(snr, "snr", min_value=0.0, strict=True)
    w_norm = check_real(w_norm, "w_norm", min_value=0.0)
    gen = check_rng(rng)
    w_star = w_norm * _unit_vector(d, gen)
    beta_star = snr * _unit_vector(d, gen)
    return w_star, beta_star


def initial_point(
    w_star: np.ndarray, beta_star: np.ndarray, rng: RngLike = None, *, radius: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Start ``theta^1 = theta* + Delta`` with ``||Delta_w|| = radius ||w*||`` and
    ``||Delta_beta|| = radius ||beta*||`` in uniformly random directions.

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

    Examples
    --------
    >>> w0, beta0 = initial_point(np.array([1.0, 0.0]), np.array([0.0, 2.0]), rng=0)
    >>> round(float(np.linalg.norm(beta0 - [0.0, 2.0])), 12)
    2.0
    """
    w_star, beta_star = check_theta(w_star, beta_star)
    radius = check_real(radius, "radius", min_value=0.0)
    if not (np.any(w_star) or np.any(beta_star)):
        raise ValueError("w_star and beta_star are both 0: the start would be the fixed point 0")
    gen = check_rng(rng)
    d = w_star.shape[0]
    w0 = w_star + radius * np.linalg.norm(w_star) * _unit_vector(d, gen)
    beta0 = beta_star + radius * np.linalg.norm(beta_star) * _unit_vector(d, gen)
    return w0, beta0


def snr(kind: str, beta: np.ndarray) -> float:
    """Signal-to-noise ratio ``||beta||_2`` (our definition; the paper does not fix one).

    For SymMoLinE this is ``||beta|| / sigma`` with ``sigma = 1``; for SymMoLogE it is the norm on
    the logit scale.

    Examples
    --------
    >>> snr("linear", [3.0, 4.0])
    5.0
    """
    check_kind(kind)
    return float(np.linalg.norm(check_vector(beta, "beta")))


def posterior(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> np.ndarray:
    """``p_i = P(z_i = 1 | x_i, y_i)``, the posterior weight of the ``+beta`` expert.

    ``sig(x^T w + 2 y x^T beta)`` (linear) or ``sig(x^T w + (2y - 1) x^T beta)`` (logistic).

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0]])
    >>> posterior("linear", X, np.array([0.0, 0.0]), np.zeros(1), np.ones(1)).tolist()
    [0.5, 0.5]
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    return _posterior(kind, X, y, w, beta)


def _posterior(kind, X, y, w, beta):
    return expit(X @ w + sign_factor(kind, y) * (X @ beta))


def neg_loglik(kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray) -> float:
    """Mean negative log-likelihood ``L = -(1/n) sum_i log p(y_i | x_i)``, all constants included.

    Computed without overflow as ``softplus(v) - softplus(u) + log f(-a)``, with the gate score
    ``u = x^T w``, the expert score ``a = x^T beta``, the posterior log-odds ``v`` and ``f`` the
    expert's density (``log p(y | x) = log(sig(-u) f(-a)) + log(1 + e^v)``).

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)

    Returns
    -------
    float

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0]])
    >>> round(neg_loglik("logistic", X, np.array([1.0, 0.0]), np.zeros(1), np.zeros(1)), 6)
    0.693147
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    return _neg_loglik(kind, X, y, w, beta)


def _neg_loglik(kind, X, y, w, beta):
    return evaluate(kind, X, y, w, beta, gradient=False)[0]


def gradient(
    kind: str, X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of :func:`neg_loglik`, ``grad L = grad A - T_bar`` (chapter 5 of the book).

    - gate: ``E[(sig(x^T w) - p) x]``;
    - linear experts: ``Sigma_hat beta - E[(2p - 1) y x]``;
    - logistic experts: ``E[(sig(x^T beta) - y~) x]`` with ``y~ = p y + (1 - p)(1 - y)``.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)

    Returns
    -------
    grad_w, grad_beta : ndarray of shape (d,)

    Examples
    --------
    At ``theta = 0`` the posterior is 1/2 and the gate gradient vanishes:

    >>> X = np.array([[1.0], [-1.0]])
    >>> g_w, g_beta = gradient("linear", X, np.array([1.0, -1.0]), np.zeros(1), np.zeros(1))
    >>> g_w.tolist(), g_beta.tolist()
    ([0.0], [0.0])
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    return _gradient(kind, X, y, w, beta)


def _gradient(kind, X, y, w, beta):
    _, _, grad_w, grad_beta = evaluate(kind, X, y, w, beta, gradient=True)
    return grad_w, grad_beta


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

    Parameters
    ----------
    w, beta : ndarray of shape (d,)
    w_star, beta_star : ndarray of shape (d,)
    kind : {"linear", "logistic"}

    Returns
    -------
    w, beta : ndarray of shape (d,)

    Examples
    --------
    >>> w, beta = align_sign([-1.0], [-2.0], [1.0], [2.0])
    >>> w.tolist(), beta.tolist()
    ([1.0], [2.0])
    >>> [v.tolist() for v in align_sign([2.0], [1.0], [1.0], [2.0], kind="logistic")]
    [[1.0], [2.0]]
    """
    check_kind(kind)
    w, beta = check_theta(w, beta)
    w_star = check_vector(w_star, "w_star", w.shape[0])
    beta_star = check_vector(beta_star, "beta_star", w.shape[0])
    images = [(w, beta), (-w, -beta)]
    if kind == "logistic":
        images += [(beta, w), (-beta, -w)]
    dist = [np.sum((a - w_star) ** 2) + np.sum((b - beta_star) ** 2) for a, b in images]
    a, b = images[int(np.argmin(dist))]
    return a.copy(), b.copy()


def to_moe_params(w: np.ndarray, beta: np.ndarray) -> MoEParams:
    """Generic parameters for ``SymmetricLinearExperts`` / ``SymmetricLogisticExperts``.

    ``gate = [0, w]`` (expert 0 is the reference), ``coef = [-beta, +beta]``, ``sigma = None``; use
    with ``make_data(X, y, fit_intercept=False)``.

    Parameters
    ----------
    w, beta : ndarray of shape (d,)

    Returns
    -------
    MoEParams
        ``gate`` and ``coef`` of shape (2, d).

    Examples
    --------
    >>> params = to_moe_params(np.array([1.0]), np.array([2.0]))
    >>> params.gate.tolist(), params.coef.tolist()
    ([[0.0], [1.0]], [[-2.0], [2.0]])
    """
    w, beta = check_theta(w, beta)
    return MoEParams(
        gate=np.vstack([np.zeros_like(w), w]), coef=np.vstack([-beta, beta]), sigma=None
    )


def from_moe_params(params: MoEParams) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`to_moe_params`: ``(w, beta) = (gate[1], coef[1])``.

    Parameters
    ----------
    params : MoEParams
        ``gate`` and ``coef`` of shape (2, d), ``gate[0] == 0``, ``coef[0] == -coef[1]``.

    Returns
    -------
    w, beta : ndarray of shape (d,)

    Raises
    ------
    ValueError
        If the shapes are not those of a symmetric pair, ``gate[0] != 0`` or
        ``coef[0] != -coef[1]`` (relative tolerance 1e-12).

    Examples
    --------
    >>> w, beta = from_moe_params(to_moe_params(np.array([1.0]), np.array([2.0])))
    >>> w.tolist(), beta.tolist()
    ([1.0], [2.0])
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
