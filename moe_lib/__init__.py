"""moe_lib: exact EM, gradient EM and gradient descent for mixtures of linear and logistic experts.

The library behind the book *EM for Mixtures of Experts*, which verifies that one EM step for a
mixture of experts is one step of mirror descent with unit step size (Fruytier, Mokhtari &
Sanghavi, ICML 2025).

Submodules: :mod:`moe_lib.mirror` (the mirror-descent view, computed independently of EM),
:mod:`moe_lib.symmetric` (the paper's SymMoLinE and SymMoLogE), :mod:`moe_lib.symbolic` (SymPy
checks; imported on demand because SymPy is slow to import), :mod:`moe_lib.datasets`.
"""

from moe_lib import mirror, symmetric
from moe_lib.algorithms import (
    ALGORITHMS,
    FitResult,
    em_step,
    fit_moe,
    gd_step,
    gradient_em_step,
    m_step,
    objective_gradient,
    run,
)
from moe_lib.datasets import load_fashion_mnist, load_inverted_digits, load_tonedata, read_idx
from moe_lib.estimators import MixtureOfLinearExperts, MixtureOfLogisticExperts
from moe_lib.experts import (
    ExpertFamily,
    LinearExperts,
    LogisticExperts,
    MultinomialExperts,
    SymmetricLinearExperts,
    SymmetricLogisticExperts,
)
from moe_lib.model import (
    MoEData,
    MoEParams,
    add_intercept,
    e_step,
    joint_log_prob,
    log_likelihood,
    make_data,
    objective,
    penalty,
    random_params,
    responsibilities,
    sample,
)

__all__ = [
    "ALGORITHMS",
    "ExpertFamily",
    "FitResult",
    "LinearExperts",
    "LogisticExperts",
    "MixtureOfLinearExperts",
    "MixtureOfLogisticExperts",
    "MoEData",
    "MoEParams",
    "MultinomialExperts",
    "SymmetricLinearExperts",
    "SymmetricLogisticExperts",
    "add_intercept",
    "e_step",
    "em_step",
    "fit_moe",
    "gd_step",
    "gradient_em_step",
    "joint_log_prob",
    "load_fashion_mnist",
    "load_inverted_digits",
    "load_tonedata",
    "log_likelihood",
    "m_step",
    "make_data",
    "mirror",
    "objective",
    "objective_gradient",
    "penalty",
    "random_params",
    "read_idx",
    "responsibilities",
    "run",
    "sample",
    "symmetric",
]
__version__ = "0.1.0"
