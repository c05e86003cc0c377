"""One step of each algorithm for SymMoLinE and SymMoLogE, from the closed forms.

- :func:`em_step`: the exact EM step, i.e. the unit-step mirror-descent step
  ``grad A(theta+) = grad A(theta) - grad L`` (chapter 4 of the book);
- :func:`gradient_em_step`: one gradient step on ``Q(. | theta_t)`` with one step per block,
  ``step_size / L_block`` with the bounds of :func:`curvature_bounds` (our reading of the paper's
  Gradient EM, stated in chapter 6 of the book);
- :func:`gd_step`: gradient descent on ``L`` with one step for both blocks.

The soft-label logistic regressions of the EM step are
:class:`moe_lib.regression.LogisticRegressions` problems solved by
:func:`moe_lib.solvers.maximize`, the library's one solver layer.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg
from sklearn.exceptions import ConvergenceWarning

from moe_lib._curvature import Curvature
from moe_lib._problem import Design
from moe_lib._validation import check_real
from moe_lib.regression import LogisticRegressions
from moe_lib.solvers import INNER_MAX_ITER, maximize, polish_steps
from moe_lib.symmetric._checks import check_data, check_full_rank, check_kind, check_X
from moe_lib.symmetric._fused import evaluate
from moe_lib.symmetric.model import _gradient

#: Gradient tolerance (largest entry, per-sample mean scale) of the EM step's inner solves.
EM_INNER_TOL = 1e-12

#: Passes over the data of the E-step (the products ``X w`` and ``X beta``; they also give the
#: loss), and of one GD or gradient EM step (those two and the gradient's two ``X^T r``).
E_STEP_PASSES = 2.0
GRADIENT_STEP_PASSES = 4.0


class _SoftLabelSolves:
    """Soft-label logistic regressions on one design, solved to ``tol``, with their cost.

    What :class:`EMStepper` and :func:`soft_logistic_fit` share: the curvature one solve leaves
    for the next, and the work counted so far (evaluations, Hessians, passes over the data).
    """

    def __init__(self, X: np.ndarray, tol: float) -> None:
        self.X, self.tol = X, tol
        self.curvature: Curvature | None = None
        self.n_hessians = 0
        self.n_evaluations = 0
        self.passes = 0.0
        self._ones = (np.ones(X.shape[0]), np.ones(X.shape[1]))
        # Its outlying rows, for every solve's run-off rule and step cap.
        self.design = Design(X)

    def _solve(self, targets: np.ndarray, start: np.ndarray, what: str) -> np.ndarray:
        n_ones, d_ones = self._ones
        K = start.shape[0]
        problem = LogisticRegressions(self.X, targets, n_ones, np.ones((n_ones.size, K)), 0.0,
                                      d_ones, self.design)
        x, info = maximize(problem, start.ravel(), tol=self.tol, max_iter=INNER_MAX_ITER,
                           curvature=self.curvature)
        if info.n_iter == 0:
            # A warm start already within tolerance would be returned unchanged and a long run
            # would stall at an error of about tol / curvature: polish it (chord steps).
            x = polish_steps(problem, x, 2, curvature=self.curvature)
        self.curvature = info.curvature
        self.n_hessians += problem.n_hessians
        self.n_evaluations += problem.n_evaluations
        self.passes += problem.passes
        g = problem.gradient(x)
        if not info.converged and np.max(np.abs(g)) > self.tol:
            warnings.warn(
                f"the {what} solve of the EM step stopped with gradient {np.max(np.abs(g)):.2e} "
                f"> tol={self.tol:g} after {info.n_iter} Newton iterations: the EM step is "
                "inexact",
                ConvergenceWarning,
                stacklevel=4,
            )
        return x.reshape(K, -1)


class EMStepper(_SoftLabelSolves):
    """The exact EM step on one data set, with what consecutive steps share.

    The Cholesky factor of ``X^T X / n`` (SymMoLinE's expert update) is computed once, and the
    factorised Hessian of each M-step's soft-label regression is kept for the next step, whose
    solve starts with chord steps on it (near convergence consecutive M-step problems differ
    little, so a chord step costs one evaluation, two passes over the data, and no Hessian).
    Every solve still stops at the same tolerance, so the step is the exact EM step.

    :attr:`passes` counts the M-steps' work in passes over the data (one pass: one product of
    ``X`` with one vector; a Gram matrix ``(d + 1) / 2``; see ``moe_lib._problem.Problem``):
    the Gram factor once, then per step the inner solves' evaluations and Hessians and, for
    SymMoLinE, the expert's ``X^T ((2p - 1) y)``. The E-step (the posterior ``p`` passed to
    :meth:`step`, :data:`E_STEP_PASSES`) is counted by the caller.

    SymMoLogE's two regressions (gate and expert) share the design and are solved as one
    (:class:`moe_lib.regression.LogisticRegressions` with two columns of soft labels): one pass
    evaluates both.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
        Full column rank.
    y : ndarray of shape (n,)
    tol : float
        Gradient tolerance (largest entry, per-sample mean scale) of the inner solves.

    Examples
    --------
    >>> from moe_lib.symmetric import neg_loglik, posterior, sample
    >>> X, y, _ = sample("logistic", [1.0, 0.0], [0.0, 2.0], 300, rng=0)
    >>> stepper = EMStepper("logistic", X, y)
    >>> w, beta = np.array([0.5, 0.5]), np.array([0.5, 0.5])
    >>> for _ in range(3):
    ...     w, beta = stepper.step(w, beta, posterior("logistic", X, y, w, beta))
    >>> stepper.n_hessians <= 3  # the first solve forms a Hessian, later ones mostly reuse it
    True
    """

    def __init__(self, kind: str, X: np.ndarray, y: np.ndarray, tol: float = EM_INNER_TOL):
        super().__init__(X, tol)
        self.kind, self.y = kind, y
        self.gram = check_full_rank(X)
        if kind == "linear":  # the expert update's Gram factor, formed once
            self.passes += (X.shape[1] + 1) / 2

    def step(
        self, w: np.ndarray, beta: np.ndarray, p: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The M-step from the posterior ``p`` of ``(w, beta)`` (the E-step's output)."""
        X, y = self.X, self.y
        if self.kind == "linear":
            w_new = self._solve(p, w[None, :], "gate")[0]
            beta_new = linalg.cho_solve(self.gram, X.T @ ((2.0 * p - 1.0) * y) / X.shape[0])
            self.passes += 1.0
            return w_new, beta_new
        y_soft = p * y + (1.0 - p) * (1.0 - y)
        both = self._solve(np.column_stack([p, y_soft]), np.vstack([w, beta]), "gate and expert")
        return both[0], both[1]

def soft_logistic_fit(
    X: np.ndarray, targets: np.ndarray, start: np.ndarray, tol: float, what: str
) -> np.ndarray:
    """``argmax_b mean_i [t_i x_i^T b - sp(x_i^T b)]`` by Newton, to a gradient of ``tol``.

    One solve of the kind :class:`EMStepper` makes (without curvature to reuse). Arguments are
    not checked (the callers have).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    targets : ndarray of shape (n,)
        Soft labels in [0, 1].
    start : ndarray of shape (d,)
        Warm start.
    tol : float
        Gradient tolerance (largest entry, per-sample mean scale).
    what : str
        Which solve this is, for the warning.

    Returns
    -------
    ndarray of shape (d,)

    Examples
    --------
    >>> from scipy.special import expit
    >>> X, t = np.array([[1.0], [-1.0], [2.0]]), np.array([0.7, 0.4, 0.8])
    >>> b = soft_logistic_fit(X, t, np.zeros(1), 1e-12, "gate")
    >>> bool(np.max(np.abs(X.T @ (t - expit(X @ b)))) / 3 <= 1e-12)  # the score equations hold
    True
    """
    return _SoftLabelSolves(X, tol)._solve(targets, start[None, :], what)[0]


def em_step(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    tol: float = EM_INNER_TOL,
) -> tuple[np.ndarray, np.ndarray]:
    """One exact EM step, computed from the closed forms.

    - E-step: ``p = posterior(kind, X, y, w, beta)``;
    - gate: soft-label logistic regression of ``p`` on ``X`` (Newton, warm start ``w``);
    - linear experts: ``beta+ = solve(X^T X, X^T ((2p - 1) y))``;
    - logistic experts: soft-label logistic regression of ``y~ = p y + (1 - p)(1 - y)`` on ``X``.

    A run of many steps should use :class:`EMStepper` (or :func:`moe_lib.symmetric.run`), which
    shares work between steps.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
        Must have full column rank.
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)
    tol : float
        Gradient tolerance (largest entry, per-sample mean scale) of the Newton solves (> 0).

    Returns
    -------
    w_new, beta_new : ndarray of shape (d,)

    Examples
    --------
    >>> from moe_lib.symmetric import neg_loglik, sample
    >>> X, y, _ = sample("linear", [1.0, 0.0], [0.0, 2.0], 200, rng=0)
    >>> w, beta = np.array([0.5, 0.5]), np.array([0.5, 0.5])
    >>> w1, beta1 = em_step("linear", X, y, w, beta)
    >>> bool(neg_loglik("linear", X, y, w1, beta1) < neg_loglik("linear", X, y, w, beta))
    True
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    tol = check_real(tol, "tol", min_value=0.0, strict=True)
    p = evaluate(kind, X, y, w, beta, gradient=False, loss=False)[1]
    return EMStepper(kind, X, y, tol).step(w, beta, p)


def curvature_bounds(kind: str, X: np.ndarray) -> tuple[float, float]:
    """Per-block curvature bounds of ``Q(. | theta_t)``, i.e. of ``hess A``.

    ``sig' <= 1/4`` bounds the gate block and the logistic experts' block; the linear experts'
    block is ``Sigma_hat = X^T X / n`` itself.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)

    Returns
    -------
    L_w, L_beta : float
        ``lambda_max(Sigma_hat) / 4`` for the gate; ``lambda_max(Sigma_hat)`` (linear) or
        ``lambda_max(Sigma_hat) / 4`` (logistic) for the experts.

    Examples
    --------
    >>> X = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> curvature_bounds("linear", X), curvature_bounds("logistic", X)
    ((0.5, 2.0), (0.5, 0.5))
    """
    check_kind(kind)
    X = check_X(X)
    lam = float(linalg.eigvalsh(X.T @ X / X.shape[0])[-1])
    return 0.25 * lam, (lam if kind == "linear" else 0.25 * lam)


def _check_step_size(step_size: float | None) -> float | None:
    if step_size is None:
        return None
    return check_real(step_size, "step_size", min_value=0.0, strict=True)


def gradient_em_step(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    step_size: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One gradient-EM step: a gradient step on ``Q(. | theta_t)`` with per-block steps.

    ``w+ = w - step_size / L_w grad_w L`` and ``beta+ = beta - step_size / L_beta grad_beta L``
    with the bounds of :func:`curvature_bounds`. By Fisher's identity the gradient of
    ``Q(. | theta_t)`` at ``theta_t`` is that of ``L``.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)
    step_size : float, optional
        Multiplier of the per-block steps ``1 / L_block`` (default 1, > 0).

    Returns
    -------
    w_new, beta_new : ndarray of shape (d,)

    Examples
    --------
    >>> from moe_lib.symmetric import sample
    >>> X, y, _ = sample("logistic", [1.0, 0.0], [0.0, 2.0], 100, rng=0)
    >>> z = np.zeros(2)
    >>> [v.tolist() for v in gradient_em_step("logistic", X, y, z, z)]  # 0 is a fixed point
    [[0.0, 0.0], [0.0, 0.0]]
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    step_size = _check_step_size(step_size)
    return _gradient_em_step(kind, X, y, w, beta, step_size, curvature_bounds(kind, X))


def _gradient_em_step(kind, X, y, w, beta, step_size, bounds):
    mult = 1.0 if step_size is None else step_size
    l_w, l_beta = bounds
    g_w, g_beta = _gradient(kind, X, y, w, beta)
    return w - mult / l_w * g_w, beta - mult / l_beta * g_beta


def gd_step(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    beta: np.ndarray,
    step_size: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One gradient-descent step on ``L`` with one step for both blocks: ``theta - eta grad L``.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    w, beta : ndarray of shape (d,)
    step_size : float, optional
        The step ``eta`` (> 0). Default ``1 / max(L_w, L_beta)`` of :func:`curvature_bounds`, safe
        because ``hess L <= hess A``.

    Returns
    -------
    w_new, beta_new : ndarray of shape (d,)

    Examples
    --------
    >>> from moe_lib.symmetric import gradient, sample
    >>> X, y, _ = sample("linear", [1.0, 0.0], [0.0, 2.0], 100, rng=0)
    >>> w, beta = np.array([0.5, 0.5]), np.array([0.5, 0.5])
    >>> w1, beta1 = gd_step("linear", X, y, w, beta, step_size=0.1)
    >>> g_w, g_beta = gradient("linear", X, y, w, beta)
    >>> bool(np.allclose(w1, w - 0.1 * g_w) and np.allclose(beta1, beta - 0.1 * g_beta))
    True
    """
    X, y, w, beta = check_data(kind, X, y, w, beta)
    step_size = _check_step_size(step_size)
    if step_size is None:
        step_size = 1.0 / max(curvature_bounds(kind, X))
    return _gd_step(kind, X, y, w, beta, step_size)


def _gd_step(kind, X, y, w, beta, step_size):
    _, _, g_w, g_beta = evaluate(kind, X, y, w, beta, gradient=True, loss=False)
    return w - step_size * g_w, beta - step_size * g_beta
