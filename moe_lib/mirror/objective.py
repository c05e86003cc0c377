"""The mirror-descent model of the penalised loss, with the complete-data log-partition as mirror
map.

At the current iterate ``theta_t`` the model of the total negative log-likelihood ``L`` is
``sum_x [<grad_{theta_x} L_x(theta_t), theta_x - theta_x^t> + D_{A_x}(theta_x, theta_x^t)/eta]``
plus the L2 penalty, kept exactly (the composite step). With ``eta = 1`` and no penalty it is
``Q(theta_t | theta_t) - Q(theta | theta_t)`` (the key lemma of chapter 4 of the book; Theorem 4.1
of Fruytier, Mokhtari & Sanghavi, 2025), which :mod:`moe_lib.mirror.step` minimises.
"""

from __future__ import annotations

import numpy as np

from moe_lib._linalg import logsumexp, softmax
from moe_lib._validation import check_real
from moe_lib.mirror.registry import check_params, view_of
from moe_lib.mirror.view import FamilyLike, FamilyView
from moe_lib.params import MoEData, MoEParams, penalty, penalty_weights, to_free


def check_step(alpha: float, step_size: float) -> tuple[float, float]:
    """``alpha >= 0`` and ``step_size > 0``, both finite.

    Examples
    --------
    >>> check_step(0.5, 1)
    (0.5, 1.0)
    """
    return (
        check_real(alpha, "alpha", min_value=0.0),
        check_real(step_size, "step_size", min_value=0.0, strict=True),
    )


class MirrorDescentModel:
    """The mirror-descent model at ``theta_t``: values and gradients in natural coordinates.

    Parameters
    ----------
    view : FamilyView
    params_t : MoEParams
        The current iterate ``theta_t`` (checked).
    alpha, step_size : float

    Attributes
    ----------
    loss_t : float
        ``L(theta_t) = sum_x [A_x - log h - log sum_z exp<T(y, z), theta_x>]``, the total negative
        log-likelihood at ``theta_t``, the scale of the model's values.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LogisticExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0, 1]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 1.0], [0.0, -1.0]]))
    >>> model = MirrorDescentModel(view_of(LogisticExperts(), data), params, 0.0, 1.0)
    >>> model.value(params, data)  # the model is 0 at theta_t
    0.0
    >>> bool(np.isclose(model.loss_t, 2 * np.log(2)))  # each label has probability 1/2
    True
    """

    def __init__(
        self, view: FamilyView, params_t: MoEParams, alpha: float, step_size: float
    ) -> None:
        self.view = view
        self.alpha = alpha
        self.inv_step = 1.0 / step_size
        self.theta_t = view.natural(params_t)
        self.A_t = view.log_partition(self.theta_t)
        self.mean_t = view.mean(self.theta_t)
        T = view.stats(view.n_experts_from_dim(self.theta_t.shape[1]))
        scores = np.einsum("izd,id->iz", T, self.theta_t)
        # grad_{theta_x} L_x(theta_t) = grad A_x(theta_t) - Tbar_x, with Tbar_x the statistic
        # averaged over the posterior of z, the softmax of the scores <T(y_i, z), theta_x>.
        self.grad_t = self.mean_t - np.einsum("iz,izd->id", softmax(scores, axis=1), T)
        self.loss_t = float(np.sum(self.A_t - view.log_base() - logsumexp(scores, axis=1)))

    def value(self, params: MoEParams, data: MoEData) -> float:
        """The model at ``params`` (total over the samples, penalty included)."""
        theta = self.view.natural(params)
        diff = theta - self.theta_t
        breg = self.view.log_partition(theta) - self.A_t - np.sum(self.mean_t * diff, axis=1)
        lin = np.sum(self.grad_t * diff, axis=1)
        total = float(np.sum(lin + self.inv_step * breg))
        return total + penalty(self.view.family, data, params, self.alpha)

    def gradient(self, params: MoEParams, data: MoEData) -> np.ndarray:
        """Its gradient in the free coordinates of :func:`moe_lib.params.to_free`, shape (m,)."""
        theta = self.view.natural(params)
        g_nat = self.grad_t + self.inv_step * (self.view.mean(theta) - self.mean_t)
        g = self.view.pullback(params, g_nat)
        if self.alpha > 0:
            w = penalty_weights(self.view.family, data, params)
            g = g + self.alpha * w * to_free(self.view.family, params)
        return g


def md_objective(
    family: FamilyLike,
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
    Q(theta | theta_t)`` for the total ``Q`` (the key lemma of chapter 4 of the book).

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams
        The point at which the model is evaluated.
    params_t : MoEParams
        The current iterate ``theta_t``.
    alpha : float
        L2 penalty of :func:`moe_lib.params.penalty`.
    step_size : float
        ``eta > 0``.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0.5, -1.0]))
    >>> params_t = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2))
    >>> md_objective(LinearExperts(), data, params_t, params_t)
    0.0
    >>> moved = params_t.replace(coef=np.array([[0.1, 0.0], [0.0, 0.0]]))
    >>> bool(md_objective(LinearExperts(), data, moved, params_t) != 0.0)
    True
    """
    alpha, step_size = check_step(alpha, step_size)
    view = view_of(family, data)
    params = check_params(view, params)
    params_t = check_params(view, params_t, "params_t")
    return MirrorDescentModel(view, params_t, alpha, step_size).value(params, data)


def md_objective_gradient(
    family: FamilyLike,
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

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params, params_t : MoEParams
    alpha, step_size : float
        As in :func:`md_objective`.

    Returns
    -------
    ndarray of shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import SymmetricLinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[1.0], [-1.0]]), np.array([1.0, 1.0]), fit_intercept=False)
    >>> params = MoEParams(np.zeros((2, 1)), np.array([[-0.5], [0.5]]))
    >>> g = md_objective_gradient(SymmetricLinearExperts(), data, params, params)
    >>> g.round(4)  # at theta_t: minus the gradient of the log-likelihood (Fisher's identity)
    array([-0.4621,  0.0758])
    """
    alpha, step_size = check_step(alpha, step_size)
    view = view_of(family, data)
    params = check_params(view, params)
    params_t = check_params(view, params_t, "params_t")
    return MirrorDescentModel(view, params_t, alpha, step_size).gradient(params, data)


