"""The Bregman divergence of the complete-data log-partition, and the KL divergence it equals.

For each covariate ``x`` the complete data form an exponential family with log-partition ``A_x``,
so ``KL(p(y, z | x; theta) || p(y, z | x; phi)) = D_{A_x}(phi_x, theta_x)`` (chapter 4 of the book;
the identity behind Theorem 4.1 of Fruytier, Mokhtari & Sanghavi, 2025). The two sides are
computed independently: :func:`bregman_divergence` from ``A_x`` and its gradient,
:func:`complete_data_kl` from the two laws in model coordinates, never through ``A_x``.
"""

from __future__ import annotations

import numpy as np

from moe_lib._validation import check_bool
from moe_lib.mirror.registry import as_natural, check_params, view_of
from moe_lib.mirror.view import FamilyLike
from moe_lib.params import MoEData, MoEParams


def bregman_divergence(
    family: FamilyLike,
    data: MoEData,
    params_a: MoEParams | np.ndarray,
    params_b: MoEParams | np.ndarray,
    *,
    per_sample: bool = False,
) -> float | np.ndarray:
    """``sum_x D_{A_x}(theta_a, theta_b) = sum_x A_x(a) - A_x(b) - <grad A_x(b), a - b>``.

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params_a, params_b : MoEParams or ndarray of shape (n, D)
        The two points (the divergence of ``a`` from ``b``), as model parameters or as natural
        parameters.
    per_sample : bool
        Return the (n,) terms instead of their sum.

    Returns
    -------
    float or ndarray of shape (n,)
        Equals ``complete_data_kl(params_b, params_a)`` (note the order).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import SymmetricLinearExperts, make_data
    >>> data = make_data(np.zeros((2, 1)), np.zeros(2), fit_intercept=False)
    >>> a, b = np.array([[0.0, 1.0], [0.0, 3.0]]), np.zeros((2, 2))
    >>> bregman_divergence(SymmetricLinearExperts(), data, a, b)  # (1 + 9) / 2
    5.0
    """
    per_sample = check_bool(per_sample, "per_sample")
    view = view_of(family, data)
    a = as_natural(view, params_a, "params_a")
    b = as_natural(view, params_b, "params_b")
    if a.shape != b.shape:
        raise ValueError(f"params_a and params_b differ in shape: {a.shape} vs {b.shape}")
    d = view.log_partition(a) - view.log_partition(b) - np.sum(view.mean(b) * (a - b), axis=1)
    return d if per_sample else float(np.sum(d))


def complete_data_kl(
    family: FamilyLike,
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

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params_p, params_q : MoEParams
        The two parameter sets, with the same number of experts.
    per_sample : bool
        Return the (n,) terms instead of their sum.

    Returns
    -------
    float or ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.zeros((1, 1)), np.zeros(1))
    >>> p = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2))
    >>> q = p.replace(coef=np.array([[1.0, 0.0], [1.0, 0.0]]))
    >>> complete_data_kl(LinearExperts(), data, p, q)  # both means move by 1: KL = 1/2
    0.5
    """
    per_sample = check_bool(per_sample, "per_sample")
    view = view_of(family, data)
    p = check_params(view, params_p, "params_p")
    q = check_params(view, params_q, "params_q")
    if p.gate.shape != q.gate.shape:
        raise ValueError(
            f"params_p and params_q have different numbers of experts: {p.gate.shape[0]} vs "
            f"{q.gate.shape[0]}"
        )
    kl = view.complete_data_kl(p, q)
    return kl if per_sample else float(np.sum(kl))
