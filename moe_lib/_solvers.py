"""The one solver layer: bounded maximisation of smooth concave functions.

Every inner solve of the library (the gate's M-step, the logistic and multinomial experts'
M-steps, the symmetric models' soft-label regressions and the mirror-descent step) is a
:class:`Problem` handed to :func:`maximize`:

- a :class:`Problem` evaluates its value, gradient and (negated) Hessian *lazily* and caches them
  at the last point, as the subproblem objects of scipy's ``optimize/_trustregion.py`` do, since
  Newton asks for the value, the gradient and the Hessian at the same point in turn;
- :func:`maximize` runs damped Newton with step halving (the Hessian formed and factorised by
  Cholesky) or, above :data:`MAX_NEWTON_DIM` unknowns, scipy's trust-region Newton-CG with
  Hessian-vector products, until the largest absolute gradient entry is at most ``tol``;
- ``polish`` steps continue with full Newton steps while they shrink the gradient, for callers
  that want the rounding level rather than the tolerance.

The objectives are scaled per unit weight by the problems themselves, so a tolerance does not
grow with the sample size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

#: Above this many unknowns :func:`maximize` switches from Newton (Hessian formed, Cholesky) to
#: Newton-CG with Hessian-vector products.
MAX_NEWTON_DIM = 400

#: Default tolerance (largest gradient entry per unit weight) and iteration bound of inner solves.
INNER_TOL = 1e-10
INNER_MAX_ITER = 100

#: A Newton step that shrinks the gradient's largest entry by at least this factor shows that the
#: Hessian barely changes over a step: the next iteration first tries the same factorisation.
REUSE_CONTRACTION = 1e-2
#: A step with a reused factorisation is kept only if it shrinks the gradient by this factor;
#: otherwise the Hessian is recomputed at the same point.
REUSED_STEP_CONTRACTION = 0.1


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


class Problem:
    """A smooth concave objective to maximise, evaluated lazily and cached at the last point.

    Subclasses implement :meth:`_evaluate` (the value at ``x``, keeping whatever the other
    quantities need), :meth:`_gradient` and :meth:`_neg_hessian` (at the point last evaluated),
    and :meth:`_neg_hessp` when Newton-CG may be used. Callers use :meth:`value`,
    :meth:`gradient`, :meth:`neg_hessian` and :meth:`neg_hessp`, which evaluate only when the
    point changes.
    """

    def __init__(self) -> None:
        self._x: np.ndarray | None = None
        self._value = 0.0
        self._grad: np.ndarray | None = None
        self._hess: np.ndarray | None = None

    # -- hooks ---------------------------------------------------------------------------
    def _evaluate(self, x: np.ndarray) -> float:
        raise NotImplementedError

    def _gradient(self) -> np.ndarray:
        raise NotImplementedError

    def _neg_hessian(self) -> np.ndarray:
        raise NotImplementedError

    def _neg_hessp(self, u: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- cached access -------------------------------------------------------------------
    def _at(self, x: np.ndarray) -> None:
        if self._x is None or not np.array_equal(self._x, x):
            self._value = float(self._evaluate(x))
            self._x = np.array(x, dtype=float, copy=True)
            self._grad = None
            self._hess = None

    def value(self, x: np.ndarray) -> float:
        """The objective at ``x``."""
        self._at(x)
        return self._value

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Its gradient at ``x``, shape (m,)."""
        self._at(x)
        if self._grad is None:
            self._grad = self._gradient()
        return self._grad

    def neg_hessian(self, x: np.ndarray) -> np.ndarray:
        """The negated Hessian at ``x`` (positive semi-definite), shape (m, m)."""
        self._at(x)
        if self._hess is None:
            self._hess = self._neg_hessian()
        return self._hess

    def neg_hessp(self, x: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The negated Hessian at ``x`` times ``u``, shape (m,)."""
        self._at(x)
        return self._neg_hessp(u)


def _max_abs(g: np.ndarray) -> float:
    return float(np.max(np.abs(g))) if g.size else 0.0


def maximize(
    problem: Problem,
    x0: np.ndarray,
    *,
    tol: float = INNER_TOL,
    max_iter: int = INNER_MAX_ITER,
    polish: int = 0,
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise ``problem`` from ``x0``: Newton up to :data:`MAX_NEWTON_DIM` unknowns, else
    Newton-CG; then up to ``polish`` chord steps while they shrink the gradient.

    Parameters
    ----------
    problem : Problem
    x0 : ndarray of shape (m,)
        Starting point (warm start).
    tol : float
        Gradient tolerance on the largest absolute entry.
    max_iter : int
        Bound on Newton iterations.
    polish : int
        Extra full Newton steps with one factorised Hessian after the tolerance is met, each kept
        only if it shrinks the gradient (:func:`polish_steps`).

    Returns
    -------
    x : ndarray of shape (m,)
    info : SolveInfo
    """
    x0 = np.asarray(x0, dtype=float)
    if x0.size <= MAX_NEWTON_DIM:
        x, info = newton(problem, x0, tol=tol, max_iter=max_iter)
    else:
        x, info = newton_cg(problem, x0, tol=tol, max_iter=max_iter)
    if polish:
        x = polish_steps(problem, x, polish)
    return x, info


def newton(
    problem: Problem, x0: np.ndarray, *, tol: float = INNER_TOL, max_iter: int = INNER_MAX_ITER
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise a concave function by damped Newton steps with step halving.

    Once a Newton step has shrunk the gradient by :data:`REUSE_CONTRACTION` or more (the
    quadratic region, where the Hessian hardly changes over a step), the next step first reuses
    the last factorised Hessian (a chord step: one gradient, no Hessian). That step is kept when it
    increases ``f`` and shrinks the gradient by :data:`REUSED_STEP_CONTRACTION`; otherwise the
    Hessian is recomputed. The stopping rule is the same either way: the largest gradient entry is
    at most ``tol``.
    """
    x = np.array(x0, dtype=float)
    if x.size == 0:
        return x, SolveInfo(0, 0.0, True, False)
    fun, grad = problem.value, problem.gradient
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
        neg_h = problem.neg_hessian(x)
        factor, step = damped_newton_direction(neg_h, g)
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


def damped_newton_direction(
    neg_h: np.ndarray, g: np.ndarray
) -> tuple[tuple[np.ndarray, bool] | None, np.ndarray]:
    """Solve ``(-H + mu I) d = g`` with the smallest ``mu >= 0`` of a short ladder that works.

    Levenberg damping of the Newton *system* only: the objective is never changed, so the
    maximiser stays exact. Returns the Cholesky factor used (None when every damping failed) and
    the direction.
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


def newton_cg(
    problem: Problem, x0: np.ndarray, *, tol: float = INNER_TOL, max_iter: int = 200
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise with Hessian-vector products (scipy's trust-region Newton-CG), for problems with
    thousands of unknowns, e.g. 785 pixels x 9 classes."""
    x0 = np.array(x0, dtype=float)
    if x0.size == 0:
        return x0, SolveInfo(0, 0.0, True, False)

    def neg(x: np.ndarray) -> tuple[float, np.ndarray]:
        return -problem.value(x), -problem.gradient(x)

    def hessp(x: np.ndarray, v: np.ndarray) -> np.ndarray:
        return problem.neg_hessp(x, v)

    # scipy's gtol is on the 2-norm; the inf-norm is at most the 2-norm, so this is sufficient.
    res = optimize.minimize(
        neg, x0, jac=True, hessp=hessp, method="trust-ncg",
        options={"gtol": tol, "maxiter": max_iter},
    )
    x = res.x
    gnorm = _max_abs(problem.gradient(x))
    if gnorm > tol:
        # trust-ncg can stop on a rounding-limited trust region; finish with a few Newton-CG
        # iterations of scipy's line-search variant, which copes better with tiny gradients.
        res2 = optimize.minimize(
            neg, x, jac=True, hessp=hessp, method="Newton-CG",
            options={"xtol": 1e-14, "maxiter": max_iter},
        )
        if np.all(np.isfinite(res2.x)) and -res2.fun >= problem.value(x):
            x = res2.x
        gnorm = _max_abs(problem.gradient(x))
    return x, SolveInfo(int(res.nit), gnorm, gnorm <= tol, gnorm > tol)


def polish_steps(
    problem: Problem, x: np.ndarray, max_steps: int, *, refresh: bool = False
) -> np.ndarray:
    """Full Newton steps from ``x`` while each shrinks the largest gradient entry.

    Below the tolerance of a solve the objective changes under its own rounding, so only the
    gradient can judge a step. A warm start already within tolerance would otherwise be returned
    unchanged, and a long EM run would stall at an error of about ``tol / curvature`` instead of
    converging to rounding level. With ``refresh=False`` the steps share one factorised Hessian
    (chord steps: near the maximiser it hardly changes); with ``refresh=True`` each step forms a
    new one (for Hessians that are themselves approximate, such as finite differences).

    Returns
    -------
    ndarray of shape (m,)
        The last point whose gradient was the smallest.
    """
    g = problem.gradient(x)
    factor = None
    for _ in range(max_steps):
        if factor is None or refresh:
            try:
                factor = linalg.cho_factor(problem.neg_hessian(x), lower=True, check_finite=False)
            except (linalg.LinAlgError, ValueError):
                break
        cand = x + linalg.cho_solve(factor, g, check_finite=False)
        if not np.all(np.isfinite(cand)):
            break
        g_cand = problem.gradient(cand)
        if not _max_abs(g_cand) < _max_abs(g):
            break
        x, g = cand, g_cand
    return x
