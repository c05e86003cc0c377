"""Logistic experts: Bernoulli labels, or binomial counts ``0 <= y <= n_trials``."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln

from moe_lib._linalg import lambda_max, softplus
from moe_lib._problem import design_of
from moe_lib._validation import named
from moe_lib.experts._base import ExpertFamily, reproduced_labels
from moe_lib.params import MoEData
from moe_lib.regression import fit_weighted_logistic
from moe_lib.solvers import MAX_NEWTON_DIM


def binary_labels(y: np.ndarray, what: str) -> np.ndarray:
    """``y`` as floats, or a ``ValueError`` naming the labels that are not 0 or 1.

    Examples
    --------
    >>> binary_labels([0, 1, 1], "logistic experts")
    array([0., 1., 1.])
    >>> binary_labels([-1, 1], "logistic experts")
    Traceback (most recent call last):
    ...
    ValueError: y must hold binary labels in {0, 1} for logistic experts; found [-1.]
    """
    y = np.asarray(y)
    if y.dtype.kind not in "biuf":
        raise TypeError(f"y must hold numeric labels in {{0, 1}} for {what}, got dtype {y.dtype}")
    y = y.astype(float)
    bad = (y != 0) & (y != 1)
    if np.any(bad):
        raise ValueError(
            f"y must hold binary labels in {{0, 1}} for {what}; found {np.unique(y[bad])[:5]}"
        )
    return y


def _trials_of(data: MoEData) -> np.ndarray:
    """The trial counts of ``data`` (ones for Bernoulli labels)."""
    return np.ones_like(data.y) if data.n_trials is None else data.n_trials


class LogisticExperts(ExpertFamily):
    """Logistic experts: Bernoulli labels, or binomial counts ``0 <= y <= n_trials``.

    ``log p(y | x, z=k) = log C(m, y) + y x^T beta_k - m softplus(x^T beta_k)``, binomial
    coefficient included. The M-step is weighted IRLS (Newton with step halving) on all experts
    at once (:class:`moe_lib.regression.LogisticRegressions`), warm-started, solved to a gradient
    of ``1e-10`` per unit weight; with more than ``MAX_NEWTON_DIM`` coefficients in all, one
    solve per expert (Newton-CG for a very wide design).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.params import MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)))
    >>> np.exp(LogisticExperts().log_prob(data, params))
    array([[0.5, 0.5],
           [0.5, 0.5]])
    """

    name = "logistic"

    def check_y(self, y, n_trials):
        if n_trials is None:
            return binary_labels(y, "logistic experts"), None
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise TypeError(f"y must hold numeric counts for binomial experts, got {y.dtype}")
        y = y.astype(float)
        m = named(lambda: np.asarray(n_trials), "n_trials")  # (ragged: numpy's own message)
        if m.dtype.kind not in "biuf":
            raise TypeError(
                f"n_trials must hold numbers (binomial trial counts), got {m.dtype} values"
            )
        m = m.astype(float)
        if m.ndim == 0:
            m = np.full(y.shape, float(m))
        if m.shape != y.shape:
            raise ValueError(
                f"n_trials must be a scalar or have the shape of y {y.shape}, got {m.shape}"
            )
        if not np.all(np.isfinite(m)) or np.any(m < 1) or np.any(m != np.round(m)):
            raise ValueError("n_trials must hold whole numbers >= 1")
        if np.any(m > 2.0**53):
            raise ValueError("n_trials must be at most 2**53 (~9e15): larger counts are not exact "
                             "in floating point")
        if not np.all(np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
            raise ValueError("y must hold whole-number counts >= 0 for binomial experts")
        if np.any(y > m):
            i = int(np.argmax(y > m))
            raise ValueError(
                f"y must not exceed n_trials: y[{i}] = {y[i]:g} > n_trials[{i}] = {m[i]:g}"
            )
        return y, m

    def coef_shape(self, n_experts, n_features):
        return (n_experts, n_features)

    def log_prob(self, data, params):
        y, binomial = data.y, data.n_trials is not None
        eta = data.X @ params.coef.T
        out = softplus(eta)
        if binomial:
            out *= data.n_trials[:, None]
        eta *= y[:, None]
        np.subtract(eta, out, out=out)
        if binomial:
            m = data.n_trials
            out += (gammaln(m + 1) - gammaln(y + 1) - gammaln(m - y + 1))[:, None]
        return out

    def m_step(self, data, resp, params, alpha, state=None):
        X, y, m, coef = data.X, data.y, _trials_of(data), params.coef
        state = {} if state is None else state
        design = design_of(state, "experts", X)
        if coef.size <= MAX_NEWTON_DIM:
            new_coef, info = fit_weighted_logistic(
                X, y, m, resp, coef, alpha=alpha, penalty_mask=data.expert_mask,
                curvature=state.get("experts"), design=design,
            )
            state["experts"] = info.curvature
            return new_coef, None, [info]
        new_coef = np.empty_like(coef)
        infos = []
        for k in range(resp.shape[1]):
            fitted, info = fit_weighted_logistic(
                X, y, m, resp[:, k : k + 1], coef[k : k + 1], alpha=alpha,
                penalty_mask=data.expert_mask, curvature=state.get(f"expert {k}"),
                design=design,
            )
            state[f"expert {k}"] = info.curvature
            new_coef[k] = fitted[0]
            infos.append(info)
        return new_coef, None, infos

    def to_free(self, coef, sigma):
        return coef.ravel().copy()

    def from_free(self, v, n_experts, n_features):
        return v.reshape(n_experts, n_features), None

    def free_gradient(self, data, resp, params, alpha):
        X, coef, m = data.X, params.coef, _trials_of(data)
        mu = m[:, None] * expit(X @ coef.T)
        g = (resp * (data.y[:, None] - mu)).T @ X - alpha * data.expert_mask * coef
        curv = np.array([0.25 * lambda_max(X, resp[:, k] * m) for k in range(coef.shape[0])])
        return g.ravel(), np.repeat(curv + alpha, X.shape[1])

    def expert_mean(self, X, coef):
        return expit(X @ coef.T)

    def sample(self, X, z, params, n_trials, rng):
        p = expit(np.einsum("ij,ij->i", X, params.coef[z]))
        m = np.ones(X.shape[0], dtype=int) if n_trials is None else np.asarray(n_trials, dtype=int)
        return rng.binomial(m, p).astype(float)

    def separated_experts(self, data, resp, params, threshold=1e-6):
        m = _trials_of(data)
        resid = np.abs(data.y[:, None] / m[:, None] - expit(data.X @ params.coef.T))
        # A count strictly between 0 and n_trials is not a label that infinite coefficients
        # reproduce (rare events of rate 1e-9 have residuals below any threshold).
        resid[(data.y > 0) & (data.y < m)] = np.inf
        return reproduced_labels(resid, resp, threshold)
