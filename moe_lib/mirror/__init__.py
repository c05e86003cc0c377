"""The mirror-descent view of EM, computed independently of EM.

For every covariate ``x`` the complete data ``(y, z)`` of a mixture of experts is an exponential
family (Fruytier, Mokhtari & Sanghavi, 2025; chapter 4 of the book)::

    p(y, z | x; theta) = h(y) exp{ <T(y, z), theta_x> - A_x(theta_x) },

with a per-sample natural parameter ``theta_x`` that the model parameters ``(w, beta, sigma)``
determine. This package writes that family down for every expert family of :mod:`moe_lib.experts`
and builds, *from it alone*, the objects of the paper's Theorem 4.1:

- :func:`natural_parameters` (laid out as :func:`natural_layout` says), :func:`log_partition`
  ``A_x``, :func:`mean_parameters` ``grad A_x`` (expected sufficient statistics),
  :func:`sufficient_statistics` ``T(y_i, z)``, :func:`complete_data_log_density` and
  :func:`complete_data_posterior` (the posterior of ``z`` computed from ``h``, ``T`` and ``A``,
  not by :func:`moe_lib.model.e_step`);
- :func:`bregman_divergence` ``sum_x D_{A_x}`` and, separately and directly from the two
  distributions, :func:`complete_data_kl` ``sum_x KL(p(y,z|x; p) || p(y,z|x; q))``;
- :func:`loss_gradient` ``grad_{theta_x} L_x = grad A_x - Tbar_x`` (Fisher's identity in natural
  coordinates) and :func:`free_gradient_from_natural` (the chain rule to the free coordinates);
- :func:`md_objective` (the mirror-descent model), :func:`md_objective_gradient` and
  :func:`mirror_descent_step`, which minimises the model over the *realisable* parameters with
  the solvers of :mod:`moe_lib.solvers`. No M-step of the library is called, so the equality
  ``mirror_descent_step(step_size=1) == em_step`` is a genuine check;
- :func:`mirror_map_gradient` for the symmetric models, whose natural parameter is ``(w, beta)``
  itself, so that the dual form ``grad A(theta_{t+1}) = grad A(theta_t) - eta grad L(theta_t)``
  of Theorem 5.1 can be shown.

Modules, bottom to top: :mod:`~moe_lib.mirror.view` (what every family's view computes),
:mod:`~moe_lib.mirror.families` and :mod:`~moe_lib.mirror.symmetric_families` (one view per expert
family, with its natural coordinates), :mod:`~moe_lib.mirror.registry` (the view of a family, by
its ``name``; argument checks), :mod:`~moe_lib.mirror.expfam` (the exponential-family functions),
:mod:`~moe_lib.mirror.divergences` (Bregman and KL divergences), :mod:`~moe_lib.mirror.objective`
(the mirror-descent model), :mod:`~moe_lib.mirror.step` (its minimisation, the step). None of
them imports the modules that compute an EM step.

Scale: every sum over samples is a total (like :func:`moe_lib.model.log_likelihood`), and the loss
is the total negative log-likelihood ``-loglik`` plus the penalty of :func:`moe_lib.params.penalty`.

Examples
--------
>>> import numpy as np
>>> from moe_lib import SymmetricLogisticExperts, MoEParams, make_data, mirror
>>> data = make_data(np.array([[1.0], [-2.0]]), np.array([1, 0]), fit_intercept=False)
>>> params = MoEParams(np.array([[0.0], [0.3]]), np.array([[-0.5], [0.5]]))
>>> other = MoEParams(np.array([[0.0], [-0.2]]), np.array([[0.4], [-0.4]]))
>>> kl = mirror.complete_data_kl(SymmetricLogisticExperts(), data, params, other)
>>> breg = mirror.bregman_divergence(SymmetricLogisticExperts(), data, other, params)
>>> bool(abs(kl - breg) < 1e-14)
True
"""

from moe_lib.mirror.divergences import bregman_divergence, complete_data_kl
from moe_lib.mirror.expfam import (
    complete_data_log_density,
    complete_data_posterior,
    free_gradient_from_natural,
    log_partition,
    loss_gradient,
    mean_parameters,
    mirror_map_gradient,
    natural_layout,
    natural_parameters,
    sufficient_statistics,
)
from moe_lib.mirror.objective import md_objective, md_objective_gradient
from moe_lib.mirror.step import MirrorStepResult, mirror_descent_step

__all__ = [
    "MirrorStepResult",
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
