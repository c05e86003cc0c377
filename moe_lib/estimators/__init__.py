"""scikit-learn estimators: :class:`MixtureOfLinearExperts` and :class:`MixtureOfLogisticExperts`.

Both fit ``p(y | x) = sum_k pi_k(g) p(y | x, z=k)`` with a softmax gate on gate covariates ``g``
(``gate_X``, by default the expert covariates ``X``) by exact EM (default), gradient EM or gradient
descent, all ascending the same penalised log-likelihood ``loglik - alpha/2 ||coefs||^2``.
"""

from moe_lib.estimators.linear import MixtureOfLinearExperts
from moe_lib.estimators.logistic import MixtureOfLogisticExperts

__all__ = ["MixtureOfLinearExperts", "MixtureOfLogisticExperts"]
