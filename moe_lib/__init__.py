"""moe_lib: exact EM, gradient EM and gradient descent for mixtures of linear and logistic experts.

The library behind the book *EM for Mixtures of Experts*, which verifies that one EM step for a
mixture of experts is one step of mirror descent with unit step size (Fruytier, Mokhtari &
Sanghavi, ICML 2025).

Layers, bottom to top (each imports only from those below it):

- :mod:`moe_lib.params`: parameters, data, the free vector, the penalty;
- :mod:`moe_lib.gate`: the softmax gate (probabilities, M-step, gradient, divergence checks);
- :mod:`moe_lib.experts`: one module per expert family, the same methods;
- :mod:`moe_lib.model`: E-step, log-likelihood, objective, sampling;
- :mod:`moe_lib.steps`: the exact M-step and EM step, the gradient EM and GD steps;
- :mod:`moe_lib.fit`: the driver (stopping rule, diagnostics, restarts, result);
- :mod:`moe_lib.estimators`: the scikit-learn estimators.

Beside them: :mod:`moe_lib.mirror` (the mirror-descent view, computed independently of EM),
:mod:`moe_lib.symmetric` (the paper's SymMoLinE and SymMoLogE), :mod:`moe_lib.datasets`,
:mod:`moe_lib.plotting` and :mod:`moe_lib.symbolic` (SymPy checks; imported on demand because
SymPy is slow to import).
"""

from moe_lib import mirror, symmetric
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
from moe_lib.fit import ALGORITHMS, FitResult, fit_moe, random_resp, run
from moe_lib.gate import gate_log_proba
from moe_lib.model import (
    e_step,
    joint_log_prob,
    log_likelihood,
    objective,
    random_params,
    responsibilities,
    sample,
)
from moe_lib.params import (
    MoEData,
    MoEParams,
    add_intercept,
    from_free,
    make_data,
    penalty,
    to_free,
)
from moe_lib.steps import em_step, gd_step, gradient_em_step, m_step, objective_gradient

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
    "from_free",
    "gate_log_proba",
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
    "random_resp",
    "read_idx",
    "responsibilities",
    "run",
    "sample",
    "symmetric",
    "to_free",
]
__version__ = "0.2.0"
