"""Expert families: each one knows its density, its exact weighted M-step and its gradient.

Every family has the same verbs, so the E-step, the EM driver and the gradient methods never ask
which family they hold:

- ``check_y``: validate labels (and binomial trial counts);
- ``log_prob``: ``log p(y_i | x_i, z = k)`` for every expert, shape (n, K);
- ``m_step``: maximise ``sum_i r_ik log p(y_i | x_i, z = k) - alpha/2 ||penalised coef_k||^2`` for
  every ``k``, exactly (closed form or a Newton solve to a gradient tolerance);
- ``to_free`` / ``from_free``: the unconstrained parameter vector the gradient methods move
  (variances as ``log sigma``);
- ``free_gradient``: the gradient of the expert part of ``Q`` (the penalty included) in those free
  coordinates, with a curvature bound per coordinate's block for the gradient step sizes;
- ``expert_mean``: what each expert predicts; ``sample``: draw labels.

Linear-Gaussian experts are never penalised; logistic and multinomial experts are, when
``alpha > 0``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from scipy import linalg
from scipy.linalg import lapack
from scipy.special import expit, gammaln

from moe_lib._math import (
    column_sum,
    logsumexp,
    row_blocks,
    softplus,
    softplus_expit,
    weighted_gram,
    weighted_grams,
)
from moe_lib._newton import SolveInfo, newton_cg_maximize, newton_maximize
from moe_lib.gating import MAX_NEWTON_DIM, fit_weighted_softmax

#: Variance floor of linear experts, relative to the variance of ``y``: without it an expert can
#: collapse onto a single point and the likelihood is unbounded.
VARIANCE_FLOOR_RATIO = 1e-8

#: Default tolerance and bound of the inner Newton solves (gradient per unit weight).
INNER_TOL = 1e-10
INNER_MAX_ITER = 100


#: The weighted least-squares solves use Cholesky on the weighted Gram matrix (scaled to unit
#: diagonal) when LAPACK's estimate of its condition number is at most this, and ``lstsq`` (SVD)
#: otherwise. The two then agree to about ``1e-13`` relative (measured: ~cond x 1e-16), and the
#: Gram matrix costs a fraction of ``lstsq`` (n = 1e5, p = 11: ~6x less).
CHOLESKY_MAX_COND = 1e3


def _weighted_lstsq(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    rhs: np.ndarray | None = None,
    gram: np.ndarray | None = None,
) -> np.ndarray:
    """``argmin_b sum_i w_i (y_i - x_i^T b)^2``, the minimum-norm solution if not unique.

    Parameters
    ----------
    X : ndarray of shape (n, p)
    y : ndarray of shape (n,)
    w : ndarray of shape (n,)
        Non-negative weights.
    rhs : ndarray of shape (p,), optional
        ``X^T (w * y)`` when the caller has it already.
    gram : ndarray of shape (p, p), optional
        ``X^T diag(w) X`` when the caller has it already.

    Returns
    -------
    ndarray of shape (p,)
        From the Cholesky factor of the diagonally scaled ``X^T diag(w) X`` when it is well
        conditioned (:data:`CHOLESKY_MAX_COND`), else ``numpy.linalg.lstsq`` on ``sqrt(w) X``.
    """
    if gram is None:
        gram = weighted_gram(X, w)
    d = np.sqrt(np.diag(gram))
    if d.size and np.all(d > 0) and np.all(np.isfinite(gram)):
        scaled = gram / d[:, None] / d[None, :]
        try:
            chol, lower = linalg.cho_factor(scaled, lower=True, check_finite=False)
        except linalg.LinAlgError:
            chol = None
        if chol is not None:
            anorm = float(np.max(np.sum(np.abs(scaled), axis=0)))
            rcond, info = lapack.dpocon(chol, anorm, uplo="L")
            if info == 0 and rcond * CHOLESKY_MAX_COND >= 1.0:
                if rhs is None:
                    rhs = X.T @ (w * y)
                return linalg.cho_solve((chol, lower), rhs / d, check_finite=False) / d
    sw = np.sqrt(w)
    return np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)[0]


def _lambda_max(X: np.ndarray, w: np.ndarray) -> float:
    """Largest eigenvalue of ``X^T diag(w) X``."""
    if X.shape[1] == 0:
        return 0.0
    return float(np.linalg.eigvalsh(weighted_gram(X, w))[-1])


class ExpertFamily(ABC):
    """The interface shared by all expert families."""

    #: Short name used in messages and ``repr``.
    name: str = "expert"
    #: Whether the L2 penalty ``alpha`` applies to this family's coefficients.
    penalized: bool = True
    #: Whether the family has a variance per expert.
    has_sigma: bool = False

    @abstractmethod
    def check_y(
        self, y: np.ndarray, n_trials: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Validate ``y`` (and ``n_trials``); return them as the arrays the family works with."""

    @abstractmethod
    def coef_shape(self, n_experts: int, n_features: int) -> tuple[int, ...]:
        """Shape of the coefficient array."""

    @abstractmethod
    def log_prob(
        self,
        X: np.ndarray,
        y: np.ndarray,
        n_trials: np.ndarray | None,
        coef: np.ndarray,
        sigma: np.ndarray | None,
    ) -> np.ndarray:
        """``log p(y_i | x_i, z=k)``, shape (n, K), every constant included."""

    @abstractmethod
    def m_step(
        self,
        X: np.ndarray,
        y: np.ndarray,
        n_trials: np.ndarray | None,
        resp: np.ndarray,
        coef: np.ndarray,
        sigma: np.ndarray | None,
        alpha: float,
        mask: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray | None, list[SolveInfo]]:
        """Exact weighted M-step of every expert, warm-started at ``coef``."""

    @abstractmethod
    def to_free(self, coef: np.ndarray, sigma: np.ndarray | None) -> np.ndarray:
        """Unconstrained parameter vector (for the gradient methods)."""

    @abstractmethod
    def from_free(
        self, v: np.ndarray, n_experts: int, n_features: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Inverse of :meth:`to_free`."""

    @abstractmethod
    def free_gradient(
        self,
        X: np.ndarray,
        y: np.ndarray,
        n_trials: np.ndarray | None,
        resp: np.ndarray,
        coef: np.ndarray,
        sigma: np.ndarray | None,
        alpha: float,
        mask: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of the penalised expert part of Q in free coordinates, and a curvature bound.

        Returns
        -------
        grad : ndarray of shape (m,)
        curvature : ndarray of shape (m,)
            For each coordinate, an upper bound on the curvature of the block it belongs to (one
            expert's coefficients, or one ``log sigma``), at the current responsibilities.
        """

    @abstractmethod
    def expert_mean(self, X: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """Each expert's prediction: mean (n, K), success probability (n, K) or class
        probabilities (n, K, C)."""

    @abstractmethod
    def sample(
        self,
        X: np.ndarray,
        z: np.ndarray,
        coef: np.ndarray,
        sigma: np.ndarray | None,
        n_trials: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Draw ``y_i`` from expert ``z_i``."""

    def penalty(self, coef: np.ndarray, mask: np.ndarray) -> float:
        """``||mask * coef||^2`` over the free coefficients (0 for unpenalised families)."""
        if not self.penalized:
            return 0.0
        return float(np.sum(mask * coef**2))

    def n_free_params(self, n_experts: int, n_features: int) -> int:
        """Number of free parameters (for AIC/BIC)."""
        return self.to_free(
            np.zeros(self.coef_shape(n_experts, n_features)),
            np.ones(n_experts) if self.has_sigma else None,
        ).size

    def init_coef(self, n_experts: int, n_features: int) -> np.ndarray:
        """Starting coefficients for a first M-step (zeros)."""
        return np.zeros(self.coef_shape(n_experts, n_features))

    def separated_experts(
        self,
        X: np.ndarray,
        y: np.ndarray,
        n_trials: np.ndarray | None,
        resp: np.ndarray,
        coef: np.ndarray,
        threshold: float = 1e-6,
    ) -> list[int]:
        """Experts whose fitted probabilities reproduce every weighted label to within rounding.

        That is the signature of (quasi-)separation: the unpenalised M-step has no finite
        maximiser, and its solve only stops because the gradient underflows. Families without a
        separation issue return an empty list.
        """
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LinearExperts(ExpertFamily):
    """Linear-Gaussian experts ``y | x, z=k ~ N(x^T beta_k, sigma_k^2)``, one variance each.

    The M-step is weighted least squares (:func:`_weighted_lstsq`: Cholesky of the weighted Gram
    matrix when it is well conditioned, else ``lstsq`` on ``sqrt(r_k) X``)
    and the weighted MLE of the variance, floored at ``variance_floor_ratio * var(y)``. Clamping is
    the exact maximiser of Q under that constraint, so EM stays monotone. Never penalised.
    """

    name = "linear"
    penalized = False
    has_sigma = True

    def __init__(self, variance_floor_ratio: float = VARIANCE_FLOOR_RATIO) -> None:
        if not (np.isfinite(variance_floor_ratio) and variance_floor_ratio > 0):
            raise ValueError(
                f"variance_floor_ratio must be finite and > 0, got {variance_floor_ratio!r}"
            )
        self.variance_floor_ratio = float(variance_floor_ratio)

    def variance_floor(self, y: np.ndarray) -> float:
        """The smallest variance an expert may take on data ``y``."""
        return self.variance_floor_ratio * max(float(np.var(y)), np.finfo(float).tiny)

    def check_y(self, y, n_trials):
        if n_trials is not None:
            raise ValueError("n_trials is only meaningful for logistic (binomial) experts")
        return np.asarray(y, dtype=float), None

    def coef_shape(self, n_experts, n_features):
        return (n_experts, n_features)

    def log_prob(self, X, y, n_trials, coef, sigma):
        # In place on one (n, K) array: at n = 1e6 every fresh temporary costs page faults.
        z = X @ coef.T
        np.subtract(y[:, None], z, out=z)
        z /= sigma
        np.square(z, out=z)
        z *= -0.5
        z -= 0.5 * np.log(2 * np.pi) + np.log(sigma)
        return z

    def m_step(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        K = resp.shape[1]
        new_coef = np.empty_like(coef, dtype=float)
        # The right-hand sides X^T diag(r_k) y and the residuals of all experts in one product each.
        rhs = (resp * y[:, None]).T @ X
        grams = weighted_grams(X, resp)
        for k in range(K):
            new_coef[k] = _weighted_lstsq(X, y, resp[:, k], rhs[k], grams[k])
        sq_resid = X @ new_coef.T
        np.subtract(y[:, None], sq_resid, out=sq_resid)
        np.square(sq_resid, out=sq_resid)
        var = column_sum(resp * sq_resid) / column_sum(resp)
        new_sigma = np.sqrt(np.maximum(var, self.variance_floor(y)))
        return new_coef, new_sigma, []

    def to_free(self, coef, sigma):
        return np.concatenate([coef.ravel(), np.log(sigma)])

    def from_free(self, v, n_experts, n_features):
        m = n_experts * n_features
        return v[:m].reshape(n_experts, n_features), np.exp(v[m:])

    def free_gradient(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        resid = y[:, None] - X @ coef.T  # (n, K)
        g_coef = (resp * resid).T @ X / sigma[:, None] ** 2
        wss = np.sum(resp * resid**2, axis=0) / sigma**2
        nk = resp.sum(axis=0)
        g_log_sigma = wss - nk
        p = X.shape[1]
        curv_coef = np.array([_lambda_max(X, resp[:, k]) for k in range(len(sigma))]) / sigma**2
        # d^2/d(log sigma)^2 of Q_k is -2 * wss; taking the max with 2 * n_k keeps a step that
        # shrinks sigma within half a unit of log sigma.
        curv_log_sigma = 2.0 * np.maximum(wss, nk)
        grad = np.concatenate([g_coef.ravel(), g_log_sigma])
        curv = np.concatenate([np.repeat(curv_coef, p), curv_log_sigma])
        return grad, curv

    def expert_mean(self, X, coef):
        return X @ coef.T

    def sample(self, X, z, coef, sigma, n_trials, rng):
        mean = np.einsum("ij,ij->i", X, coef[z])
        return mean + sigma[z] * rng.standard_normal(X.shape[0])


class LogisticExperts(ExpertFamily):
    """Logistic experts: Bernoulli labels, or binomial counts ``0 <= y <= n_trials``.

    ``log p(y | x, z=k) = log C(m, y) + y x^T beta_k - m softplus(x^T beta_k)``, binomial
    coefficient included. The M-step is weighted IRLS (Newton with step halving), warm-started,
    solved to a gradient of ``1e-10`` per unit weight; with more than ``MAX_NEWTON_DIM`` features it
    uses Newton-CG.
    """

    name = "logistic"

    def check_y(self, y, n_trials):
        y = np.asarray(y, dtype=float)
        if n_trials is None:
            if not np.all((y == 0) | (y == 1)):
                bad = np.unique(y[(y != 0) & (y != 1)])[:5]
                raise ValueError(
                    f"y must hold binary labels in {{0, 1}} for logistic experts; found {bad}"
                )
            return y, None
        m = np.asarray(n_trials, dtype=float)
        if m.ndim == 0:
            m = np.full(y.shape, float(m))
        if m.shape != y.shape:
            raise ValueError(
                f"n_trials must be a scalar or have the shape of y {y.shape}, got {m.shape}"
            )
        if not np.all(np.isfinite(m)) or np.any(m < 1) or np.any(m != np.round(m)):
            raise ValueError("n_trials must hold whole numbers >= 1")
        if np.any(y < 0) or np.any(y != np.round(y)):
            raise ValueError("y must hold whole-number counts >= 0 for binomial experts")
        if np.any(y > m):
            i = int(np.argmax(y > m))
            raise ValueError(
                f"y must not exceed n_trials: y[{i}] = {y[i]:g} > n_trials[{i}] = {m[i]:g}"
            )
        return y, m

    def coef_shape(self, n_experts, n_features):
        return (n_experts, n_features)

    def _trials(self, y, n_trials):
        return np.ones_like(y) if n_trials is None else n_trials

    def log_prob(self, X, y, n_trials, coef, sigma):
        eta = X @ coef.T
        m = self._trials(y, n_trials)
        out = softplus(eta)
        if n_trials is not None:
            out *= m[:, None]
        eta *= y[:, None]
        np.subtract(eta, out, out=out)
        if n_trials is not None:
            out += (gammaln(m + 1) - gammaln(y + 1) - gammaln(m - y + 1))[:, None]
        return out

    def _fit_one(self, X, y, m, w, beta0, alpha, mask):
        """Maximise ``sum_i w_i (y_i eta_i - m_i sp(eta_i)) - alpha/2 ||mask beta||^2``."""
        scale = 1.0 / float(np.sum(w))
        wy, wm = w * y, w * m
        cache: dict[str, np.ndarray] = {}

        def at(b):
            # The solvers ask for the value, gradient and Hessian (or many Hessian-vector
            # products) at the same point: compute X @ b, its softplus and expit once per point.
            if "b" not in cache or not np.array_equal(cache["b"], b):
                cache["b"] = np.array(b, dtype=float, copy=True)
                eta = X @ b
                sp, s = softplus_expit(eta)
                cache["value"] = float(wy @ eta - wm @ sp)
                cache["s"] = s
            return cache["value"], cache["s"]

        def fun(b):
            return (at(b)[0] - 0.5 * alpha * np.sum(mask * b**2)) * scale

        def grad(b):
            return (X.T @ (wy - wm * at(b)[1]) - alpha * mask * b) * scale

        def hess(b):
            s = at(b)[1]
            neg_h = weighted_gram(X, wm * s * (1 - s))
            neg_h[np.diag_indices_from(neg_h)] += alpha * mask
            return -neg_h * scale

        def fun_grad(b):
            return fun(b), grad(b)

        def hessp(b, u):
            s = at(b)[1]
            return -(X.T @ (wm * s * (1 - s) * (X @ u)) + alpha * mask * u) * scale

        if X.shape[1] <= MAX_NEWTON_DIM:
            return newton_maximize(fun, grad, hess, beta0, tol=INNER_TOL, max_iter=INNER_MAX_ITER)
        return newton_cg_maximize(fun_grad, hessp, beta0, tol=INNER_TOL, max_iter=INNER_MAX_ITER)

    def _fit_all(self, X, y, m, resp, coef0, alpha, mask):
        """All experts' weighted logistic regressions as one Newton solve.

        The objective ``sum_k Q_k(beta_k) / W_k`` (``W_k`` = total weight of expert ``k``) is
        separable and its Hessian block-diagonal, so Newton on it is Newton on every expert, with
        a common step length; its stopping rule (largest entry of the per-unit-weight gradients
        <= ``INNER_TOL``) is each expert's. Solving them together makes one pass over ``X``
        per evaluation for all experts instead of one per expert.
        """
        K, p = coef0.shape
        scale = 1.0 / column_sum(resp)
        WY, WM = resp * y[:, None], resp * m[:, None]
        cache: dict[str, np.ndarray] = {}

        blocks = row_blocks(X.shape[0], max(K, p))

        def at(b):
            # Value per expert and gradient (penalty excluded) and expit of the scores, once per
            # point, in one pass over X by row blocks (the (n, K) temporaries stay in cache).
            if "b" not in cache or not np.array_equal(cache["b"], b):
                B = b.reshape(K, p)
                S = np.empty((X.shape[0], K))
                value = np.zeros(K)
                G = np.zeros((K, p))
                for rows in blocks:
                    Xb, wy, wm = X[rows], WY[rows], WM[rows]
                    eta = Xb @ B.T
                    sp, s = softplus_expit(eta)
                    S[rows] = s
                    sp *= wm
                    eta *= wy
                    eta -= sp
                    value += column_sum(eta)
                    s *= wm
                    np.subtract(wy, s, out=s)
                    G += s.T @ Xb
                cache.update(b=np.array(b, dtype=float, copy=True), value=value, s=S, grad=G)
            return cache["value"], cache["s"]

        def fun(b):
            B = b.reshape(K, p)
            per_expert = at(b)[0] - 0.5 * alpha * np.sum(mask * B**2, axis=1)
            return float(per_expert @ scale)

        def grad(b):
            at(b)
            G = cache["grad"] - alpha * mask * b.reshape(K, p)
            return (G * scale[:, None]).ravel()

        def hess(b):
            s = at(b)[1]
            grams = weighted_grams(X, WM * s * (1 - s))
            H = np.zeros((K * p, K * p))
            for k, block in enumerate(grams):
                block[np.diag_indices(p)] += alpha * mask
                H[k * p : (k + 1) * p, k * p : (k + 1) * p] = -block * scale[k]
            return H

        b, info = newton_maximize(
            fun, grad, hess, coef0.ravel(), tol=INNER_TOL, max_iter=INNER_MAX_ITER
        )
        return b.reshape(K, p), info

    def m_step(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        m = self._trials(y, n_trials)
        if coef.size <= MAX_NEWTON_DIM:
            coef = np.asarray(coef, dtype=float)
            new_coef, info = self._fit_all(X, y, m, resp, coef, alpha, mask)
            return new_coef, None, [info]
        new_coef = np.empty_like(coef, dtype=float)
        infos = []
        for k in range(resp.shape[1]):
            new_coef[k], info = self._fit_one(X, y, m, resp[:, k], coef[k], alpha, mask)
            infos.append(info)
        return new_coef, None, infos

    def to_free(self, coef, sigma):
        return coef.ravel().copy()

    def from_free(self, v, n_experts, n_features):
        return v.reshape(n_experts, n_features), None

    def free_gradient(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        m = self._trials(y, n_trials)
        mu = m[:, None] * expit(X @ coef.T)
        g = (resp * (y[:, None] - mu)).T @ X - alpha * mask * coef
        curv = np.array([0.25 * _lambda_max(X, resp[:, k] * m) for k in range(coef.shape[0])])
        return g.ravel(), np.repeat(curv + alpha, X.shape[1])

    def expert_mean(self, X, coef):
        return expit(X @ coef.T)

    def sample(self, X, z, coef, sigma, n_trials, rng):
        p = expit(np.einsum("ij,ij->i", X, coef[z]))
        m = np.ones(X.shape[0], dtype=int) if n_trials is None else np.asarray(n_trials, dtype=int)
        return rng.binomial(m, p).astype(float)

    def separated_experts(self, X, y, n_trials, resp, coef, threshold=1e-6):
        m = self._trials(y, n_trials)
        resid = np.abs(y[:, None] / m[:, None] - expit(X @ coef.T))  # (n, K)
        weighted = resp >= threshold
        return [
            k
            for k in range(coef.shape[0])
            if np.any(weighted[:, k]) and np.max(resid[weighted[:, k], k]) <= threshold
        ]


class MultinomialExperts(ExpertFamily):
    """C-class softmax experts with class 0 as reference: ``coef`` has shape (K, C, p).

    Labels are integer codes ``0..C-1``. The M-step of expert ``k`` is the gate's solver
    (:func:`moe_lib.gating.fit_weighted_softmax`) with one-hot labels and weights ``r_ik``.
    """

    name = "multinomial"

    def __init__(self, n_classes: int) -> None:
        if not isinstance(n_classes, int | np.integer) or n_classes < 2:
            raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
        self.n_classes = int(n_classes)

    def __repr__(self) -> str:
        return f"MultinomialExperts(n_classes={self.n_classes})"

    def check_y(self, y, n_trials):
        if n_trials is not None:
            raise ValueError("n_trials is only meaningful for binomial experts")
        y = np.asarray(y)
        if not np.all((y >= 0) & (y < self.n_classes) & (y == np.round(y))):
            raise ValueError(f"y must hold integer class codes in 0..{self.n_classes - 1}")
        return y.astype(int), None

    def coef_shape(self, n_experts, n_features):
        return (n_experts, self.n_classes, n_features)

    def _onehot(self, y):
        return np.eye(self.n_classes)[y]

    def log_prob(self, X, y, n_trials, coef, sigma):
        eta = np.einsum("ip,kcp->ikc", X, coef)
        logp = eta - logsumexp(eta, axis=2, keepdims=True)
        return np.take_along_axis(logp, y[:, None, None], axis=2)[:, :, 0]

    def m_step(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        targets = self._onehot(y)
        new_coef = np.empty_like(coef, dtype=float)
        infos = []
        for k in range(resp.shape[1]):
            new_coef[k], info = fit_weighted_softmax(
                X,
                targets,
                resp[:, k],
                coef[k],
                alpha=alpha,
                penalty_mask=mask,
                tol=INNER_TOL,
                max_iter=INNER_MAX_ITER,
            )
            infos.append(info)
        return new_coef, None, infos

    def to_free(self, coef, sigma):
        return coef[:, 1:, :].ravel().copy()

    def from_free(self, v, n_experts, n_features):
        coef = np.zeros((n_experts, self.n_classes, n_features))
        coef[:, 1:, :] = v.reshape(n_experts, self.n_classes - 1, n_features)
        return coef, None

    def free_gradient(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        onehot = self._onehot(y)
        K, C, p = coef.shape
        probs = self.expert_mean(X, coef)  # (n, K, C)
        diff = resp[:, :, None] * (onehot[:, None, :] - probs)  # (n, K, C)
        g = np.einsum("ikc,ip->kcp", diff, X)[:, 1:, :] - alpha * mask * coef[:, 1:, :]
        # Boehning's bound: 1/2 (I - 11^T/C) (x) X^T R X; lambda_max(I - 11^T/C) on C-1 free
        # classes is 1/2 for C = 2 and 1 otherwise.
        c_factor = 0.5 if C == 2 else 1.0
        curv = np.array([0.5 * c_factor * _lambda_max(X, resp[:, k]) for k in range(K)]) + alpha
        return g.ravel(), np.repeat(curv, (C - 1) * p)

    def expert_mean(self, X, coef):
        eta = np.einsum("ip,kcp->ikc", X, coef)
        return np.exp(eta - logsumexp(eta, axis=2, keepdims=True))

    def sample(self, X, z, coef, sigma, n_trials, rng):
        eta = np.einsum("ip,icp->ic", X, coef[z])
        probs = np.exp(eta - logsumexp(eta, axis=1, keepdims=True))
        u = rng.random(X.shape[0])
        return np.minimum((np.cumsum(probs, axis=1) < u[:, None]).sum(axis=1), self.n_classes - 1)

    def separated_experts(self, X, y, n_trials, resp, coef, threshold=1e-6):
        onehot = self._onehot(y)
        resid = np.max(np.abs(onehot[:, None, :] - self.expert_mean(X, coef)), axis=2)  # (n, K)
        weighted = resp >= threshold
        return [
            k
            for k in range(coef.shape[0])
            if np.any(weighted[:, k]) and np.max(resid[weighted[:, k], k]) <= threshold
        ]


class _TiedPair:
    """Shared shape logic of the symmetric two-expert families: ``coef = [-beta, +beta]``.

    Expert 1 (the non-reference expert of the gate) carries ``+beta`` and expert 0 carries
    ``-beta``, as in SymMoLinE/SymMoLogE of Fruytier, Mokhtari & Sanghavi (2025).
    """

    def coef_shape(self, n_experts, n_features):
        if n_experts != 2:
            raise ValueError(f"symmetric models have exactly 2 experts, got n_experts={n_experts}")
        return (2, n_features)

    def to_free(self, coef, sigma):
        return coef[1].copy()

    def from_free(self, v, n_experts, n_features):
        return np.vstack([-v, v]), None

    @staticmethod
    def _stack(X, y, resp):
        """The tied M-step as one weighted fit on the data stacked with ``-X`` (weights r1, r0)."""
        return np.vstack([X, -X]), np.concatenate([y, y]), np.concatenate([resp[:, 1], resp[:, 0]])


class SymmetricLinearExperts(_TiedPair, LinearExperts):
    """SymMoLinE experts: ``y | x, z ~ N(s_z x^T beta, 1)``, ``s = (-1, +1)``, unit variance.

    The M-step is weighted least squares on the stacked data ``[X; -X]`` with weights
    ``[r_1; r_0]``: a generic computation that must agree with the closed form
    ``beta = (X^T X)^{-1} X^T ((2 p - 1) y)`` of :mod:`moe_lib.symmetric`.
    """

    name = "symmetric-linear"
    has_sigma = False

    def __init__(self) -> None:
        super().__init__()

    def log_prob(self, X, y, n_trials, coef, sigma):
        return super().log_prob(X, y, n_trials, coef, np.ones(2))

    def m_step(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        Xs, ys, ws = self._stack(X, y, resp)
        beta = _weighted_lstsq(Xs, ys, ws)
        return np.vstack([-beta, beta]), None, []

    def free_gradient(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        Xs, ys, ws = self._stack(X, y, resp)
        grad = Xs.T @ (ws * (ys - Xs @ coef[1]))
        return grad, np.full(X.shape[1], _lambda_max(Xs, ws))

    def sample(self, X, z, coef, sigma, n_trials, rng):
        return super().sample(X, z, coef, np.ones(2), n_trials, rng)


class SymmetricLogisticExperts(_TiedPair, LogisticExperts):
    """SymMoLogE experts: ``P(y = 1 | x, z) = sig(s_z x^T beta)`` with ``s = (-1, +1)``.

    The M-step is weighted IRLS on the stacked data ``[X; -X]`` with weights ``[r_1; r_0]``; the
    closed form of :mod:`moe_lib.symmetric` solves the equivalent soft-label regression on ``X``.
    """

    name = "symmetric-logistic"

    def check_y(self, y, n_trials):
        if n_trials is not None:
            raise ValueError("symmetric logistic experts take binary labels, not n_trials")
        return super().check_y(y, None)

    def m_step(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        Xs, ys, ws = self._stack(X, y, resp)
        beta, info = self._fit_one(Xs, ys, np.ones_like(ys), ws, coef[1], alpha, mask)
        return np.vstack([-beta, beta]), None, [info]

    def free_gradient(self, X, y, n_trials, resp, coef, sigma, alpha, mask):
        Xs, ys, ws = self._stack(X, y, resp)
        grad = Xs.T @ (ws * (ys - expit(Xs @ coef[1]))) - alpha * mask * coef[1]
        return grad, np.full(X.shape[1], 0.25 * _lambda_max(Xs, ws) + alpha)

    def penalty(self, coef, mask):
        return float(np.sum(mask * coef[1] ** 2))

    def separated_experts(self, X, y, n_trials, resp, coef, threshold=1e-6):
        Xs, ys, ws = self._stack(X, y, resp)
        pair = np.column_stack([np.zeros_like(ws), ws])
        return [1] if LogisticExperts.separated_experts(
            self, Xs, ys, None, pair, np.vstack([coef[1], coef[1]]), threshold
        ) else []
