"""The symmetric models' loss, posterior and gradient in two passes over the data.

One product ``X @ [w, beta]`` gives both scores, one product ``X^T @ R`` both gradients; the rest
is elementwise. A gradient-descent step is this evaluation (without the loss) and an update, so
it costs two passes and a few elementwise operations (the lean step the book's and the
benchmarks' comparisons need); an EM iteration reuses the posterior and the loss it computes.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from moe_lib._linalg import expit_exp_minus_abs, softplus_from

_HALF_LOG_2PI = 0.5 * float(np.log(2.0 * np.pi))


def evaluate(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    *,
    gradient: bool,
    loss: bool = True,
) -> tuple[float, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``L``, the posterior ``p = P(z = 1 | x, y)`` and (with ``gradient``) ``grad_w L``,
    ``grad_beta L``, for SymMoLinE (``kind="linear"``) or SymMoLogE (``"logistic"``).

    The posterior is the logistic function of its log-odds ``u + c a`` (``c = 2y`` or
    ``2y - 1``); with ``loss=False`` the loss is not computed (returned as ``nan``): the lean
    gradient step. Arguments are not checked (the callers have).

    Examples
    --------
    >>> X = np.array([[1.0], [-1.0]])
    >>> L, p, g_w, g_beta = evaluate("logistic", X, np.array([1.0, 0.0]), np.zeros(1),
    ...                              np.zeros(1), gradient=True)
    >>> round(L, 6), p, g_w, g_beta
    (0.693147, array([0.5, 0.5]), array([0.]), array([0.]))
    """
    scores = X @ np.column_stack([w, beta])
    u, a = scores[:, 0], scores[:, 1]
    value = np.nan
    # The posterior log-odds v = u + c a, c = 2y (linear) or 2y - 1 (logistic). The likelihood
    # of a sample is sig(u) f(+a) + sig(-u) f(-a); taking out the second term,
    #   log lik = log(sig(-u) f(-a)) + softplus(v) = softplus(v) - softplus(u) + log f(-a)
    # with log f(-a) = -log(2 pi)/2 - (y^2 + a^2)/2 - y a (linear experts) or -softplus(c a)
    # (logistic): two or three softplus, a quarter of the time of logaddexp of log_expit terms.
    # Each softplus(t) = max(t, 0) + log1p(e^-|t|) shares its exp with expit(t) (with |c a| = |a|
    # for the logistic experts' c = +-1): one exp per score. The posterior is computed the same
    # way whether or not the loss is asked for (same bits either way).
    c = 2.0 * y if kind == "linear" else 2.0 * y - 1.0
    v = u + c * a
    p, e_v = expit_exp_minus_abs(v)
    expit_u = expit_a = None
    if loss:
        expit_u, e_u = expit_exp_minus_abs(u)
        per = softplus_from(v, e_v)
        per -= softplus_from(u, e_u)
        if kind == "linear":
            per -= y * a + 0.5 * (y**2 + a**2) + _HALF_LOG_2PI
        else:
            expit_a, e_a = expit_exp_minus_abs(a)
            per -= softplus_from(c * a, e_a)
        value = float(-np.mean(per))
    if not gradient:
        return value, p, None, None
    resid = np.empty_like(scores)
    resid[:, 0] = (expit(u) if expit_u is None else expit_u) - p
    if kind == "linear":
        resid[:, 1] = a - (2.0 * p - 1.0) * y
    else:
        expit_a = expit(a) if expit_a is None else expit_a
        resid[:, 1] = expit_a - (p * y + (1.0 - p) * (1.0 - y))
    grads = X.T @ resid / X.shape[0]
    return value, p, grads[:, 0], grads[:, 1]
