"""Linear-Gaussian experts: ``y | x, z=k ~ N(x^T beta_k, sigma_k^2)``, one variance each."""

from __future__ import annotations

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from moe_lib._linalg import column_sum, lambda_max, weighted_gram, weighted_grams
from moe_lib._validation import check_real
from moe_lib.experts._base import ExpertFamily
from moe_lib.scaling import robust_scale

#: Variance floor of linear experts, relative to the squared robust scale of ``y``
#: (:func:`robust_scale`): without it an expert can collapse onto a single point and the
#: likelihood is unbounded.
VARIANCE_FLOOR_RATIO = 1e-8

#: The weighted least-squares solves use Cholesky on the weighted Gram matrix (scaled to unit
#: diagonal) when LAPACK's estimate of its condition number is at most this, and ``lstsq`` (SVD)
#: otherwise. The two then agree to about ``1e-13`` relative (measured: ~cond x 1e-16), and the
#: Gram matrix costs a fraction of ``lstsq``.
CHOLESKY_MAX_COND = 1e3

_LOG_2PI = float(np.log(2 * np.pi))


def weighted_lstsq(
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

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(3), [0.0, 1.0, 2.0]])
    >>> weighted_lstsq(X, np.array([1.0, 3.0, 5.0]), np.ones(3)).round(12)
    array([1., 2.])
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


class LinearExperts(ExpertFamily):
    """Linear-Gaussian experts ``y | x, z=k ~ N(x^T beta_k, sigma_k^2)``, one variance each.

    The M-step is weighted least squares (``weighted_lstsq``) and the weighted MLE of the
    variance, floored at ``variance_floor_ratio * robust_scale(y)**2`` (a floor that one outlier
    cannot inflate). Clamping is the exact maximiser of Q under that constraint, so EM stays
    monotone; a variance that ends on its floor is reported by the driver. Never penalised.

    Parameters
    ----------
    variance_floor_ratio : float, default=1e-8
        The floor on each variance, relative to the squared robust scale of ``y`` (> 0).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.params import MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 1.0], [1.0, 0.0]]), np.ones(2))
    >>> LinearExperts().log_prob(data, params).round(3)
    array([[-0.919, -1.419],
           [-0.919, -0.919]])
    """

    name = "linear"
    penalized = False
    has_sigma = True
    location_scale = True

    def __init__(self, variance_floor_ratio: float = VARIANCE_FLOOR_RATIO) -> None:
        self.variance_floor_ratio = check_real(
            variance_floor_ratio, "variance_floor_ratio", min_value=0.0, strict=True
        )

    def variance_floor(self, y: np.ndarray) -> float:
        """The smallest variance an expert may take on data ``y``."""
        # The M-step asks at every iteration for the same y: a median is worth keeping.
        cached = getattr(self, "_floor_of", None)
        if cached is None or cached[0] is not y:
            floor = self.variance_floor_ratio * robust_scale(y) ** 2
            self._floor_of = (y, max(floor, float(np.finfo(float).tiny)))
        return self._floor_of[1]

    def check_unscaled_y(self, y, algorithm):
        hint = "; rescale y, or use algorithm='em', which scales y itself"
        with np.errstate(over="ignore"):
            variance = np.var(y)
        if not np.isfinite(variance):
            raise ValueError(f"y is too large in magnitude for algorithm={algorithm!r}: its "
                             "variance overflows" + hint)
        if np.ptp(y) > 0 and not self.variance_floor(y) > np.finfo(float).tiny:
            raise ValueError(f"y is too small in magnitude for algorithm={algorithm!r}: its "
                             "variance floor underflows" + hint)

    def check_y(self, y, n_trials):
        if n_trials is not None:
            raise ValueError("n_trials is only meaningful for logistic (binomial) experts")
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            raise TypeError(
                f"y must hold real-valued responses for linear experts, got dtype {y.dtype}"
            )
        y = y.astype(float)
        if not np.all(np.isfinite(y)):
            raise ValueError("y must hold finite values; it contains NaN or infinity")
        return y, None

    def coef_shape(self, n_experts, n_features):
        return (n_experts, n_features)

    def log_prob(self, data, params):
        return _gaussian_log_prob(data.X, data.y, params.coef, params.sigma)

    def m_step(self, data, resp, params, alpha, state=None):
        X, y = data.X, data.y
        K = resp.shape[1]
        new_coef = np.empty((K, X.shape[1]))
        # The right-hand sides X^T diag(r_k) y and the residuals of all experts in one product each.
        rhs = (resp * y[:, None]).T @ X
        grams = weighted_grams(X, resp)
        for k in range(K):
            new_coef[k] = weighted_lstsq(X, y, resp[:, k], rhs[k], grams[k])
        sq_resid = X @ new_coef.T
        np.subtract(y[:, None], sq_resid, out=sq_resid)
        np.square(sq_resid, out=sq_resid)
        var = column_sum(resp * sq_resid) / column_sum(resp)
        new_sigma = np.sqrt(np.maximum(var, self.variance_floor(y)))
        return new_coef, new_sigma, []

    def closed_form_passes(self, n_experts, n_features):
        # Per expert: its weighted Gram matrix, X^T diag(r_k) y and its residuals.
        return n_experts * ((n_features + 1) / 2 + 2)

    def to_free(self, coef, sigma):
        return np.concatenate([coef.ravel(), np.log(sigma)])

    def from_free(self, v, n_experts, n_features):
        m = n_experts * n_features
        return v[:m].reshape(n_experts, n_features), np.exp(v[m:])

    def free_gradient(self, data, resp, params, alpha):
        X, y, coef, sigma = data.X, data.y, params.coef, params.sigma
        resid = y[:, None] - X @ coef.T  # (n, K)
        g_coef = (resp * resid).T @ X / sigma[:, None] ** 2
        wss = np.sum(resp * resid**2, axis=0) / sigma**2
        nk = resp.sum(axis=0)
        g_log_sigma = wss - nk
        p = X.shape[1]
        curv_coef = np.array([lambda_max(X, resp[:, k]) for k in range(len(sigma))]) / sigma**2
        # d^2/d(log sigma)^2 of Q_k is -2 * wss; taking the max with 2 * n_k keeps a step that
        # shrinks sigma within half a unit of log sigma.
        curv_log_sigma = 2.0 * np.maximum(wss, nk)
        grad = np.concatenate([g_coef.ravel(), g_log_sigma])
        curv = np.concatenate([np.repeat(curv_coef, p), curv_log_sigma])
        return grad, curv

    def expert_mean(self, X, coef):
        return X @ coef.T

    def sample(self, X, z, params, n_trials, rng):
        mean = np.einsum("ij,ij->i", X, params.coef[z])
        return mean + params.sigma[z] * rng.standard_normal(X.shape[0])


def _gaussian_log_prob(X, y, coef, sigma):
    """``log N(y_i; x_i^T beta_k, sigma_k^2)``, shape (n, K)."""
    # In place on one (n, K) array: at n = 1e6 every fresh temporary costs page faults.
    z = X @ coef.T
    np.subtract(y[:, None], z, out=z)
    z /= sigma
    np.square(z, out=z)
    z *= -0.5
    z -= 0.5 * _LOG_2PI + np.log(sigma)
    return z
