"""The exponential-family views of the paper's symmetric models, SymMoLinE and SymMoLogE.

Both have two experts, the gate ``P(z = 1 | x) = sig(g^T w)`` with ``w = gate[1]``, and tied
experts ``coef = [-beta, +beta]`` (``s_z = +1`` for expert 1, ``-1`` for expert 0). Their
natural parameter per sample is ``theta_x = (u, a) = (g^T w, x^T beta)``: linear in ``(w, beta)``,
so the mirror-descent step is unconstrained (Theorem 5.1 of Fruytier, Mokhtari & Sanghavi, 2025;
chapter 4 of the book). Latent values are indexed like the experts (0, 1):

- symmetric linear: ``T(y, z) = (1{z=1}, s_z y)``, ``h = (2 pi)^(-1/2) exp(-y^2/2)``,
  ``A_x = sp(u) + a^2/2``;
- symmetric logistic: ``T(y, z) = (1{z=1}, y 1{z=1} + (1 - y) 1{z=0})``, ``h = 1``,
  ``A_x = sp(u) + sp(a)``.

The experts' common normaliser is part of ``A_x`` here (our convention), so ``A_x`` is not the
gate's normaliser alone as it is for the general families.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from moe_lib._linalg import softplus
from moe_lib.mirror.view import (
    LOG_2PI,
    FamilyView,
    binomial_joint_log_table,
    discrete_kl,
    gaussian_experts_kl,
)


class SymmetricView(FamilyView):
    """``theta_x = (u, a) = (g^T w, x^T beta)``: two experts, blocks ``u`` and ``a``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import SymmetricLinearExperts
    >>> from moe_lib.params import MoEParams, make_data
    >>> data = make_data(np.array([[1.0], [2.0]]), np.zeros(2), fit_intercept=False)
    >>> view = SymmetricLinearView(SymmetricLinearExperts(), data)
    >>> view.natural(MoEParams(np.array([[0.0], [0.5]]), np.array([[-2.0], [2.0]])))
    array([[0.5, 2. ],
           [1. , 4. ]])
    """

    symmetric = True

    def blocks(self, K):
        return {"u": (1,), "a": (1,)}

    def check_n_experts(self, K):
        if K != 2:
            raise ValueError(f"symmetric models have exactly 2 experts, got n_experts={K}")

    def n_experts_from_dim(self, D):
        if D != 2:
            raise ValueError(f"symmetric models have 2 natural coordinates per sample, got {D}")
        return 2

    def natural(self, params):
        return np.column_stack([self.G @ params.gate[1], self.X @ params.coef[1]])

    def pullback(self, params, grad_nat):
        return np.concatenate([grad_nat[:, 0] @ self.G, grad_nat[:, 1] @ self.X])


class SymmetricLinearView(SymmetricView):
    """SymMoLinE: ``A_x = sp(u) + a^2/2``, unit-variance experts ``N(s_z a, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import SymmetricLinearExperts
    >>> from moe_lib.params import make_data
    >>> data = make_data(np.ones((1, 1)), np.array([0.5]), fit_intercept=False)
    >>> view = SymmetricLinearView(SymmetricLinearExperts(), data)
    >>> theta = np.array([[0.0, 2.0]])
    >>> view.log_partition(theta).round(4), view.mean(theta)
    (array([2.6931]), array([[0.5, 2. ]]))
    """

    name = "symmetric-linear"

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
        return -0.5 * LOG_2PI - 0.5 * self.y**2

    def complete_data_kl(self, params_p, params_q):
        unit = np.ones(2)
        return gaussian_experts_kl(self, params_p, params_q, unit, unit)


class SymmetricLogisticView(SymmetricView):
    """SymMoLogE: ``A_x = sp(u) + sp(a)``, experts ``P(y = 1 | z) = sig(s_z a)``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import SymmetricLogisticExperts
    >>> from moe_lib.params import make_data
    >>> data = make_data(np.ones((1, 1)), np.array([1]), fit_intercept=False)
    >>> view = SymmetricLogisticView(SymmetricLogisticExperts(), data)
    >>> view.stats(2)[0]
    array([[0., 0.],
           [1., 1.]])
    """

    name = "symmetric-logistic"

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

    def complete_data_kl(self, params_p, params_q):
        # Bernoulli labels: the binomial table with one trial per sample.
        trials = np.ones(self.n)
        return discrete_kl(
            binomial_joint_log_table(self, params_p, trials),
            binomial_joint_log_table(self, params_q, trials),
        )
