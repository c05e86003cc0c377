"""The symmetric two-expert families of the paper, SymMoLinE and SymMoLogE, as generic families.

Expert 1 (the gate's non-reference expert) carries ``+beta`` and expert 0 carries ``-beta``, as in
Fruytier, Mokhtari & Sanghavi (2025). Their M-steps are generic computations (one weighted fit on
the data stacked with ``-X``), which :mod:`moe_lib.symmetric` checks against its closed forms.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from moe_lib._linalg import lambda_max
from moe_lib._problem import design_of
from moe_lib.experts._base import reproduced_labels
from moe_lib.experts.linear import LinearExperts, _gaussian_log_prob, weighted_lstsq
from moe_lib.experts.logistic import LogisticExperts, binary_labels
from moe_lib.regression import fit_weighted_logistic


class _TiedPair:
    """Shared shape logic of the symmetric families: ``coef = [-beta, +beta]``, no variances."""

    has_sigma = False
    tied = True

    def coef_shape(self, n_experts, n_features):
        if n_experts != 2:
            raise ValueError(f"symmetric models have exactly 2 experts, got n_experts={n_experts}")
        return (2, n_features)

    def check_coef(self, coef, name="params"):
        if not np.allclose(coef[0], -coef[1], rtol=1e-12, atol=1e-12):
            raise ValueError(f"{name}.coef must be tied as [-beta, +beta] for {self!r}")

    def to_free(self, coef, sigma):
        return coef[1].copy()

    def from_free(self, v, n_experts, n_features):
        return np.vstack([-v, v]), None

    def n_free_params(self, n_experts, n_features):
        return n_features

    @staticmethod
    def _stack(data, resp):
        """The tied M-step as one weighted fit on the data stacked with ``-X`` (weights r1, r0)."""
        X, y = data.X, data.y
        return np.vstack([X, -X]), np.concatenate([y, y]), np.concatenate([resp[:, 1], resp[:, 0]])


class SymmetricLinearExperts(_TiedPair, LinearExperts):
    """SymMoLinE experts: ``y | x, z ~ N(s_z x^T beta, 1)``, ``s = (-1, +1)``, unit variance.

    The M-step is weighted least squares on the stacked data ``[X; -X]`` with weights
    ``[r_1; r_0]``: a generic computation that must agree with the closed form
    ``beta = (X^T X)^{-1} X^T ((2 p - 1) y)`` of :mod:`moe_lib.symmetric`.

    Examples
    --------
    >>> SymmetricLinearExperts().coef_shape(2, 3)
    (2, 3)
    """

    name = "symmetric-linear"
    location_scale = False  # (the variance is fixed at 1: scaling y changes the model)

    def __init__(self) -> None:
        super().__init__()

    def log_prob(self, data, params):
        return _gaussian_log_prob(data.X, data.y, params.coef, np.ones(2))

    def m_step(self, data, resp, params, alpha, state=None):
        Xs, ys, ws = self._stack(data, resp)
        beta = weighted_lstsq(Xs, ys, ws)
        return np.vstack([-beta, beta]), None, []

    def closed_form_passes(self, n_experts, n_features):
        # One weighted least-squares fit on the stacked design [X; -X] (two passes over X per
        # pass over it): its Gram matrix and right-hand side.
        return 2.0 * ((n_features + 1) / 2 + 1)

    def free_gradient(self, data, resp, params, alpha):
        Xs, ys, ws = self._stack(data, resp)
        grad = Xs.T @ (ws * (ys - Xs @ params.coef[1]))
        return grad, np.full(data.X.shape[1], lambda_max(Xs, ws))

    def sample(self, X, z, params, n_trials, rng):
        mean = np.einsum("ij,ij->i", X, params.coef[z])
        return mean + rng.standard_normal(X.shape[0])


class SymmetricLogisticExperts(_TiedPair, LogisticExperts):
    """SymMoLogE experts: ``P(y = 1 | x, z) = sig(s_z x^T beta)`` with ``s = (-1, +1)``.

    The M-step is weighted IRLS on the stacked data ``[X; -X]`` with weights ``[r_1; r_0]``; the
    closed form of :mod:`moe_lib.symmetric` solves the equivalent soft-label regression on ``X``.

    Examples
    --------
    >>> SymmetricLogisticExperts().n_free_params(2, 3)
    3
    """

    name = "symmetric-logistic"

    def check_y(self, y, n_trials):
        if n_trials is not None:
            raise ValueError("symmetric logistic experts take binary labels, not n_trials")
        return binary_labels(y, "symmetric logistic experts"), None

    def m_step(self, data, resp, params, alpha, state=None):
        Xs, ys, ws = self._stack(data, resp)
        state = {} if state is None else state
        beta, info = fit_weighted_logistic(
            Xs, ys, np.ones_like(ys), ws[:, None], params.coef[1:], alpha=alpha,
            penalty_mask=data.expert_mask, curvature=state.get("experts"),
            design=design_of(state, "stacked experts", Xs),
        )
        state["experts"] = info.curvature
        return np.vstack([-beta[0], beta[0]]), None, [info]

    def free_gradient(self, data, resp, params, alpha):
        Xs, ys, ws = self._stack(data, resp)
        beta = params.coef[1]
        grad = Xs.T @ (ws * (ys - expit(Xs @ beta))) - alpha * data.expert_mask * beta
        return grad, np.full(data.X.shape[1], 0.25 * lambda_max(Xs, ws) + alpha)

    def penalty(self, coef, mask):
        return float(np.sum(mask * coef[1] ** 2))

    def separated_experts(self, data, resp, params, threshold=1e-6):
        Xs, ys, ws = self._stack(data, resp)
        resid = np.abs(ys - expit(Xs @ params.coef[1]))[:, None]
        # The one stacked regression is expert 1's (expert 0 is its mirror image).
        return [1] if reproduced_labels(resid, ws[:, None], threshold) else []
