"""The exponential-family views of the general expert families: linear, logistic, multinomial.

Natural coordinates per sample, with ``u_k = g^T w_k`` the gate scores and ``a_k = x^T beta_k``
the expert scores (``sp`` the softplus); chapter 4 of the book derives each row:

- linear: ``eta_k = u_k - a_k^2/(2 s_k^2) - log s_k``, ``zeta_k = a_k/s_k^2``,
  ``xi_k = -1/(2 s_k^2)`` (D = 3K); ``T(y, z) = (e_z, y e_z, y^2 e_z)``, ``h = (2 pi)^(-1/2)``,
  ``A_x = lse_k(eta_k - zeta_k^2/(4 xi_k) - 1/2 log(-2 xi_k))``;
- logistic with ``m`` trials (``m = 1``: Bernoulli): ``eta_k = u_k - m sp(a_k)``,
  ``zeta_k = a_k`` (D = 2K); ``T(y, z) = (e_z, y e_z)``, ``h = C(m, y)``,
  ``A_x = lse_k(eta_k + m sp(zeta_k))``;
- multinomial with C classes: ``eta_k = u_k - lse_c a_kc``, ``zeta_kc = a_kc`` (a (K, C) block,
  row-major; class 0 kept although it is 0 at realised parameters; D = K + KC);
  ``T(y, z) = (e_z, e_(z, y))``, ``h = 1``, ``A_x = lse_k(eta_k + lse_c zeta_kc)``.

At realised parameters every ``A_x`` equals ``lse_k(u_k)``, the gate's normaliser.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln

from moe_lib._linalg import logsumexp, softmax, softplus
from moe_lib.mirror.view import (
    LOG_2PI,
    FamilyView,
    binomial_joint_log_table,
    discrete_kl,
    gaussian_experts_kl,
)
from moe_lib.params import MoEParams


class LinearView(FamilyView):
    """Linear-Gaussian experts: blocks ``eta``, ``zeta``, ``xi`` of length K each.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import LinearExperts
    >>> from moe_lib.params import MoEParams, make_data
    >>> view = LinearView(LinearExperts(), make_data(np.zeros((2, 1)), np.array([0.5, -1.0])))
    >>> params = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.array([1.0, 2.0]))
    >>> view.natural(params).round(3)
    array([[ 0.   , -0.693,  0.   ,  0.   , -0.5  , -0.125],
           [ 0.   , -0.693,  0.   ,  0.   , -0.5  , -0.125]])
    """

    name = "linear"

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
        return np.full(self.n, -0.5 * LOG_2PI)

    def pullback(self, params, grad_nat):
        g_eta, g_zeta, g_xi = self.split(grad_nat)
        a = self.X @ params.coef.T
        inv = 1.0 / params.sigma**2
        g_coef = (g_eta * (-a * inv) + g_zeta * inv).T @ self.X
        g_log_sigma = np.sum(g_eta * (a**2 * inv - 1.0) - 2.0 * g_zeta * a * inv + g_xi * inv, 0)
        return np.concatenate([self.gate_pullback(g_eta), g_coef.ravel(), g_log_sigma])

    def complete_data_kl(self, params_p, params_q):
        return gaussian_experts_kl(self, params_p, params_q, params_p.sigma, params_q.sigma)


class LogisticView(FamilyView):
    """Logistic experts on Bernoulli labels or binomial counts: blocks ``eta``, ``zeta``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import LogisticExperts
    >>> from moe_lib.params import MoEParams, make_data
    >>> view = LogisticView(LogisticExperts(), make_data(np.zeros((1, 1)), np.array([1])))
    >>> theta = view.natural(MoEParams(np.zeros((2, 2)), np.zeros((2, 2))))
    >>> theta.round(3), view.log_partition(theta).round(3)
    (array([[-0.693, -0.693,  0.   ,  0.   ]]), array([0.693]))
    """

    name = "logistic"

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

    def complete_data_kl(self, params_p, params_q):
        # Exact sums over the counts 0..m and the experts.
        return discrete_kl(
            binomial_joint_log_table(self, params_p, self.trials),
            binomial_joint_log_table(self, params_q, self.trials),
        )


class MultinomialView(FamilyView):
    """C-class softmax experts: blocks ``eta`` (K,) and ``zeta`` (K, C).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import MultinomialExperts
    >>> from moe_lib.params import make_data
    >>> view = MultinomialView(MultinomialExperts(3), make_data(np.zeros((2, 1)), np.array([0, 2])))
    >>> view.blocks(2), view.stats(2)[1]
    ({'eta': (2,), 'zeta': (2, 3)}, array([[1., 0., 0., 0., 1., 0., 0., 0.],
           [0., 1., 0., 0., 0., 0., 0., 1.]]))
    """

    name = "multinomial"

    def __init__(self, family, data):
        super().__init__(family, data)
        self.C = family.n_classes

    def blocks(self, K):
        return {"eta": (K,), "zeta": (K, self.C)}

    def _expert_scores(self, params):
        return np.einsum("ip,kcp->ikc", self.X, params.coef)

    def natural(self, params):
        a = self._expert_scores(params)
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
        a = self._expert_scores(params)
        inner = g_zeta - g_eta[:, :, None] * softmax(a, axis=2)
        g_coef = np.einsum("ikc,ip->kcp", inner, self.X)[:, 1:, :]
        return np.concatenate([self.gate_pullback(g_eta), g_coef.ravel()])

    def joint_log_table(self, params: MoEParams) -> np.ndarray:
        """``log p(y = c, z = k | x_i)`` for every class and expert, shape (n, K, C)."""
        a = self._expert_scores(params)
        log_y = a - logsumexp(a, axis=2, keepdims=True)
        return self.log_gate(params)[:, :, None] + log_y

    def complete_data_kl(self, params_p, params_q):
        return discrete_kl(self.joint_log_table(params_p), self.joint_log_table(params_q))
