"""The complete data of a mixture of experts as an exponential family: the public functions.

For every covariate ``x``, ``p(y, z | x; theta) = h(y) exp{<T(y, z), theta_x> - A_x(theta_x)}``
(Theorem 4.1 of Fruytier, Mokhtari & Sanghavi, 2025; chapter 4 of the book). These functions
compute its pieces from the views of :mod:`moe_lib.mirror.families` and
:mod:`moe_lib.mirror.symmetric_families` alone, never from the E-step or an M-step, so that the
book can check them against the model. Sums over samples are totals (like
:func:`moe_lib.model.log_likelihood`).
"""

from __future__ import annotations

import numpy as np

from moe_lib._linalg import softmax
from moe_lib._validation import check_int
from moe_lib.mirror.registry import as_natural, check_params, view_of
from moe_lib.mirror.view import FamilyLike, FamilyView
from moe_lib.params import MoEData, MoEParams


def natural_layout(
    family: FamilyLike, data: MoEData, n_experts: int
) -> dict[str, tuple[slice, tuple[int, ...]]]:
    """Blocks of the flat per-sample natural parameter: name -> (slice of the flat axis, shape).

    Linear experts give blocks ``eta``, ``zeta``, ``xi`` of shape ``(K,)``; logistic experts
    ``eta``, ``zeta``; multinomial experts a ``zeta`` block of shape ``(K, C)`` (row-major); the
    symmetric families ``u`` and ``a`` of shape ``(1,)``.

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    n_experts : int
        ``K >= 1`` (exactly 2 for the symmetric families).

    Returns
    -------
    dict of str to (slice, tuple of int)

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, make_data
    >>> layout = natural_layout(LinearExperts(), make_data(np.ones((2, 1)), np.zeros(2)), 2)
    >>> layout["zeta"]
    (slice(2, 4, None), (2,))
    """
    view = view_of(family, data)
    K = check_int(n_experts, "n_experts", min_value=1)
    view.check_n_experts(K)
    out, start = {}, 0
    for name, shape in view.blocks(K).items():
        size = int(np.prod(shape))
        out[name] = (slice(start, start + size), shape)
        start += size
    return out


def natural_parameters(family: FamilyLike, data: MoEData, params: MoEParams) -> np.ndarray:
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
        In the layout of :func:`natural_layout`: ``D = 3K`` (linear), ``2K`` (logistic),
        ``K + K C`` (multinomial), ``2`` (symmetric).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[1.0]]), np.array([0.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 1.0], [0.0, -1.0]]), np.ones(2))
    >>> natural_parameters(LinearExperts(), data, params)
    array([[-0.5, -0.5,  1. , -1. , -0.5, -0.5]])
    """
    view = view_of(family, data)
    return view.natural(check_params(view, params))


def sufficient_statistics(family: FamilyLike, data: MoEData, n_experts: int) -> np.ndarray:
    """The complete-data statistic ``T(y_i, z)`` for every sample and every latent value.

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    n_experts : int

    Returns
    -------
    ndarray of shape (n, Z, D)
        ``Z = n_experts`` (``Z = 2`` for the symmetric families), ``D`` as in
        :func:`natural_parameters`.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, make_data
    >>> sufficient_statistics(LinearExperts(), make_data(np.ones((1, 1)), np.array([2.0])), 2)
    array([[[1., 0., 2., 0., 4., 0.],
            [0., 1., 0., 2., 0., 4.]]])
    """
    natural_layout(family, data, n_experts)  # validates n_experts
    return view_of(family, data).stats(int(n_experts))


def log_partition(
    family: FamilyLike, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``A_x(theta_x)`` for every sample, computed from the natural parameters.

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams or ndarray of shape (n, D)
        Model parameters (mapped by :func:`natural_parameters`) or any point of the natural domain
        (realisable or not).

    Returns
    -------
    ndarray of shape (n,)
        Equals ``lse_k(g^T w_k)`` at realised parameters of the general families, and
        ``sp(u) + a^2/2`` (symmetric linear) or ``sp(u) + sp(a)`` (symmetric logistic).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LogisticExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.3]]), np.array([1]))
    >>> params = MoEParams(np.array([[0.0, 0.0], [1.0, 0.0]]), np.ones((2, 2)))
    >>> bool(np.isclose(log_partition(LogisticExperts(), data, params)[0], np.log(1 + np.e)))
    True
    """
    view = view_of(family, data)
    return view.log_partition(as_natural(view, params, "params"))


def mean_parameters(
    family: FamilyLike, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``grad A_x(theta_x) = E[T(y, z) | x]``, analytic, for every sample.

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams or ndarray of shape (n, D)

    Returns
    -------
    ndarray of shape (n, D)
        Linear: ``(pi_k, pi_k mu_k, pi_k (mu_k^2 + s_k^2))``; logistic: ``(pi_k, pi_k m sig(a_k))``;
        multinomial: ``(pi_k, pi_k P(y = c | k))``; symmetric linear ``(sig(u), a)``; symmetric
        logistic ``(sig(u), sig(a))``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[1.0]]), np.array([0.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 1.0], [0.0, -1.0]]), np.ones(2))
    >>> mean_parameters(LinearExperts(), data, params)
    array([[ 0.5,  0.5,  0.5, -0.5,  1. ,  1. ]])
    """
    view = view_of(family, data)
    return view.mean(as_natural(view, params, "params"))


def complete_data_log_density(
    family: FamilyLike, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``log p(y_i, z | x_i) = log h(y_i) + <T(y_i, z), theta_x> - A_x(theta_x)``.

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams or ndarray of shape (n, D)

    Returns
    -------
    ndarray of shape (n, Z)
        One column per latent value (expert).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LogisticExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0]]), np.array([1]))
    >>> params = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)))
    >>> np.exp(complete_data_log_density(LogisticExperts(), data, params))
    array([[0.25, 0.25]])
    """
    view = view_of(family, data)
    theta = as_natural(view, params, "params")
    T = view.stats(view.n_experts_from_dim(theta.shape[1]))
    scores = np.einsum("izd,id->iz", T, theta)
    return view.log_base()[:, None] + scores - view.log_partition(theta)[:, None]


def posterior_and_statistics(view: FamilyView, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior of ``z`` (n, Z) and the statistic ``T(y_i, z)`` (n, Z, D) at ``theta``.

    The base measure and ``A_x`` do not depend on ``z``, so the posterior is the softmax of
    ``<T(y_i, z), theta_x>`` over ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import SymmetricLinearExperts, make_data
    >>> data = make_data(np.ones((1, 1)), np.array([1.0]), fit_intercept=False)
    >>> view = view_of(SymmetricLinearExperts(), data)
    >>> post, T = posterior_and_statistics(view, np.zeros((1, 2)))
    >>> post, T.shape
    (array([[0.5, 0.5]]), (1, 2, 2))
    """
    T = view.stats(view.n_experts_from_dim(theta.shape[1]))
    return softmax(np.einsum("izd,id->iz", T, theta), axis=1), T


def complete_data_posterior(
    family: FamilyLike, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``P(z | x_i, y_i)`` from the complete-data density in natural form (``h``, ``T``, ``A``).

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams or ndarray of shape (n, D)

    Returns
    -------
    ndarray of shape (n, Z)
        The responsibilities, computed without :func:`moe_lib.model.e_step`.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LogisticExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0]]), np.array([1]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 0.0], [np.log(3.0), 0.0]]))
    >>> complete_data_posterior(LogisticExperts(), data, params).round(3)
    array([[0.4, 0.6]])
    """
    view = view_of(family, data)
    return posterior_and_statistics(view, as_natural(view, params, "params"))[0]


def loss_gradient(
    family: FamilyLike, data: MoEData, params: MoEParams | np.ndarray
) -> np.ndarray:
    """``grad_{theta_x} L_x = grad A_x(theta_x) - Tbar_x`` for every sample.

    ``L_x(theta_x) = -log p(y | x) = A_x(theta_x) - log sum_z h(y) exp<T(y, z), theta_x>`` is the
    negative log-likelihood of one sample as a function of its natural parameter, and ``Tbar_x`` is
    ``T(y, z)`` averaged over the posterior of ``z`` (Fisher's identity in natural coordinates;
    chapter 4 of the book).

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams or ndarray of shape (n, D)

    Returns
    -------
    ndarray of shape (n, D)

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import SymmetricLogisticExperts, MoEParams, make_data
    >>> data = make_data(np.ones((1, 1)), np.array([1]), fit_intercept=False)
    >>> params = MoEParams(np.zeros((2, 1)), np.array([[-1.0], [1.0]]))
    >>> loss_gradient(SymmetricLogisticExperts(), data, params).round(3)  # sig(0) - sig(1), 0
    array([[-0.231,  0.   ]])
    """
    view = view_of(family, data)
    theta = as_natural(view, params, "params")
    r, T = posterior_and_statistics(view, theta)
    return view.mean(theta) - np.einsum("iz,izd->id", r, T)


def free_gradient_from_natural(
    family: FamilyLike, data: MoEData, params: MoEParams, grad_natural: np.ndarray
) -> np.ndarray:
    """Chain rule: ``sum_i J_i^T grad_natural_i`` with ``J_i = d theta_x_i / d v``.

    ``v`` are the free coordinates of :func:`moe_lib.params.to_free` (non-reference gate rows,
    then the family's coordinates, ``log sigma`` for linear experts).

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams
        The point ``v`` at which the Jacobians are taken.
    grad_natural : ndarray of shape (n, D)
        A gradient with respect to the per-sample natural parameters.

    Returns
    -------
    ndarray of shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import SymmetricLogisticExperts, MoEParams, make_data
    >>> data = make_data(np.array([[1.0], [2.0]]), np.array([0, 1]), fit_intercept=False)
    >>> params = MoEParams(np.zeros((2, 1)), np.zeros((2, 1)))
    >>> free_gradient_from_natural(SymmetricLogisticExperts(), data, params, np.ones((2, 2)))
    array([3., 3.])
    """
    view = view_of(family, data)
    params = check_params(view, params)
    G = np.asarray(grad_natural, dtype=float)
    D = view.dim(params.n_experts)
    if G.shape != (view.n, D):
        raise ValueError(f"grad_natural must have shape ({view.n}, {D}), got {G.shape}")
    return view.pullback(params, G)


def mirror_map_gradient(family: FamilyLike, data: MoEData, params: MoEParams) -> np.ndarray:
    """``grad A(theta)`` in ``theta = (w, beta)`` coordinates for the symmetric models.

    ``A(theta) = (1/n) sum_i A_x_i(theta)``; its gradient is ``(mean_i sig(u_i) g_i,
    mean_i a_i x_i)`` (SymMoLinE) or ``(mean_i sig(u_i) g_i, mean_i sig(a_i) x_i)`` (SymMoLogE), in
    the order of :func:`moe_lib.params.to_free` (``w = gate[1]``, then ``beta = coef[1]``).
    Because ``theta_x`` is linear in ``theta`` the unit mirror-descent step satisfies the dual form
    ``grad A(theta_{t+1}) = grad A(theta_t) - eta grad L(theta_t)`` with ``L`` the mean negative
    log-likelihood (Theorem 5.1 of Fruytier, Mokhtari & Sanghavi, 2025).

    Parameters
    ----------
    family : SymmetricLinearExperts or SymmetricLogisticExperts
    data : MoEData
    params : MoEParams

    Returns
    -------
    ndarray of shape (q + p,)

    Raises
    ------
    TypeError
        For the general families, whose realisable natural parameters form a curved set.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import SymmetricLinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[1.0], [3.0]]), np.zeros(2), fit_intercept=False)
    >>> params = MoEParams(np.zeros((2, 1)), np.array([[-1.0], [1.0]]))
    >>> mirror_map_gradient(SymmetricLinearExperts(), data, params)
    array([1., 5.])
    """
    view = view_of(family, data)
    if not view.symmetric:
        raise TypeError(
            "mirror_map_gradient is defined for SymmetricLinearExperts and "
            f"SymmetricLogisticExperts, whose natural parameter is (w, beta); got {family!r}"
        )
    params = check_params(view, params)
    return view.pullback(params, view.mean(view.natural(params))) / view.n
