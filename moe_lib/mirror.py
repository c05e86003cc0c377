"""The mirror-descent view of EM, computed independently of EM.

For every covariate ``x`` the complete data ``(y, z)`` of a mixture of experts is an exponential
family (Fruytier, Mokhtari & Sanghavi, 2025)::

    p(y, z | x; theta) = h(y) exp{ <T(y, z), theta_x> - A_x(theta_x) },

with a per-sample natural parameter ``theta_x`` that the model parameters ``(w, beta, sigma)``
determine. This module writes that family down for every expert family of :mod:`moe_lib.experts`
and builds, *from it alone*, the objects of the paper's Theorem 4.1:

- :func:`natural_parameters`, :func:`log_partition` ``A_x``, :func:`mean_parameters` ``grad A_x``
  (expected sufficient statistics), :func:`sufficient_statistics` ``T(y_i, z)``,
  :func:`complete_data_log_density` and :func:`complete_data_posterior` (the posterior of ``z``
  computed from ``h``, ``T`` and ``A``, not by :func:`moe_lib.model.e_step`);
- :func:`bregman_divergence` ``sum_x D_{A_x}`` and, separately and directly from the two
  distributions, :func:`complete_data_kl` ``sum_x KL(p(y,z|x; p) || p(y,z|x; q))``;
- :func:`loss_gradient` ``grad_{theta_x} L_x = grad A_x - Tbar_x`` (Fisher's identity in natural
  coordinates);
- :func:`md_objective` (the mirror-descent model) and :func:`mirror_descent_step`, which minimises
  it over the *realisable* parameters with a numerical optimiser (the "projected" step of the
  general theorem; our convention, digest section 8 item 7). No M-step of the library is called,
  so the equality ``mirror_descent_step(step_size=1) == em_step`` is a genuine check;
- :func:`mirror_map_gradient` for the symmetric models, whose natural parameter is ``(w, beta)``
  itself, so that the dual form ``grad A(theta_{t+1}) = grad A(theta_t) - eta grad L(theta_t)`` can
  be shown.

Natural coordinates, per sample (``u_k = g^T w_k`` gate scores on the gate design ``g``,
``a_k = x^T beta_k`` expert scores; ``sp`` is the softplus). The flat vector ``theta_x`` (an
``(n, D)`` array over the samples) is laid out as follows; :func:`natural_layout` returns the
slices.

- linear: ``eta_k = u_k - a_k^2/(2 s_k^2) - log s_k``, ``zeta_k = a_k/s_k^2``,
  ``xi_k = -1/(2 s_k^2)`` (blocks eta, zeta, xi of length K; D = 3K); statistic
  ``T(y, z) = (e_z, y e_z, y^2 e_z)`` with ``e_z`` the indicator vector of expert ``z``;
- logistic with ``m`` trials (``m = 1``: Bernoulli): ``eta_k = u_k - m sp(a_k)``,
  ``zeta_k = a_k`` (D = 2K); ``T(y, z) = (e_z, y e_z)``;
- multinomial with C classes: ``eta_k = u_k - lse_c a_kc``, ``zeta_kc = a_kc`` (a (K, C) block,
  row-major, class 0 kept although it is 0 at realised parameters; D = K + KC);
  ``T(y, z) = (e_z, e_(z, y))``;
- symmetric linear and symmetric logistic: ``(u, a) = (g^T w, x^T beta)`` with ``w = gate[1]``
  and ``beta = coef[1]`` (D = 2); ``T(y, z) = (1{z=1}, s_z y)`` (linear) or
  ``(1{z=1}, y 1{z=1} + (1 - y) 1{z=0})`` (logistic).

The log-partitions are ``lse_k(eta_k - zeta_k^2/(4 xi_k) - 1/2 log(-2 xi_k))`` (linear, base
measure ``h = (2 pi)^(-1/2)``), ``lse_k(eta_k + m sp(zeta_k))`` (logistic, ``h = C(m, y)``),
``lse_k(eta_k + lse_c zeta_kc)`` (multinomial, ``h = 1``), ``sp(u) + a^2/2`` (symmetric linear,
``h = (2 pi)^(-1/2) exp(-y^2/2)``) and ``sp(u) + sp(a)`` (symmetric logistic, ``h = 1``). For the
general families ``A_x = lse_k(u_k)``, the gate's normaliser, at realised parameters; for the
symmetric families the experts' common normaliser is part of ``A_x`` (our convention, as in the
digest's table), so there ``A_x = sp(u) + a^2/2`` or ``sp(u) + sp(a)``.

For the symmetric families ``s_z = +1`` for expert 1 (the gate's non-reference expert, coefficient
``+beta``) and ``-1`` for expert 0; latent values are indexed like the experts (0, 1).

Scale: every sum over samples is a total (like :func:`moe_lib.model.log_likelihood`), and the loss
is the total negative log-likelihood ``-loglik`` plus the penalty of :func:`moe_lib.model.penalty`.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, optimize
from scipy.sparse import linalg as sparse_linalg
from scipy.special import expit, gammaln, log_expit
from sklearn.exceptions import ConvergenceWarning

from moe_lib._linalg import logsumexp, softmax, softplus
from moe_lib.experts import (
    ExpertFamily,
    LinearExperts,
    LogisticExperts,
    MultinomialExperts,
    SymmetricLinearExperts,
    SymmetricLogisticExperts,
)
from moe_lib.params import (
    MoEData,
    MoEParams,
    from_free,
    penalty,
    penalty_weights,
    to_free,
)

__all__ = [
    "bregman_divergence",
    "complete_data_kl",
    "complete_data_log_density",
    "complete_data_posterior",
    "free_gradient_from_natural",
    "log_partition",
    "loss_gradient",
    "md_objective",
    "md_objective_gradient",
    "mean_parameters",
    "mirror_descent_step",
    "mirror_map_gradient",
    "natural_layout",
    "natural_parameters",
    "sufficient_statistics",
]

_LOG_2PI = float(np.log(2.0 * np.pi))

#: Bound on the Newton polishing steps after the trust-region solve.
_MAX_POLISH = 10

#: A solution this many times larger than the start (in its largest free coordinate) means the
#: mirror-descent subproblem had no minimiser and the solver ran away.
_RUNAWAY = 1e8

#: Gradient tolerance (per sample) of the trust-region phase of :func:`mirror_descent_step`.
_ROUGH_TOL = 1e-8

#: Up to this many free parameters :func:`mirror_descent_step` forms a finite-difference Hessian
#: (``trust-exact``); above it, it uses finite-difference Hessian-vector products
#: (``trust-ncg``).
MAX_DENSE_HESSIAN = 50


# --------------------------------------------------------------------------------------------
# One "view" per family: the exponential family of (y, z) | x on a given data set
# --------------------------------------------------------------------------------------------
class _View:
    """Per-sample natural coordinates of one expert family on one data set.

    Subclasses define the layout (``blocks``), the map from parameters to natural coordinates, the
    log-partition and its gradient, the statistics ``T(y_i, z)``, the log base measure and the
    chain rule back to the free coordinates of :func:`moe_lib.algorithms.to_free`.
    """

    symmetric = False

    def __init__(self, family: ExpertFamily, data: MoEData) -> None:
        self.family = family
        y, m = family.check_y(data.y, data.n_trials)
        self.y = y
        self.m = m
        self.X = np.asarray(data.X, dtype=float)
        self.G = np.asarray(data.gate_X, dtype=float)
        self.n = self.X.shape[0]

    # -- layout ---------------------------------------------------------------------------
    def blocks(self, K: int) -> dict[str, tuple[int, ...]]:
        """Block names and shapes, in the order of the flat layout."""
        raise NotImplementedError

    def dim(self, K: int) -> int:
        return int(sum(np.prod(s) for s in self.blocks(K).values()))

    def n_experts_from_dim(self, D: int) -> int:
        for K in range(1, D + 1):
            if self.dim(K) == D:
                return K
            if self.dim(K) > D:
                break
        raise ValueError(
            f"natural parameters have {D} coordinates per sample, which matches no number of "
            f"experts for {self.family!r}"
        )

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        K = self.n_experts_from_dim(theta.shape[1])
        out, start = [], 0
        for shape in self.blocks(K).values():
            size = int(np.prod(shape))
            out.append(theta[:, start : start + size].reshape((self.n, *shape)))
            start += size
        return out

    # -- to be provided -------------------------------------------------------------------
    def natural(self, params: MoEParams) -> np.ndarray:
        raise NotImplementedError

    def check_domain(self, theta: np.ndarray) -> None:
        """Raise ``ValueError`` when ``theta`` is outside the natural domain."""

    def log_partition(self, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def mean(self, theta: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def stats(self, K: int) -> np.ndarray:
        raise NotImplementedError

    def log_base(self) -> np.ndarray:
        raise NotImplementedError

    def pullback(self, params: MoEParams, grad_nat: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------
    def gate_scores(self, params: MoEParams) -> np.ndarray:
        return self.G @ params.gate.T  # (n, K)

    def gate_pullback(self, g_eta: np.ndarray) -> np.ndarray:
        """Chain rule of ``eta_k = u_k + ...`` to the free gate rows ``w_1, ..., w_{K-1}``."""
        return (g_eta[:, 1:].T @ self.G).ravel()


class _LinearView(_View):
    def blocks(self, K):
        return {"eta": (K,), "zeta": (K,), "xi": (K,)}

    def natural(self, params):
        u = self.gate_scores(params)
        a = self.X @ params.coef.T
        inv = 1.0 / params.sigma**2
        eta = u - 0.5 * a**2 * inv - np.log(params.sigma)
        zeta = a * inv
        xi = np.broadcast_to(-0.5 * inv, a.shape)
        return np.concatenate([eta, zeta, xi], axis=1)

    def check_domain(self, theta):
        xi = self.split(theta)[2]
        if not np.all(xi < 0):
            raise ValueError("natural parameters of linear experts need xi_k < 0 (xi = -1/(2 s^2))")

    def _scores(self, theta):
        eta, zeta, xi = self.split(theta)
        return eta - zeta**2 / (4.0 * xi) - 0.5 * np.log(-2.0 * xi), zeta, xi

    def log_partition(self, theta):
        return logsumexp(self._scores(theta)[0], axis=1)

    def mean(self, theta):
        b, zeta, xi = self._scores(theta)
        pi = softmax(b, axis=1)
        mean_y = -zeta / (2.0 * xi)
        second = mean_y**2 - 1.0 / (2.0 * xi)
        return np.concatenate([pi, pi * mean_y, pi * second], axis=1)

    def stats(self, K):
        T = np.zeros((self.n, K, 3 * K))
        k = np.arange(K)
        T[:, k, k] = 1.0
        T[:, k, K + k] = self.y[:, None]
        T[:, k, 2 * K + k] = self.y[:, None] ** 2
        return T

    def log_base(self):
        return np.full(self.n, -0.5 * _LOG_2PI)

    def pullback(self, params, grad_nat):
        g_eta, g_zeta, g_xi = self.split(grad_nat)
        a = self.X @ params.coef.T
        inv = 1.0 / params.sigma**2
        g_coef = (g_eta * (-a * inv) + g_zeta * inv).T @ self.X
        g_log_sigma = np.sum(g_eta * (a**2 * inv - 1.0) - 2.0 * g_zeta * a * inv + g_xi * inv, 0)
        return np.concatenate([self.gate_pullback(g_eta), g_coef.ravel(), g_log_sigma])


class _LogisticView(_View):
    def __init__(self, family, data):
        super().__init__(family, data)
        self.trials = np.ones(self.n) if self.m is None else self.m

    def blocks(self, K):
        return {"eta": (K,), "zeta": (K,)}

    def natural(self, params):
        a = self.X @ params.coef.T
        eta = self.gate_scores(params) - self.trials[:, None] * softplus(a)
        return np.concatenate([eta, a], axis=1)

    def log_partition(self, theta):
        eta, zeta = self.split(theta)
        return logsumexp(eta + self.trials[:, None] * softplus(zeta), axis=1)

    def mean(self, theta):
        eta, zeta = self.split(theta)
        pi = softmax(eta + self.trials[:, None] * softplus(zeta), axis=1)
        return np.concatenate([pi, pi * self.trials[:, None] * expit(zeta)], axis=1)

    def stats(self, K):
        T = np.zeros((self.n, K, 2 * K))
        k = np.arange(K)
        T[:, k, k] = 1.0
        T[:, k, K + k] = self.y[:, None]
        return T

    def log_base(self):
        m, y = self.trials, self.y
        return gammaln(m + 1.0) - gammaln(y + 1.0) - gammaln(m - y + 1.0)

    def pullback(self, params, grad_nat):
        g_eta, g_zeta = self.split(grad_nat)
        a = self.X @ params.coef.T
        g_coef = (g_eta * (-self.trials[:, None] * expit(a)) + g_zeta).T @ self.X
        return np.concatenate([self.gate_pullback(g_eta), g_coef.ravel()])


class _MultinomialView(_View):
    def __init__(self, family, data):
        super().__init__(family, data)
        self.C = family.n_classes

    def blocks(self, K):
        return {"eta": (K,), "zeta": (K, self.C)}

    def natural(self, params):
        a = np.einsum("ip,kcp->ikc", self.X, params.coef)
        eta = self.gate_scores(params) - logsumexp(a, axis=2)
        return np.concatenate([eta, a.reshape(self.n, -1)], axis=1)

    def log_partition(self, theta):
        eta, zeta = self.split(theta)
        return logsumexp(eta + logsumexp(zeta, axis=2), axis=1)

    def mean(self, theta):
        eta, zeta = self.split(theta)
        pi = softmax(eta + logsumexp(zeta, axis=2), axis=1)
        joint = pi[:, :, None] * softmax(zeta, axis=2)
        return np.concatenate([pi, joint.reshape(self.n, -1)], axis=1)

    def stats(self, K):
        C = self.C
        T = np.zeros((self.n, K, K + K * C))
        k = np.arange(K)
        T[:, k, k] = 1.0
        rows = np.arange(self.n)[:, None]
        T[rows, k[None, :], K + k[None, :] * C + self.y[:, None]] = 1.0
        return T

    def log_base(self):
        return np.zeros(self.n)

    def pullback(self, params, grad_nat):
        g_eta, g_zeta = self.split(grad_nat)
        a = np.einsum("ip,kcp->ikc", self.X, params.coef)
        inner = g_zeta - g_eta[:, :, None] * softmax(a, axis=2)
        g_coef = np.einsum("ikc,ip->kcp", inner, self.X)[:, 1:, :]
        return np.concatenate([self.gate_pullback(g_eta), g_coef.ravel()])


class _SymmetricView(_View):
    """``theta_x = (u, a) = (g^T w, x^T beta)``: linear in ``(w, beta)``, latent ``z in {0, 1}``."""

    symmetric = True

    def blocks(self, K):
        return {"u": (1,), "a": (1,)}

    def n_experts_from_dim(self, D):
        if D != 2:
            raise ValueError(f"symmetric models have 2 natural coordinates per sample, got {D}")
        return 2

    def natural(self, params):
        return np.column_stack([self.G @ params.gate[1], self.X @ params.coef[1]])

    def pullback(self, params, grad_nat):
        return np.concatenate([grad_nat[:, 0] @ self.G, grad_nat[:, 1] @ self.X])


class _SymLinearView(_SymmetricView):
    def log_partition(self, theta):
        return softplus(theta[:, 0]) + 0.5 * theta[:, 1] ** 2

    def mean(self, theta):
        return np.column_stack([expit(theta[:, 0]), theta[:, 1]])

    def stats(self, K):
        T = np.zeros((self.n, 2, 2))
        T[:, 1, 0] = 1.0
        T[:, 1, 1] = self.y
        T[:, 0, 1] = -self.y
        return T

    def log_base(self):
        return -0.5 * _LOG_2PI - 0.5 * self.y**2


class _SymLogisticView(_SymmetricView):
    def log_partition(self, theta):
        return softplus(theta[:, 0]) + softplus(theta[:, 1])

    def mean(self, theta):
        return expit(theta)

    def stats(self, K):
        T = np.zeros((self.n, 2, 2))
        T[:, 1, 0] = 1.0
        T[:, 1, 1] = self.y
        T[:, 0, 1] = 1.0 - self.y
        return T

    def log_base(self):
        return np.zeros(self.n)


def _view(family: ExpertFamily, data: MoEData) -> _View:
    if not isinstance(family, ExpertFamily):
        raise TypeError(f"family must be an ExpertFamily, got {type(family).__name__}")
    if not isinstance(data, MoEData):
        raise TypeError(f"data must be a MoEData (see moe_lib.make_data), got {type(data)}")
    # Symmetric families subclass the general ones, so they are tested first.
    if isinstance(family, SymmetricLinearExperts):
        return _SymLinearView(family, data)
    if isinstance(family, SymmetricLogisticExperts):
        return _SymLogisticView(family, data)
    if isinstance(family, LinearExperts):
        return _LinearView(family, data)
    if isinstance(family, LogisticExperts):
        return _LogisticView(family, data)
    if isinstance(family, MultinomialExperts):
        return _MultinomialView(family, data)
    raise TypeError(f"no exponential-family view of {family!r} is implemented")


def _check_params(view: _View, params: MoEParams, name: str = "params") -> MoEParams:
    if not isinstance(params, MoEParams):
        raise TypeError(f"{name} must be a MoEParams, got {type(params).__name__}")
    gate = np.asarray(params.gate, dtype=float)
    K = gate.shape[0] if gate.ndim == 2 else 0
    if gate.ndim != 2 or K < 1 or gate.shape[1] != view.G.shape[1]:
        raise ValueError(
            f"{name}.gate must have shape (n_experts, {view.G.shape[1]}) to match data.gate_X, "
            f"got {gate.shape}"
        )
    coef = np.asarray(params.coef, dtype=float)
    shape = view.family.coef_shape(K, view.X.shape[1])
    if coef.shape != shape:
        raise ValueError(f"{name}.coef must have shape {shape}, got {coef.shape}")
    sigma = None
    if view.family.has_sigma:
        if params.sigma is None:
            raise ValueError(f"{name}.sigma is required for {view.family!r}")
        sigma = np.asarray(params.sigma, dtype=float)
        if sigma.shape != (K,) or not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise ValueError(f"{name}.sigma must hold {K} finite positive values, got {sigma}")
    if not (np.all(np.isfinite(gate)) and np.all(np.isfinite(coef))):
        raise ValueError(f"{name} must hold finite gate and coef values")
    if view.symmetric and not np.allclose(coef[0], -coef[1], rtol=1e-12, atol=1e-12):
        raise ValueError(f"{name}.coef must be tied as [-beta, +beta] for {view.family!r}")
    return MoEParams(gate, coef, sigma)


def _as_natural(view: _View, obj: MoEParams | np.ndarray, name: str) -> np.ndarray:
    if isinstance(obj, MoEParams):
        return view.natural(_check_params(view, obj, name))
    theta = np.asarray(obj, dtype=float)
    if theta.ndim != 2 or theta.shape[0] != view.n:
        raise ValueError(
            f"{name} must be a MoEParams or natural parameters of shape (n_samples={view.n}, D), "
            f"got shape {theta.shape}"
        )
    view.n_experts_from_dim(theta.shape[1])
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"{name} must hold finite natural parameters")
    view.check_domain(theta)
    return theta


# --------------------------------------------------------------------------------------------
# The exponential family
# --------------------------------------------------------------------------------------------
def natural_layout(
    family: ExpertFamily, data: MoEData, n_experts: int
) -> dict[str, tuple[slice, tuple[int, ...]]]:
    """Blocks of the flat per-sample natural parameter: name -> (slice of the flat axis, shape).

    Examples: linear experts give ``{"eta": (slice(0, K), (K,)), "zeta": ..., "xi": ...}``;
    multinomial experts give a ``"zeta"`` block of shape ``(K, C)`` (row-major); the symmetric
    families give ``{"u": ..., "a": ...}``.
    """
    view = _view(family, data)
    if not isinstance(n_experts, int | np.integer) or n_experts < 1:
        raise ValueError(f"n_experts must be a positive integer, got {n_experts!r}")
    if view.symmetric and n_experts != 2:
        raise ValueError(f"symmetric models have exactly 2 experts, got n_experts={n_experts}")
    out, start = {}, 0
    for name, shape in view.blocks(int(n_experts)).items():
        size = int(np.prod(shape))
        out[name] = (slice(start, start + size), shape)
        start += size
    return out


def natural_parameters(family: ExpertFamily, data: MoEData, params: MoEParams) -> np.ndarray:
    """Per-sample natural parameters ``theta_x`` of ``p(y, z | x; params)``.

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams
        ``gate`` (K, q), ``coef`` (K, p) or (K, C, p), ``sigma`` (K,) for linear experts.

    Returns
    -------
    ndarray of shape (n, D)
        In the layout of the module docstring (:func:`natural_layout`): ``D = 3K`` (linear),
        ``2K`` (logistic), ``K + K C`` (multinomial), ``2`` (symmetric).
    """
    view = _view(family, data)
    return view.natural(_check_params(view, params))


def sufficient_statistics(family: ExpertFamily, data: MoEData, n_experts: int) -> np.ndarray:
    """The complete-data statistic ``T(y_i, z)`` for every sample and every latent value.

    Returns
    -------
    ndarray of shape (n, Z, D)
        ``Z = n_experts`` (``Z = 2`` for the symmetric families), ``D`` as in
        :func:`natural_parameters`.
    """
    natural_layout(family, data, n_experts)  # validates n_experts
    return _view(family, data).stats(int(n_experts))


def log_partition(
    family: ExpertFamily, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``A_x(theta_x)`` for every sample, computed from the natural parameters.

    Parameters
    ----------
    params : MoEParams or ndarray of shape (n, D)
        Model parameters (mapped by :func:`natural_parameters`) or any point of the natural domain
        (realisable or not).

    Returns
    -------
    ndarray of shape (n,)
        Equals ``lse_k(g^T w_k)`` at realised parameters of the general families, and
        ``sp(u) + a^2/2`` (symmetric linear) or ``sp(u) + sp(a)`` (symmetric logistic).
    """
    view = _view(family, data)
    return view.log_partition(_as_natural(view, params, "params"))


def mean_parameters(
    family: ExpertFamily, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``grad A_x(theta_x) = E[T(y, z) | x]``, analytic, for every sample.

    Returns
    -------
    ndarray of shape (n, D)
        Linear: ``(pi_k, pi_k mu_k, pi_k (mu_k^2 + s_k^2))``; logistic: ``(pi_k, pi_k m sig(a_k))``;
        multinomial: ``(pi_k, pi_k P(y = c | k))``; symmetric linear ``(sig(u), a)``; symmetric
        logistic ``(sig(u), sig(a))``.
    """
    view = _view(family, data)
    return view.mean(_as_natural(view, params, "params"))


def complete_data_log_density(
    family: ExpertFamily, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``log p(y_i, z | x_i) = log h(y_i) + <T(y_i, z), theta_x> - A_x(theta_x)``.

    Returns
    -------
    ndarray of shape (n, Z)
        One column per latent value (expert).
    """
    view = _view(family, data)
    theta = _as_natural(view, params, "params")
    T = view.stats(view.n_experts_from_dim(theta.shape[1]))
    scores = np.einsum("izd,id->iz", T, theta)
    return view.log_base()[:, None] + scores - view.log_partition(theta)[:, None]


def _posterior(view: _View, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior of z and the statistic ``T(y_i, z)`` (the base measure does not depend on z)."""
    T = view.stats(view.n_experts_from_dim(theta.shape[1]))
    return softmax(np.einsum("izd,id->iz", T, theta), axis=1), T


def complete_data_posterior(
    family: ExpertFamily, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``P(z | x_i, y_i)`` from the complete-data density in natural form (``h``, ``T``, ``A``).

    Returns
    -------
    ndarray of shape (n, Z)
        The responsibilities, computed without :func:`moe_lib.model.e_step`.
    """
    view = _view(family, data)
    return _posterior(view, _as_natural(view, params, "params"))[0]


def loss_gradient(
    family: ExpertFamily, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``grad_{theta_x} L_x = grad A_x(theta_x) - Tbar_x`` for every sample.

    ``L_x(theta_x) = -log p(y | x) = A_x(theta_x) - log sum_z h(y) exp<T(y, z), theta_x>`` is the
    negative log-likelihood of one sample as a function of its natural parameter, and ``Tbar_x`` is
    ``T(y, z)`` averaged over the posterior of ``z`` (Fisher's identity, digest section 4.3).

    Returns
    -------
    ndarray of shape (n, D)
    """
    view = _view(family, data)
    theta = _as_natural(view, params, "params")
    r, T = _posterior(view, theta)
    return view.mean(theta) - np.einsum("iz,izd->id", r, T)


def free_gradient_from_natural(
    family: ExpertFamily, data: MoEData, params: MoEParams, grad_natural: np.ndarray
) -> np.ndarray:
    """Chain rule: ``sum_i J_i^T grad_natural_i`` with ``J_i = d theta_x_i / d v``.

    ``v`` are the free coordinates of :func:`moe_lib.algorithms.to_free` (non-reference gate rows,
    then the family's coordinates, ``log sigma`` for linear experts).

    Parameters
    ----------
    grad_natural : ndarray of shape (n, D)
        A gradient with respect to the per-sample natural parameters.

    Returns
    -------
    ndarray of shape (m,)
    """
    view = _view(family, data)
    params = _check_params(view, params)
    G = np.asarray(grad_natural, dtype=float)
    D = view.dim(params.n_experts)
    if G.shape != (view.n, D):
        raise ValueError(f"grad_natural must have shape ({view.n}, {D}), got {G.shape}")
    return view.pullback(params, G)


def bregman_divergence(
    family: ExpertFamily,
    data: MoEData,
    params_a: MoEParams | np.ndarray,
    params_b: MoEParams | np.ndarray,
    *,
    per_sample: bool = False,
) -> float | np.ndarray:
    """``sum_x D_{A_x}(theta_a, theta_b) = sum_x A_x(a) - A_x(b) - <grad A_x(b), a - b>``.

    Parameters
    ----------
    params_a, params_b : MoEParams or ndarray of shape (n, D)
        The two points (in the digest's order: the divergence of ``a`` from ``b``).
    per_sample : bool
        Return the (n,) terms instead of their sum.

    Returns
    -------
    float or ndarray of shape (n,)
        Equals ``complete_data_kl(params_b, params_a)`` (note the order).
    """
    view = _view(family, data)
    a = _as_natural(view, params_a, "params_a")
    b = _as_natural(view, params_b, "params_b")
    if a.shape != b.shape:
        raise ValueError(f"params_a and params_b differ in shape: {a.shape} vs {b.shape}")
    d = view.log_partition(a) - view.log_partition(b) - np.sum(view.mean(b) * (a - b), axis=1)
    return d if per_sample else float(np.sum(d))


def _binomial_log_pmf(m: np.ndarray, logit: np.ndarray, k: np.ndarray) -> np.ndarray:
    """log C(m, k) + k log sig(logit) + (m - k) log sig(-logit); -inf where k > m."""
    valid = k <= m
    kk = np.where(valid, k, 0.0)
    out = (
        gammaln(m + 1.0)
        - gammaln(kk + 1.0)
        - gammaln(np.maximum(m - kk, 0.0) + 1.0)
        + kk * log_expit(logit)
        + (m - kk) * log_expit(-logit)
    )
    return np.where(valid, out, -np.inf)


def _joint_log_table(view: _View, params: MoEParams) -> np.ndarray:
    """``log p(y, z | x_i)`` on every discrete outcome: shape (n, K, Y)."""
    u = view.G @ params.gate.T
    log_gate = u - logsumexp(u, axis=1, keepdims=True)  # (n, K)
    if isinstance(view, _MultinomialView):
        a = np.einsum("ip,kcp->ikc", view.X, params.coef)
        log_y = a - logsumexp(a, axis=2, keepdims=True)  # (n, K, C)
    else:  # logistic, binomial or symmetric logistic (m = 1)
        m = getattr(view, "trials", np.ones(view.n))
        a = view.X @ params.coef.T  # (n, K)
        grid = np.arange(int(np.max(m)) + 1, dtype=float)
        log_y = _binomial_log_pmf(m[:, None, None], a[:, :, None], grid[None, None, :])
    return log_gate[:, :, None] + log_y


def complete_data_kl(
    family: ExpertFamily,
    data: MoEData,
    params_p: MoEParams,
    params_q: MoEParams,
    *,
    per_sample: bool = False,
) -> float | np.ndarray:
    """``sum_x KL(p(y, z | x; params_p) || p(y, z | x; params_q))``, directly from the laws.

    Computed in model coordinates, without the log-partition: discrete ``y`` by exact sums over
    ``y`` and ``z``; Gaussian ``y`` by the chain rule
    ``KL_cat(pi_p || pi_q) + sum_k pi_pk KL(N(mu_pk, s_pk^2) || N(mu_qk, s_qk^2))``.

    Returns
    -------
    float or ndarray of shape (n,)
    """
    view = _view(family, data)
    p = _check_params(view, params_p, "params_p")
    q = _check_params(view, params_q, "params_q")
    if p.gate.shape != q.gate.shape:
        raise ValueError(
            f"params_p and params_q have different numbers of experts: {p.gate.shape[0]} vs "
            f"{q.gate.shape[0]}"
        )
    if isinstance(view, _LinearView | _SymLinearView):
        up, uq = view.G @ p.gate.T, view.G @ q.gate.T
        lp = up - logsumexp(up, axis=1, keepdims=True)
        lq = uq - logsumexp(uq, axis=1, keepdims=True)
        pi_p = np.exp(lp)
        sp_ = np.ones(2) if p.sigma is None else p.sigma
        sq_ = np.ones(2) if q.sigma is None else q.sigma
        mp, mq = view.X @ p.coef.T, view.X @ q.coef.T
        kl_gauss = np.log(sq_ / sp_) + (sp_**2 + (mp - mq) ** 2) / (2.0 * sq_**2) - 0.5
        kl = np.sum(pi_p * (lp - lq + kl_gauss), axis=1)
    else:
        tp, tq = _joint_log_table(view, p), _joint_log_table(view, q)
        with np.errstate(invalid="ignore"):
            terms = np.where(np.isfinite(tp), np.exp(tp) * (tp - tq), 0.0)
        kl = np.sum(terms, axis=(1, 2))
    return kl if per_sample else float(np.sum(kl))


# --------------------------------------------------------------------------------------------
# The mirror-descent step
# --------------------------------------------------------------------------------------------
def _check_step(alpha: float, step_size: float) -> tuple[float, float]:
    alpha = float(alpha)
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be finite and >= 0, got {alpha!r}")
    step_size = float(step_size)
    if not (np.isfinite(step_size) and step_size > 0):
        raise ValueError(f"step_size must be finite and > 0, got {step_size!r}")
    return alpha, step_size


class _MDModel:
    """The mirror-descent model at ``theta_t``: values and gradients in natural coordinates."""

    def __init__(self, view: _View, params_t: MoEParams, alpha: float, step_size: float) -> None:
        self.view = view
        self.alpha = alpha
        self.inv_step = 1.0 / step_size
        self.theta_t = view.natural(params_t)
        self.A_t = view.log_partition(self.theta_t)
        self.mean_t = view.mean(self.theta_t)
        r, T = _posterior(view, self.theta_t)
        # grad_{theta_x} L_x(theta_t) = grad A_x(theta_t) - Tbar_x
        self.grad_t = self.mean_t - np.einsum("iz,izd->id", r, T)

    def value(self, params: MoEParams, data: MoEData) -> float:
        theta = self.view.natural(params)
        diff = theta - self.theta_t
        breg = self.view.log_partition(theta) - self.A_t - np.sum(self.mean_t * diff, axis=1)
        lin = np.sum(self.grad_t * diff, axis=1)
        total = float(np.sum(lin + self.inv_step * breg))
        return total + penalty(self.view.family, data, params, self.alpha)

    def gradient(self, params: MoEParams, data: MoEData) -> np.ndarray:
        theta = self.view.natural(params)
        g_nat = self.grad_t + self.inv_step * (self.view.mean(theta) - self.mean_t)
        g = self.view.pullback(params, g_nat)
        if self.alpha > 0:
            w = penalty_weights(self.view.family, data, params)
            g = g + self.alpha * w * to_free(self.view.family, params)
        return g


def md_objective(
    family: ExpertFamily,
    data: MoEData,
    params: MoEParams,
    params_t: MoEParams,
    alpha: float = 0.0,
    step_size: float = 1.0,
) -> float:
    """The mirror-descent model of the total penalised negative log-likelihood at ``params_t``.

    ``sum_x [<grad_{theta_x} L_x(theta_t), theta_x - theta_x^t> + D_{A_x}(theta_x, theta_x^t)/eta]
    + alpha/2 ||penalised coefficients of params||^2`` (the constant ``L(theta_t)`` omitted). With
    ``alpha > 0`` this is the composite (Bregman-proximal) model: the penalty is kept exactly, not
    linearised. With ``eta = 1`` and ``alpha = 0`` it equals ``Q(theta_t | theta_t) -
    Q(theta | theta_t)`` for the total ``Q`` (digest section 4.3).

    Parameters
    ----------
    params : MoEParams
        The point at which the model is evaluated.
    params_t : MoEParams
        The current iterate ``theta_t``.
    alpha : float
        L2 penalty of :func:`moe_lib.model.penalty`.
    step_size : float
        ``eta > 0``.

    Returns
    -------
    float
    """
    alpha, step_size = _check_step(alpha, step_size)
    view = _view(family, data)
    params = _check_params(view, params)
    params_t = _check_params(view, params_t, "params_t")
    return _MDModel(view, params_t, alpha, step_size).value(params, data)


def md_objective_gradient(
    family: ExpertFamily,
    data: MoEData,
    params: MoEParams,
    params_t: MoEParams,
    alpha: float = 0.0,
    step_size: float = 1.0,
) -> np.ndarray:
    """Gradient of :func:`md_objective` in the free coordinates of ``to_free`` (analytic).

    The chain rule through the natural parameters:
    ``sum_x J_x^T [grad L_x(theta_t) + (grad A_x(theta_x) - grad A_x(theta_t)) / eta]`` plus the
    penalty's gradient.

    Returns
    -------
    ndarray of shape (m,)
    """
    alpha, step_size = _check_step(alpha, step_size)
    view = _view(family, data)
    params = _check_params(view, params)
    params_t = _check_params(view, params_t, "params_t")
    return _MDModel(view, params_t, alpha, step_size).gradient(params, data)


def _fd_hessian(grad, v: np.ndarray) -> np.ndarray:
    """Symmetrised central-difference Jacobian of an analytic gradient."""
    m = v.size
    H = np.empty((m, m))
    for j in range(m):
        h = 1e-5 * max(1.0, abs(v[j]))
        e = np.zeros(m)
        e[j] = h
        H[:, j] = (grad(v + e) - grad(v - e)) / (2.0 * h)
    return 0.5 * (H + H.T)


def _fd_hessp(grad, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Central-difference Hessian-vector product ``H(v) u`` of an analytic gradient."""
    norm = float(np.linalg.norm(u))
    if norm == 0:
        return np.zeros_like(v)
    h = 1e-5 * max(1.0, float(np.max(np.abs(v)))) / norm
    return (grad(v + h * u) - grad(v - h * u)) / (2.0 * h)


def _newton_direction(grad, v: np.ndarray, g: np.ndarray, dense: bool) -> np.ndarray:
    """Solve ``H(v) d = -g`` (dense FD Hessian, or conjugate gradients on FD products)."""
    if dense:
        return linalg.solve(_fd_hessian(grad, v), -g, assume_a="sym")
    op = sparse_linalg.LinearOperator((v.size, v.size), matvec=lambda u: _fd_hessp(grad, v, u))
    d, info = sparse_linalg.cg(op, -g, rtol=1e-10, atol=0.0, maxiter=10 * v.size)
    if info < 0:
        raise ValueError("conjugate gradients failed")
    return d


def mirror_descent_step(
    family: ExpertFamily,
    data: MoEData,
    params: MoEParams,
    alpha: float = 0.0,
    step_size: float = 1.0,
    *,
    tol: float = 1e-12,
    max_iter: int = 200,
    return_result: bool = False,
) -> MoEParams | tuple[MoEParams, optimize.OptimizeResult]:
    """One (projected) mirror-descent step with mirror map ``A``, solved numerically.

    Minimises :func:`md_objective` ``(., params)`` over the realisable parameters ``(w, beta,
    sigma)``, i.e. over the free coordinates of :func:`moe_lib.algorithms.to_free`, from
    ``params``. The solver is scipy's ``trust-exact`` with the analytic gradient
    (:func:`md_objective_gradient`) and a central-difference Hessian of that gradient (above
    :data:`MAX_DENSE_HESSIAN` free parameters, ``trust-ncg`` with central-difference
    Hessian-vector products), followed by a few full Newton steps; the objective is divided by
    ``n`` inside the solver, so ``tol`` bounds the Euclidean norm of the gradient *per sample*.
    No M-step of the library is used: at ``step_size=1`` the result equals
    :func:`moe_lib.algorithms.em_step` (Theorem 4.1 of Fruytier, Mokhtari & Sanghavi, 2025),
    which is what the tests and the book check.

    For ``step_size <= 1`` the objective is ``(A_x(theta_x) - <Ttilde_x, theta_x>)/eta`` with
    ``Ttilde = (1 - eta) grad A(theta_t) + eta Tbar`` a convex combination of expected statistics,
    so the step is an M-step with blended targets and has a minimiser whenever EM's has. With
    ``step_size > 1`` the targets may leave the mean-parameter space and the step may not exist.
    Linear experts get no variance floor here (the EM M-step has one, far below any variance of a
    well-posed fit).

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams
        The current iterate ``theta_t``.
    alpha : float
        L2 penalty (composite step when > 0).
    step_size : float
        ``eta > 0``.
    tol : float
        Gradient tolerance per sample (Euclidean norm).
    max_iter : int
        Bound on trust-region iterations.
    return_result : bool
        Also return scipy's ``OptimizeResult``.

    Returns
    -------
    MoEParams, or (MoEParams, OptimizeResult)

    Warns
    -----
    ConvergenceWarning
        When the solver stops with a gradient per sample above ``100 * tol``.
    """
    alpha, step_size = _check_step(alpha, step_size)
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be finite and > 0, got {tol!r}")
    if not isinstance(max_iter, int | np.integer) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    view = _view(family, data)
    params = _check_params(view, params)
    model = _MDModel(view, params, alpha, step_size)
    scale = 1.0 / view.n

    def fun_grad(v: np.ndarray) -> tuple[float, np.ndarray]:
        p = from_free(family, v, params)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            f = model.value(p, data) * scale
            g = model.gradient(p, data) * scale
        if not np.isfinite(f):
            return np.inf, np.zeros_like(v)
        return f, g

    def grad(v: np.ndarray) -> np.ndarray:
        return fun_grad(v)[1]

    v0 = to_free(family, params)
    dense = v0.size <= MAX_DENSE_HESSIAN
    # The trust-region phase stops near the rounding of f; Newton steps then finish the job.
    rough_tol = max(tol, _ROUGH_TOL)
    if dense:
        res = optimize.minimize(
            fun_grad,
            v0,
            jac=True,
            hess=lambda v: _fd_hessian(grad, v),
            method="trust-exact",
            options={"gtol": rough_tol, "maxiter": int(max_iter)},
        )
    else:
        res = optimize.minimize(
            fun_grad,
            v0,
            jac=True,
            hessp=lambda v, u: _fd_hessp(grad, v, u),
            method="trust-ncg",
            options={"gtol": rough_tol, "maxiter": int(max_iter)},
        )
    # Newton polish: below gradients of ~1e-9 per sample the decrease of f is below its rounding
    # and trust-region tests become noise; full Newton steps, accepted while they shrink the
    # gradient, take it to the rounding level of the gradient itself.
    v, g = res.x, grad(res.x)
    gnorm = float(np.linalg.norm(g))
    n_polish = 0
    while gnorm > tol and n_polish < _MAX_POLISH:
        try:
            step = _newton_direction(grad, v, g, dense)
        except (linalg.LinAlgError, ValueError):
            break
        g_new = grad(v + step)
        if not float(np.linalg.norm(g_new)) < gnorm:
            break
        v, g, gnorm = v + step, g_new, float(np.linalg.norm(g_new))
        n_polish += 1
    res.x, res.jac, res.n_polish, res.grad_norm = v, g, n_polish, gnorm
    size = float(np.max(np.abs(v))) if np.all(np.isfinite(v)) else np.inf
    if size > _RUNAWAY * (1.0 + float(np.max(np.abs(v0)))):
        # An unbounded subproblem (e.g. step_size > 1 pushing the target moments outside their
        # hull, or separable data with alpha = 0) sends the solver off to huge parameters.
        raise ValueError(
            f"the mirror-descent subproblem with step_size={step_size} appears to have no "
            f"minimiser: its iterate ran off to a parameter of size {size:.3g} (the objective "
            "decreases without bound along it)"
        )
    if gnorm > 100 * tol:
        warnings.warn(
            f"mirror_descent_step stopped with a gradient of {gnorm:.2e} per sample "
            f"(> 100 * tol = {100 * tol:.1e}) after {res.nit} iterations: {res.message}",
            ConvergenceWarning,
            stacklevel=2,
        )
    new = from_free(family, res.x, params)
    return (new, res) if return_result else new


def mirror_map_gradient(family: ExpertFamily, data: MoEData, params: MoEParams) -> np.ndarray:
    """``grad A(theta)`` in ``theta = (w, beta)`` coordinates for the symmetric models.

    ``A(theta) = (1/n) sum_i A_x_i(theta)``; its gradient is ``(mean_i sig(u_i) g_i,
    mean_i a_i x_i)`` (SymMoLinE) or ``(mean_i sig(u_i) g_i, mean_i sig(a_i) x_i)`` (SymMoLogE), in
    the order of :func:`moe_lib.algorithms.to_free` (``w = gate[1]``, then ``beta = coef[1]``).
    Because ``theta_x`` is linear in ``theta`` the unit mirror-descent step satisfies the dual form
    ``grad A(theta_{t+1}) = grad A(theta_t) - eta grad L(theta_t)`` with ``L`` the mean negative
    log-likelihood.

    Returns
    -------
    ndarray of shape (q + p,)

    Raises
    ------
    TypeError
        For the general families, whose realisable natural parameters form a curved set.
    """
    view = _view(family, data)
    if not view.symmetric:
        raise TypeError(
            "mirror_map_gradient is defined for SymmetricLinearExperts and "
            f"SymmetricLogisticExperts, whose natural parameter is (w, beta); got {family!r}"
        )
    params = _check_params(view, params)
    return view.pullback(params, view.mean(view.natural(params))) / view.n
