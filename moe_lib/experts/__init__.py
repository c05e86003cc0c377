"""Expert families: one module each, the same methods (:class:`ExpertFamily`).

- :class:`LinearExperts`: linear-Gaussian experts with one variance each (closed-form M-step);
- :class:`LogisticExperts`: Bernoulli or binomial experts (Newton M-step);
- :class:`MultinomialExperts`: C-class softmax experts (Newton M-step);
- :class:`SymmetricLinearExperts`, :class:`SymmetricLogisticExperts`: the paper's SymMoLinE and
  SymMoLogE as tied pairs ``[-beta, +beta]``.
"""

from moe_lib.experts._base import ExpertFamily
from moe_lib.experts.linear import VARIANCE_FLOOR_RATIO, LinearExperts
from moe_lib.experts.logistic import LogisticExperts
from moe_lib.experts.multinomial import MultinomialExperts
from moe_lib.experts.symmetric import SymmetricLinearExperts, SymmetricLogisticExperts

__all__ = [
    "VARIANCE_FLOOR_RATIO",
    "ExpertFamily",
    "LinearExperts",
    "LogisticExperts",
    "MultinomialExperts",
    "SymmetricLinearExperts",
    "SymmetricLogisticExperts",
]
