"""Multinomial (C-class softmax) experts with class 0 as each expert's reference class."""

from __future__ import annotations

import numpy as np

from moe_lib._linalg import lambda_max, logsumexp, reference_lse_softmax, softmax
from moe_lib._problem import design_of
from moe_lib._validation import check_int
from moe_lib.experts._base import ExpertFamily, reproduced_labels
from moe_lib.regression import fit_weighted_softmax


class MultinomialExperts(ExpertFamily):
    """C-class softmax experts with class 0 as reference: ``coef`` has shape (K, C, p).

    Labels are integer codes ``0..C-1``. The M-step of expert ``k`` is the gate's solver
    (:class:`moe_lib.regression.SoftmaxRegression`) with one-hot labels and weights ``r_ik``.

    Parameters
    ----------
    n_classes : int
        Number of classes C >= 2.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.params import MoEParams, make_data
    >>> family = MultinomialExperts(3)
    >>> data = make_data(np.zeros((1, 1)), np.array([2]), family=family)
    >>> params = MoEParams(np.zeros((1, 2)), np.zeros((1, 3, 2)))
    >>> np.exp(family.log_prob(data, params)).round(3)
    array([[0.333]])
    """

    name = "multinomial"

    def __init__(self, n_classes: int) -> None:
        self.n_classes = check_int(n_classes, "n_classes", min_value=2)

    def __repr__(self) -> str:
        return f"MultinomialExperts(n_classes={self.n_classes})"

    def check_y(self, y, n_trials):
        if n_trials is not None:
            raise ValueError("n_trials is only meaningful for binomial experts")
        y = np.asarray(y)
        if y.dtype.kind not in "biuf" or not np.all(
            np.isfinite(y) & (y >= 0) & (y < self.n_classes) & (y == np.round(y))
        ):
            raise ValueError(f"y must hold integer class codes in 0..{self.n_classes - 1}")
        return y.astype(int), None

    def coef_shape(self, n_experts, n_features):
        return (n_experts, self.n_classes, n_features)

    def _onehot(self, y):
        return np.eye(self.n_classes)[y]

    @staticmethod
    def _scores(X, coef):
        # One matrix product (BLAS), not an einsum over three indices: the E-step's main cost.
        K, C, p = coef.shape
        return (X @ coef.reshape(K * C, p).T).reshape(X.shape[0], K, C)

    def log_prob(self, data, params):
        coef, y = params.coef, data.y
        if np.any(coef[:, 0]):
            eta = self._scores(data.X, coef)
            picked = np.take_along_axis(eta, y[:, None, None], axis=2)[:, :, 0]
            return picked - logsumexp(eta, axis=2)
        # Class 0 is the reference (zero coefficients, as every fit leaves them): only the
        # other C - 1 scores are formed, and their log-sum-exp with the reference's 0 needs no
        # pass for the maximum (:func:`reference_lse_softmax`). Only the label's score is
        # picked; no (n, K, C) array of log-probabilities is formed.
        n, K, m = y.shape[0], coef.shape[0], coef.shape[1] - 1
        eta = self._scores(data.X, coef[:, 1:])
        lse, _ = reference_lse_softmax(eta.reshape(n * K, m), want_softmax=False)
        picked = np.take_along_axis(eta, np.maximum(y - 1, 0)[:, None, None], axis=2)[:, :, 0]
        picked[y == 0] = 0.0
        return picked - lse.reshape(n, K)

    def m_step(self, data, resp, params, alpha, state=None):
        targets = self._onehot(data.y)
        new_coef = np.empty_like(params.coef)
        infos = []
        state = {} if state is None else state
        design = design_of(state, "experts", data.X)
        for k in range(resp.shape[1]):
            new_coef[k], info = fit_weighted_softmax(
                data.X, targets, resp[:, k], params.coef[k], alpha=alpha,
                penalty_mask=data.expert_mask, curvature=state.get(f"expert {k}"),
                design=design,
            )
            state[f"expert {k}"] = info.curvature
            infos.append(info)
        return new_coef, None, infos

    def to_free(self, coef, sigma):
        return coef[:, 1:, :].ravel().copy()

    def from_free(self, v, n_experts, n_features):
        coef = np.zeros((n_experts, self.n_classes, n_features))
        coef[:, 1:, :] = v.reshape(n_experts, self.n_classes - 1, n_features)
        return coef, None

    def free_gradient(self, data, resp, params, alpha):
        X, coef = data.X, params.coef
        onehot = self._onehot(data.y)
        K, C, p = coef.shape
        probs = self.expert_mean(X, coef)  # (n, K, C)
        diff = resp[:, :, None] * (onehot[:, None, :] - probs)  # (n, K, C)
        g = (diff.reshape(-1, K * C).T @ X).reshape(K, C, p)[:, 1:, :]
        g -= alpha * data.expert_mask * coef[:, 1:, :]
        # Boehning's bound: 1/2 (I - 11^T/C) (x) X^T R X; lambda_max(I - 11^T/C) on C-1 free
        # classes is 1/2 for C = 2 and 1 otherwise.
        c_factor = 0.5 if C == 2 else 1.0
        curv = np.array([0.5 * c_factor * lambda_max(X, resp[:, k]) for k in range(K)]) + alpha
        return g.ravel(), np.repeat(curv, (C - 1) * p)

    def expert_mean(self, X, coef):
        return softmax(self._scores(X, coef), axis=2)

    def sample(self, X, z, params, n_trials, rng):
        probs = softmax(np.einsum("ip,icp->ic", X, params.coef[z]), axis=1)
        u = rng.random(X.shape[0])
        return np.minimum((np.cumsum(probs, axis=1) < u[:, None]).sum(axis=1), self.n_classes - 1)

    def separated_experts(self, data, resp, params, threshold=1e-6):
        onehot = self._onehot(data.y)
        resid = np.max(np.abs(onehot[:, None, :] - self.expert_mean(data.X, params.coef)), axis=2)
        return reproduced_labels(resid, resp, threshold)
