"""What every exponential-family view of the complete data knows, and the shared pieces.

For a covariate ``x`` the complete data ``(y, z)`` of a mixture of experts form an exponential
family ``p(y, z | x) = h(y) exp{<T(y, z), theta_x> - A_x(theta_x)}`` (chapter 4 of the book;
Theorem 4.1 of Fruytier, Mokhtari & Sanghavi, 2025). A :class:`FamilyView` holds one expert
family on one data set and computes, for every sample at once, the natural parameters
``theta_x`` (an ``(n, D)`` array), ``A_x``, its gradient, the statistics ``T(y_i, z)``, the base
measure, the chain rule back to the free coordinates of :func:`moe_lib.params.to_free`, and the
complete-data KL divergence straight from the two laws. The concrete views live in
:mod:`moe_lib.mirror.families` and :mod:`moe_lib.mirror.symmetric_families`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

import numpy as np
from scipy.special import gammaln, log_expit

from moe_lib._linalg import logsumexp
from moe_lib.params import MoEData, MoEParams

#: ``log(2 pi)``, for the Gaussian base measures.
LOG_2PI = float(np.log(2.0 * np.pi))


class FamilyLike(Protocol):
    """What this package asks of an expert family (every :class:`moe_lib.experts.ExpertFamily`
    has it): its ``name`` picks the view; :mod:`moe_lib.params` uses the free-coordinate methods.

    Examples
    --------
    >>> from moe_lib import LogisticExperts
    >>> family: FamilyLike = LogisticExperts()
    >>> family.name, family.has_sigma, family.coef_shape(2, 3)
    ('logistic', False, (2, 3))
    """

    name: str
    has_sigma: bool
    penalized: bool

    def check_y(
        self, y: np.ndarray, n_trials: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]: ...

    def coef_shape(self, n_experts: int, n_features: int) -> tuple[int, ...]: ...

    def check_coef(self, coef: np.ndarray, name: str = "params") -> None: ...

    def to_free(self, coef: np.ndarray, sigma: np.ndarray | None) -> np.ndarray: ...

    def from_free(
        self, v: np.ndarray, n_experts: int, n_features: int
    ) -> tuple[np.ndarray, np.ndarray | None]: ...

    def penalty(self, coef: np.ndarray, mask: np.ndarray) -> float: ...


class FamilyView(ABC):
    """Per-sample natural coordinates of one expert family on one data set.

    Subclasses define the layout (:meth:`blocks`), the map from parameters to natural
    coordinates, the log-partition and its gradient, the statistics ``T(y_i, z)``, the log base
    measure, the chain rule back to the free coordinates and the complete-data KL divergence.

    Parameters
    ----------
    family : ExpertFamily
        Used only through ``check_y`` (and ``n_classes`` for multinomial experts).
    data : MoEData
        Designs ``X`` (n, p) and ``gate_X`` (n, q), responses ``y`` (n,), trial counts.

    Attributes
    ----------
    name : str
        The ``name`` of the expert family this view is for (its key in
        :data:`moe_lib.mirror.registry.VIEWS`).
    symmetric : bool
        True when ``theta_x = (g^T w, x^T beta)`` is linear in the free parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import LogisticExperts
    >>> from moe_lib.params import make_data
    >>> from moe_lib.mirror.registry import view_of
    >>> view = view_of(LogisticExperts(), make_data(np.zeros((3, 1)), np.array([0, 1, 1])))
    >>> view.blocks(2), view.dim(2), view.n_experts_from_dim(4)
    ({'eta': (2,), 'zeta': (2,)}, 4, 2)
    """

    name: str = ""
    symmetric: bool = False

    def __init__(self, family: FamilyLike, data: MoEData) -> None:
        self.family = family
        self.y, self.m = family.check_y(data.y, data.n_trials)
        self.X = np.asarray(data.X, dtype=float)
        self.G = np.asarray(data.gate_X, dtype=float)
        self.n = self.X.shape[0]

    # -- layout ---------------------------------------------------------------------------
    @abstractmethod
    def blocks(self, K: int) -> dict[str, tuple[int, ...]]:
        """Block names and shapes, in the order of the flat layout, for ``K`` experts."""

    def check_n_experts(self, K: int) -> None:
        """Raise ``ValueError`` when the family cannot have ``K`` experts (any ``K >= 1`` here)."""
        return None

    def dim(self, K: int) -> int:
        """``D``, the length of ``theta_x`` for ``K`` experts."""
        return int(sum(np.prod(s) for s in self.blocks(K).values()))

    def n_experts_from_dim(self, D: int) -> int:
        """The ``K`` whose layout has ``D`` coordinates (``ValueError`` if none)."""
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
        """The blocks of ``theta`` (n, D), each reshaped to ``(n, *shape)``."""
        K = self.n_experts_from_dim(theta.shape[1])
        out, start = [], 0
        for shape in self.blocks(K).values():
            size = int(np.prod(shape))
            out.append(theta[:, start : start + size].reshape((self.n, *shape)))
            start += size
        return out

    # -- the exponential family -----------------------------------------------------------
    @abstractmethod
    def natural(self, params: MoEParams) -> np.ndarray:
        """``theta_x`` for every sample, shape (n, D)."""

    def check_domain(self, theta: np.ndarray) -> None:
        """Raise ``ValueError`` when ``theta`` (n, D) is outside the natural domain (never here:
        the domain is all of ``R^D`` unless a family says otherwise)."""
        return None

    @abstractmethod
    def log_partition(self, theta: np.ndarray) -> np.ndarray:
        """``A_x(theta_x)``, shape (n,)."""

    @abstractmethod
    def mean(self, theta: np.ndarray) -> np.ndarray:
        """``grad A_x(theta_x) = E[T(y, z) | x]``, shape (n, D)."""

    @abstractmethod
    def stats(self, K: int) -> np.ndarray:
        """``T(y_i, z)`` for every sample and latent value, shape (n, Z, D)."""

    @abstractmethod
    def log_base(self) -> np.ndarray:
        """``log h(y_i)``, shape (n,)."""

    @abstractmethod
    def pullback(self, params: MoEParams, grad_nat: np.ndarray) -> np.ndarray:
        """``sum_i J_i^T grad_nat_i`` with ``J_i = d theta_x_i / d v`` (free coordinates ``v``),
        shape (m,)."""

    @abstractmethod
    def complete_data_kl(self, params_p: MoEParams, params_q: MoEParams) -> np.ndarray:
        """``KL(p(y, z | x_i; params_p) || p(y, z | x_i; params_q))`` from the laws, shape (n,)."""

    # -- shared ---------------------------------------------------------------------------
    def gate_scores(self, params: MoEParams) -> np.ndarray:
        """``u_ik = g_i^T w_k``, shape (n, K)."""
        return self.G @ params.gate.T

    def log_gate(self, params: MoEParams) -> np.ndarray:
        """``log pi_k(x_i)``, shape (n, K)."""
        u = self.gate_scores(params)
        return u - logsumexp(u, axis=1, keepdims=True)

    def gate_pullback(self, g_eta: np.ndarray) -> np.ndarray:
        """Chain rule of ``eta_k = u_k + ...`` to the free gate rows ``w_1, ..., w_{K-1}``."""
        return (g_eta[:, 1:].T @ self.G).ravel()


def gaussian_experts_kl(
    view: FamilyView,
    params_p: MoEParams,
    params_q: MoEParams,
    sigma_p: np.ndarray,
    sigma_q: np.ndarray,
) -> np.ndarray:
    """Complete-data KL divergence of Gaussian experts by the chain rule, shape (n,).

    ``KL_cat(pi_p || pi_q) + sum_k pi_pk KL(N(mu_pk, s_pk^2) || N(mu_qk, s_qk^2))``, in closed
    form: no log-partition is involved, so the equality with the Bregman divergence is a check.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> from moe_lib.mirror.registry import view_of
    >>> data = make_data(np.zeros((1, 1)), np.zeros(1))
    >>> view = view_of(LinearExperts(), data)
    >>> p = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2))
    >>> q = p.replace(coef=np.array([[1.0, 0.0], [1.0, 0.0]]))  # both means move by 1
    >>> gaussian_experts_kl(view, p, q, p.sigma, q.sigma)  # KL(N(0, 1) || N(1, 1)) = 1/2
    array([0.5])
    """
    lp, lq = view.log_gate(params_p), view.log_gate(params_q)
    pi_p = np.exp(lp)
    mp, mq = view.X @ params_p.coef.T, view.X @ params_q.coef.T
    kl_gauss = np.log(sigma_q / sigma_p) + (sigma_p**2 + (mp - mq) ** 2) / (2.0 * sigma_q**2) - 0.5
    return np.sum(pi_p * (lp - lq + kl_gauss), axis=1)


def discrete_kl(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """``sum_{z, y} p log(p / q)`` over tables of shape (n, K, Y) of log-probabilities, shape (n,).

    Outcomes with ``p = 0`` (``log p = -inf``: counts above a sample's trials) contribute 0.

    Examples
    --------
    >>> import numpy as np
    >>> log_p = np.log(np.array([[[0.5, 0.5]]]))
    >>> log_q = np.log(np.array([[[0.25, 0.75]]]))
    >>> bool(np.isclose(discrete_kl(log_p, log_q)[0], 0.5 * np.log(2) + 0.5 * np.log(2 / 3)))
    True
    """
    with np.errstate(invalid="ignore"):
        terms = np.where(np.isfinite(log_p), np.exp(log_p) * (log_p - log_q), 0.0)
    return np.sum(terms, axis=(1, 2))


def binomial_joint_log_table(
    view: FamilyView, params: MoEParams, trials: np.ndarray
) -> np.ndarray:
    """``log pi_k(x_i) + log Binomial(y; m_i, sig(x_i^T beta_k))`` for every count
    ``y = 0..max m``, shape (n, K, max m + 1); ``-inf`` where ``y > m_i``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LogisticExperts, MoEParams, make_data
    >>> from moe_lib.mirror.registry import view_of
    >>> data = make_data(np.zeros((1, 1)), np.zeros(1), n_trials=np.array([2.0]))
    >>> view = view_of(LogisticExperts(), data)
    >>> table = binomial_joint_log_table(view, MoEParams(np.zeros((1, 2)), np.zeros((1, 2))),
    ...                                  np.array([2.0]))
    >>> np.exp(table).round(3)  # one expert, fair coin, two trials
    array([[[0.25, 0.5 , 0.25]]])
    """
    a = view.X @ params.coef.T  # (n, K)
    grid = np.arange(int(np.max(trials)) + 1, dtype=float)
    log_y = _binomial_log_pmf(trials[:, None, None], a[:, :, None], grid[None, None, :])
    return view.log_gate(params)[:, :, None] + log_y


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
