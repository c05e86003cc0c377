"""Shared helpers of the tests of moe_lib.symmetric: seeded instances, the generic counterpart of
an instance, finite differences and independent pieces of the complete-data exponential family
(chapter 5 of the book), written directly from the model rather than taken from the library."""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.special import expit, log_expit

from moe_lib import symmetric as S
from moe_lib.experts import SymmetricLinearExperts, SymmetricLogisticExperts
from moe_lib.params import make_data

KINDS = ("linear", "logistic")
FAMILIES = {"linear": SymmetricLinearExperts(), "logistic": SymmetricLogisticExperts()}
#: A moderate SNR for each kind, and a gate norm that makes SymMoLogE identifiable enough.
SNR = {"linear": 1.5, "logistic": 4.0}
W_NORM = {"linear": 1.0, "logistic": 3.0}


def instance(kind: str, seed: int, n: int = 300, d: int | None = None):
    """Data from theta* and a generic point (w, beta) at relative distance ~0.5 from theta*."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 5)) if d is None else d
    ws, bs = S.random_instance(kind, d, SNR[kind], w_norm=W_NORM[kind], rng=rng)
    X, y, _ = S.sample(kind, ws, bs, n, rng)
    w, beta = S.initial_point(ws, bs, rng, radius=0.5)
    return X, y, w, beta, ws, bs


def generic(kind, X, y, w, beta):
    """The same instance for the generic machinery: family, data (no intercept), parameters."""
    return FAMILIES[kind], make_data(X, y, fit_intercept=False), S.to_moe_params(w, beta)


def fd_gradient(f, x, h=1e-5):
    out = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        out[j] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def fd_jacobian(F, x, h=1e-5):
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        cols.append((F(x + e) - F(x - e)) / (2 * h))
    return np.column_stack(cols)


def split(theta):
    d = theta.size // 2
    return theta[:d], theta[d:]


def loss_theta(kind, X, y):
    return lambda t: S.neg_loglik(kind, X, y, *split(t))


def grad_theta(kind, X, y):
    return lambda t: np.concatenate(S.gradient(kind, X, y, *split(t)))


def fitted_optimum(kind, X, y, w0, beta0, n_em=300):
    """theta_hat: EM from (w0, beta0), polished by Newton on L with hess L = hess A - I."""
    w, beta = w0, beta0
    for _ in range(n_em):
        w, beta = S.em_step(kind, X, y, w, beta)
    theta = np.concatenate([w, beta])
    for _ in range(20):
        g = grad_theta(kind, X, y)(theta)
        if np.max(np.abs(g)) < 1e-15:
            break
        hess = S.complete_fisher(kind, X, *split(theta)) - S.missing_information(
            kind, X, y, *split(theta)
        )
        theta = theta - linalg.solve(hess, g, assume_a="pos")
    assert np.max(np.abs(grad_theta(kind, X, y)(theta))) < 1e-13
    return theta


def grad_A(kind, X, w, beta):
    """Gradient of the complete-data log-partition A, written directly."""
    n = X.shape[0]
    gw = X.T @ expit(X @ w) / n
    gb = X.T @ (X @ beta) / n if kind == "linear" else X.T @ expit(X @ beta) / n
    return np.concatenate([gw, gb])


def log_partition(kind, X, w, beta):
    u, a = X @ w, X @ beta
    sp = -log_expit(-u)
    return float(np.mean(sp + (0.5 * a**2 if kind == "linear" else -log_expit(-a))))


def q_function(kind, X, y, theta, theta_t):
    """Q(theta | theta_t) = -E E_{z ~ post(theta_t)} log p(y, z | x; theta), written directly."""
    w, beta = split(theta)
    p = S.posterior(kind, X, y, *split(theta_t))
    u, a = X @ w, X @ beta
    if kind == "linear":
        log_f1 = -0.5 * np.log(2 * np.pi) - 0.5 * (y - a) ** 2
        log_f2 = -0.5 * np.log(2 * np.pi) - 0.5 * (y + a) ** 2
    else:
        log_f1 = y * log_expit(a) + (1 - y) * log_expit(-a)
        log_f2 = y * log_expit(-a) + (1 - y) * log_expit(a)
    ll = p * (log_expit(u) + log_f1) + (1 - p) * (log_expit(-u) + log_f2)
    return float(-np.mean(ll))
