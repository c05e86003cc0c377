"""The symmetric two-expert models SymMoLinE and SymMoLogE, in closed form.

Fruytier, Mokhtari & Sanghavi (2025) study two experts with opposite regressors, ``beta_1 = beta``
and ``beta_2 = -beta``; write ``s_1 = +1`` and ``s_2 = -1``:

- **SymMoLinE** (``kind="linear"``): ``y = s_z x^T beta + eps`` with ``eps ~ N(0, 1)``;
- **SymMoLogE** (``kind="logistic"``): ``P(y = 1 | x, z) = sig(s_z x^T beta)``, ``y in {0, 1}``.

Our conventions (the book states them as ours, not the paper's):

- the gate is ``P(z = 1 | x) = sig(x^T w)`` with a single vector ``w``;
- ``x ~ N(0, I_d)`` with no intercept;
- the signal-to-noise ratio is ``||beta||`` (:func:`snr`); the true parameters have directions
  uniform on the sphere and the starts are at relative distance 1 (:func:`random_instance`,
  :func:`initial_point`);
- expert labels are the paper's ``z in {1, 2}``; ``z = 1`` is the ``+beta`` expert with gate
  probability ``sig(x^T w)``. In the generic code (:mod:`moe_lib.model`) that expert has index 1
  and ``z = 2`` (the ``-beta`` expert, gate reference) has index 0: ``index = 2 - z``;
- ``L`` is the *mean negative* log-likelihood, every constant included; :func:`run` reports the
  total log-likelihood ``-n L``, as :func:`moe_lib.fit.run` does.

The formulas are the closed forms of chapters 4 and 5 of the book, computed independently of the
generic E- and M-steps (:mod:`moe_lib.model`, :mod:`moe_lib.steps`, :mod:`moe_lib.experts`) so
that the generic machinery can be checked against them; only the solver layer
(:mod:`moe_lib.solvers`) and the driver's vocabulary (:data:`moe_lib.fit.ALGORITHMS`,
:class:`moe_lib.result.FitResult`, :func:`moe_lib.fit.has_converged`) are shared. With
``u = x^T w``, ``a = x^T beta`` and ``c = 2y`` (linear) or ``c = 2y - 1`` (logistic):

- posterior ``p = P(z = 1 | x, y) = sig(u + c a)``;
- complete-data log-partition ``A_x = sp(u) + a^2/2`` (linear) or ``sp(u) + sp(a)`` (logistic);
- ``grad L = grad A - T_bar``; ``hess L = hess A - I_{z|x,y}`` with ``I_{z|x,y} = E[p(1-p) g g^T]``,
  ``g = (x, c x)``;
- the EM step is the unit-step mirror-descent step ``grad A(theta+) = grad A(theta) - grad L``;
  near a fixed point it contracts like ``M = (hess A)^{-1} I_{z|x,y}`` (missing information).

Modules: :mod:`~moe_lib.symmetric.model` (sampling, likelihood, symmetries, bridges),
:mod:`~moe_lib.symmetric.steps` (one step of each algorithm), :mod:`~moe_lib.symmetric.information`
(information matrices, rates), :mod:`~moe_lib.symmetric.runs` (the driver),
:mod:`~moe_lib.symmetric.batch` and :mod:`~moe_lib.symmetric.batch_analysis` (chapter 6's runs of
many instances at once). The algorithm names are :data:`moe_lib.fit.ALGORITHMS`.
"""

from moe_lib.fit import ALGORITHMS
from moe_lib.symmetric._checks import KINDS
from moe_lib.symmetric.batch import (
    Batch,
    BatchPaths,
    batch_curvature_bounds,
    batch_em_step,
    batch_loss_and_gradient,
    make_batch,
    run_batch,
)
from moe_lib.symmetric.batch_analysis import closest_image, em_limit, first_hit, relative_errors
from moe_lib.symmetric.information import (
    complete_fisher,
    mim,
    missing_information,
    predicted_rate,
    rate_in_ball,
)
from moe_lib.symmetric.model import (
    align_sign,
    from_moe_params,
    gradient,
    initial_point,
    neg_loglik,
    posterior,
    random_instance,
    sample,
    snr,
    to_moe_params,
)
from moe_lib.symmetric.runs import run
from moe_lib.symmetric.steps import curvature_bounds, em_step, gd_step, gradient_em_step

__all__ = [
    "ALGORITHMS",
    "KINDS",
    "Batch",
    "BatchPaths",
    "align_sign",
    "batch_curvature_bounds",
    "batch_em_step",
    "batch_loss_and_gradient",
    "closest_image",
    "complete_fisher",
    "curvature_bounds",
    "em_limit",
    "em_step",
    "first_hit",
    "from_moe_params",
    "gd_step",
    "gradient",
    "gradient_em_step",
    "initial_point",
    "make_batch",
    "mim",
    "missing_information",
    "neg_loglik",
    "posterior",
    "predicted_rate",
    "random_instance",
    "rate_in_ball",
    "relative_errors",
    "run",
    "run_batch",
    "sample",
    "snr",
    "to_moe_params",
]
