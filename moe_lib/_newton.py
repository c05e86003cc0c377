"""Bounded maximisation of smooth concave functions (the inner solves of the M-steps).

Two solvers share one contract: maximise ``fun`` from ``x0`` until the largest absolute entry of
the gradient is at most ``tol`` (the objective is expected to be scaled per unit weight, so the
tolerance does not grow with the sample size), within ``max_iter`` iterations. Neither loops over
samples; the callables they receive are vectorised.

- :func:`newton_maximize` forms the Hessian and solves with a Cholesky factorisation, with step
  halving (Armijo) and, when the Hessian is numerically singular, Levenberg damping of the Newton
  *system* only (the objective is never changed, so the maximiser is exact).
- :func:`newton_cg_maximize` uses Hessian-vector products (truncated Newton, scipy's trust-region
  Newton-CG) for problems with thousands of unknowns, e.g. 785 pixels x 9 classes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize


@dataclass(frozen=True)
class SolveInfo:
    """What an inner solve did.

    Attributes
    ----------
    n_iter : int
        Newton iterations taken.
    grad_norm : float
        Largest absolute gradient entry at the returned point.
    converged : bool
        True when ``grad_norm <= tol``.
    hit_bound : bool
        True when the solve stopped because it reached ``max_iter`` (or could not make progress)
        before meeting the tolerance.
    """

    n_iter: int
    grad_norm: float
    converged: bool
    hit_bound: bool


def _max_abs(g: np.ndarray) -> float:
    return float(np.max(np.abs(g))) if g.size else 0.0


#: A Newton step that shrinks the gradient's largest entry by at least this factor shows that the
#: Hessian barely changes over a step: the next iteration first tries the same factorisation.
REUSE_CONTRACTION = 1e-2
#: A step with a reused factorisation is kept only if it shrinks the gradient by this factor;
#: otherwise the Hessian is recomputed at the same point.
REUSED_STEP_CONTRACTION = 0.1


def newton_maximize(
    fun: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    hess: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise a concave function by damped Newton steps with step halving.

    Once a Newton step has shrunk the gradient by :data:`REUSE_CONTRACTION` or more (the
    quadratic region, where the Hessian hardly changes over a step), the next step first reuses
    the last factorised Hessian (a chord step: one gradient, no Hessian). That step is kept when it
    increases ``f`` and shrinks the gradient by :data:`REUSED_STEP_CONTRACTION`; otherwise the
    Hessian is recomputed. The stopping rule is the same either way: the largest gradient entry is
    at most ``tol``.

    Parameters
    ----------
    fun, grad, hess : callable
        Objective ``f(x) -> float``, gradient ``(m,)`` and Hessian ``(m, m)`` of the objective to
        *maximise* (the Hessian is negative semi-definite).
    x0 : ndarray of shape (m,)
        Starting point (warm start).
    tol : float
        Gradient tolerance on the largest absolute entry.
    max_iter : int
        Bound on Newton iterations (Hessian evaluations plus kept chord steps).

    Returns
    -------
    x : ndarray of shape (m,)
    info : SolveInfo
    """
    x = np.array(x0, dtype=float)
    if x.size == 0:
        return x, SolveInfo(0, 0.0, True, False)
    f = fun(x)
    g = grad(x)
    factor = None  # Cholesky factor of the last (damped) negative Hessian, while reusable
    for it in range(max_iter):
        gnorm = _max_abs(g)
        if gnorm <= tol:
            return x, SolveInfo(it, gnorm, True, False)
        if factor is not None:
            x_try = x + linalg.cho_solve(factor, g, check_finite=False)
            f_try = fun(x_try)
            # In the quadratic region f changes below its rounding: allow that much.
            if np.isfinite(f_try) and f_try >= f - 1e-13 * (1.0 + abs(f)):
                g_try = grad(x_try)
                if _max_abs(g_try) <= REUSED_STEP_CONTRACTION * gnorm:
                    x, f, g = x_try, f_try, g_try
                    continue
            factor = None
        neg_h = -hess(x)
        factor, step = _damped_newton_direction(neg_h, g)
        slope = float(g @ step)
        if slope <= 1e-13 * (1.0 + abs(f)):
            # Quadratic region: the predicted increase is below the rounding of f, so Armijo
            # cannot see it. Take the full Newton step if it reduces the gradient.
            g_new = grad(x + step)
            if _max_abs(g_new) < gnorm:
                x = x + step
                f, g = fun(x), g_new
                factor = factor if _max_abs(g) <= REUSE_CONTRACTION * gnorm else None
                continue
            return x, SolveInfo(it, gnorm, False, True)
        t = 1.0
        # Armijo backtracking: at most 60 halvings, i.e. down to ~1e-18 of the Newton step.
        for _ in range(60):
            x_new = x + t * step
            f_new = fun(x_new)
            if np.isfinite(f_new) and f_new >= f + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            # No increase is representable in floating point: we are at the numerical optimum
            # or the problem has no finite maximiser.
            return x, SolveInfo(it, gnorm, False, True)
        x, f = x_new, f_new
        g = grad(x)
        if t < 1.0 or _max_abs(g) > REUSE_CONTRACTION * gnorm:
            factor = None
    gnorm = _max_abs(g)
    return x, SolveInfo(max_iter, gnorm, gnorm <= tol, gnorm > tol)


def _damped_newton_direction(
    neg_h: np.ndarray, g: np.ndarray
) -> tuple[tuple[np.ndarray, bool] | None, np.ndarray]:
    """Solve ``(-H + mu I) d = g`` with the smallest ``mu >= 0`` of a short ladder that works.

    Returns the Cholesky factor used (None when every damping failed) and the direction.
    """
    scale = max(float(np.max(np.abs(np.diag(neg_h)))), 1e-300)
    eye = np.eye(neg_h.shape[0])
    for mu in (0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0):
        try:
            c = linalg.cho_factor(neg_h + mu * scale * eye, lower=True, check_finite=False)
        except linalg.LinAlgError:
            continue
        d = linalg.cho_solve(c, g, check_finite=False)
        if np.all(np.isfinite(d)):
            return c, d
    # Gradient ascent direction scaled by the curvature: always an ascent direction.
    return None, g / scale


def newton_cg_maximize(
    fun_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    hessp: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise a concave function with Hessian-vector products (trust-region Newton-CG).

    Parameters
    ----------
    fun_grad : callable
        ``x -> (f(x), grad f(x))`` of the objective to maximise.
    hessp : callable
        ``(x, v) -> H(x) v`` with ``H`` the Hessian of the objective to maximise.
    x0 : ndarray of shape (m,)
    tol : float
        Gradient tolerance on the largest absolute entry.
    max_iter : int
        Bound on outer iterations.

    Returns
    -------
    x : ndarray of shape (m,)
    info : SolveInfo
    """
    x0 = np.array(x0, dtype=float)
    if x0.size == 0:
        return x0, SolveInfo(0, 0.0, True, False)

    def neg(x: np.ndarray) -> tuple[float, np.ndarray]:
        f, g = fun_grad(x)
        return -f, -g

    # scipy's gtol is on the 2-norm; the inf-norm is at most the 2-norm, so this is sufficient.
    res = optimize.minimize(
        neg,
        x0,
        jac=True,
        hessp=lambda x, v: -hessp(x, v),
        method="trust-ncg",
        options={"gtol": tol, "maxiter": max_iter},
    )
    x = res.x
    gnorm = _max_abs(fun_grad(x)[1])
    if gnorm > tol:
        # trust-ncg can stop on a rounding-limited trust region; finish with a few Newton-CG
        # iterations of scipy's line-search variant, which copes better with tiny gradients.
        res2 = optimize.minimize(
            neg,
            x,
            jac=True,
            hessp=lambda x, v: -hessp(x, v),
            method="Newton-CG",
            options={"xtol": 1e-14, "maxiter": max_iter},
        )
        if np.all(np.isfinite(res2.x)) and -res2.fun >= fun_grad(x)[0]:
            x = res2.x
        gnorm = _max_abs(fun_grad(x)[1])
    n_iter = int(res.nit)
    return x, SolveInfo(n_iter, gnorm, gnorm <= tol, gnorm > tol)
