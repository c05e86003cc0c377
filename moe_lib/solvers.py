"""The one solver layer: bounded maximisation of smooth concave functions.

Every inner solve of the library (the gate's M-step, the logistic and multinomial experts'
M-steps, the symmetric models' soft-label regressions and the mirror-descent step) is a
:class:`Problem` handed to :func:`maximize`:

- a :class:`Problem` evaluates its value, gradient and negated Hessian lazily, cached at the last
  point (as scipy's ``optimize/_trustregion.py`` subproblems do): Newton asks for all three at
  the same point in turn;
- :func:`maximize` runs damped Newton (:func:`newton`) or, above :data:`MAX_NEWTON_DIM` unknowns,
  Newton-CG, until the largest gradient entry (per unit weight: the problems scale their
  objectives) is at most ``tol``; optional polishing steps then go to the rounding level.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy import linalg, optimize

from moe_lib._curvature import Curvature, kept_curvature
from moe_lib._problem import MAX_SCORE_CHANGE, RUNOFF_SCORE, Problem, SolveInfo

__all__ = [
    "Curvature", "Problem", "SolveInfo", "damped_newton_direction", "maximize", "newton",
    "newton_cg", "polish_steps",
]

#: Above this many unknowns :func:`maximize` uses Newton-CG (Hessian-vector products).
MAX_NEWTON_DIM = 400

#: Default tolerance (largest gradient entry per unit weight) and iteration bound of inner solves.
INNER_TOL = 1e-10
INNER_MAX_ITER = 100

#: Secant pairs kept by the quasi-Newton steps (limited-memory BFGS on the reused factor).
QUASI_NEWTON_MEMORY = 5
#: A quasi-Newton step already evaluated is kept if it shrinks the gradient by this factor, even
#: where :meth:`Problem.reuse_bar` is stricter: rejecting it would waste its evaluation.
QUASI_NEWTON_ACCEPT = 0.1
#: Values closer than this (relative to ``1 + |f|``) are equal to within the rounding of ``f``
#: (the line search lets the gradient decide).
ROUNDING = 1e-13
#: Step halvings allowed after a rejected Newton step (down to ~1e-9 of the step): a solve whose
#: objective is flat or has no finite maximiser would otherwise spend tens of evaluations.
MAX_HALVINGS = 30
#: Iterations without halving the smallest gradient seen, after which the solve has stalled at
#: its gradient's rounding floor and stops (``hit_bound``).
STALL_ITERATIONS = 20


def _max_abs(g: np.ndarray) -> float:
    return float(np.max(np.abs(g))) if g.size else 0.0


def _cho_solve(factor: tuple, b: np.ndarray) -> np.ndarray:
    """``linalg.cho_solve(factor, b)`` by LAPACK's ``dpotrs``: scipy's wrapper costs more than
    the small solves of the inner loop."""
    return linalg.lapack.dpotrs(factor[0], b, lower=factor[1])[0]


def maximize(
    problem: Problem,
    x0: np.ndarray,
    *,
    tol: float = INNER_TOL,
    max_iter: int = INNER_MAX_ITER,
    polish: int = 0,
    curvature: Curvature | None = None,
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
    curvature : Curvature, optional
        That of a nearby problem (``SolveInfo.curvature`` of an earlier solve, e.g. the previous
        EM iteration's), used first for quasi-Newton steps (Newton only).

    Returns
    -------
    x : ndarray of shape (m,)
    info : SolveInfo

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.regression import LogisticRegressions
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> problem = LogisticRegressions(X, np.array([0.0, 1.0, 0.0, 1.0]), np.ones(4),
    ...                               np.ones((4, 1)), 0.0, np.ones(2))
    >>> x, info = maximize(problem, np.zeros(2))
    >>> info.converged, info.grad_norm <= 1e-10
    (True, True)
    """
    x0 = np.asarray(x0, dtype=float)
    if x0.size <= MAX_NEWTON_DIM:
        x, info = newton(problem, x0, tol=tol, max_iter=max_iter, curvature=curvature)
    else:
        x, info = newton_cg(problem, x0, tol=tol, max_iter=max_iter)
    if polish:
        x = polish_steps(problem, x, polish)
    return x, replace(info, n_evaluations=problem.n_evaluations, n_hessians=problem.n_hessians,
                      passes=problem.passes, score_size=problem.score_size(x))


def newton(
    problem: Problem,
    x0: np.ndarray,
    *,
    tol: float = INNER_TOL,
    max_iter: int = INNER_MAX_ITER,
    curvature: Curvature | None = None,
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise a concave function by damped Newton steps with step halving.

    A solve given ``curvature`` (a nearby problem's, e.g. the previous EM iteration's) starts
    where it predicts the maximiser moved (:meth:`~moe_lib._curvature.Curvature.predicted_start`)
    and takes quasi-Newton steps on its factor, unless that factor has gone stale (the renewal
    rule of :mod:`moe_lib._curvature`); so does every step after a full Newton step that shrank
    the gradient by the problem's :meth:`~Problem.reuse_bar` or more (the last factorised Hessian,
    updated by the secant pairs since, :func:`_quasi_newton_direction`: one gradient, no
    Hessian). Such a step is kept when it shrinks the gradient by the same bar (a contraction
    worth its cost against a fresh Newton step) or by :data:`QUASI_NEWTON_ACCEPT`; otherwise the
    Hessian is recomputed. A full Newton step is kept when it shrinks the gradient by the smaller
    of the two, else by Armijo's rule, or, where ``f`` changes below its rounding
    (:data:`ROUNDING`), when it shrinks the gradient at all; at most :data:`MAX_HALVINGS`
    halvings are tried, the first cut to :meth:`Problem.step_limit`. Steps kept for their
    gradient need no value of ``f`` (problems defer it). The solve stops when the largest
    gradient entry is at most ``tol`` (converged), or when it cannot progress: no acceptable
    step, :data:`STALL_ITERATIONS` iterations without halving the gradient, or scores beyond
    :data:`moe_lib._problem.RUNOFF_SCORE` (``hit_bound``).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.regression import LogisticRegressions
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> problem = LogisticRegressions(X, np.array([0.0, 1.0, 0.0, 1.0]), np.ones(4),
    ...                               np.ones((4, 1)), 0.0, np.ones(2))
    >>> x, info = newton(problem, np.zeros(2), tol=1e-12)
    >>> info.converged, info.n_iter <= 10
    (True, True)
    """
    x = start = np.array(x0, dtype=float)
    if x.size == 0:
        return x, SolveInfo(0, 0.0, True, False)
    usable = curvature is not None and curvature.size == x.size  # (else another problem's)
    ahead = curvature.predicted_start(x) if usable else None
    fun, grad, size_at = problem.value, problem.gradient, problem.score_size
    if ahead is not None and size_at(ahead) <= curvature.end_size + MAX_SCORE_CHANGE:
        x = ahead  # (the predicted start, unless it would move a score further than a step may)
    reuse = usable and not curvature.worth_renewing(problem.hessian_cost())  # (else: stale)
    factor, pairs = (curvature.factor, list(curvature.pairs)) if reuse else (None, [])
    formed = None  # (evaluations made, gradient) when this solve formed its factor
    bar = problem.reuse_bar()
    accept, strong = max(bar, QUASI_NEWTON_ACCEPT), min(bar, QUASI_NEWTON_ACCEPT)
    g, size = grad(x), size_at(x)
    best, best_it, x_best, start_gnorm = np.inf, 0, x, _max_abs(g)

    def stop(it: int, gnorm: float, converged: bool, stalled: bool = False):
        unbounded = False
        if stalled:  # (rare: the two values are computed here, not at every best point)
            f, f_best = fun(x), fun(x_best)
            unbounded = f - f_best > 1e-6 * (1.0 + abs(f))
        kept = None if factor is None else kept_curvature(
            curvature if usable else None, factor, pairs, formed, (start_gnorm, gnorm),
            problem.n_evaluations, (start, x, size))
        return x, SolveInfo(it, gnorm, converged, not converged, curvature=kept,
                            unbounded=unbounded)

    for it in range(max_iter):
        gnorm = _max_abs(g)
        if gnorm <= tol:
            return stop(it, gnorm, True)
        if gnorm < 0.5 * best:
            best, best_it, x_best = gnorm, it, x
        elif it - best_it >= STALL_ITERATIONS:
            return stop(it, gnorm, False, stalled=True)
        if size > RUNOFF_SCORE:
            return stop(it, gnorm, False)
        # No step may throw the scores towards infinity (a maximiser far away, or none): the
        # largest score may grow by at most MAX_SCORE_CHANGE per step.
        moderate = size + MAX_SCORE_CHANGE
        if factor is not None:
            x_try = x + _quasi_newton_direction(factor, pairs, g)
            g_try = grad(x_try)
            if size_at(x_try) <= moderate and _max_abs(g_try) <= accept * gnorm:
                s, y_pair = x_try - x, g - g_try
                if (curv := float(s @ y_pair)) > 0:
                    pairs = [*pairs[1 - QUASI_NEWTON_MEMORY :], (s, y_pair, curv)]
                x, g, size = x_try, g_try, size_at(x_try)
                continue
            factor, pairs = None, []
        neg_h = problem.neg_hessian(x)
        (factor, step), pairs = damped_newton_direction(neg_h, g), []
        formed = (problem.n_evaluations, gnorm)
        f = fun(x)  # (x is the point last evaluated: its deferred value costs no pass)
        noise = ROUNDING * (1.0 + abs(f))
        slope = float(g @ step)
        x_new = x + step
        g_new = grad(x_new)
        if size_at(x_new) <= moderate and (
            _max_abs(g_new) <= strong * gnorm or (slope <= noise and _max_abs(g_new) < gnorm)
        ):
            # A full step contracting the gradient as Newton near the maximiser does, or, where
            # Armijo cannot see the predicted increase (below f's rounding), reducing it.
            x, g, size = x_new, g_new, size_at(x_new)
            factor = factor if _max_abs(g) <= bar * gnorm else None
            continue
        if slope <= noise:
            return stop(it, gnorm, False)
        t, accepted, limit = 1.0, False, None
        for trial in range(MAX_HALVINGS + 1):
            x_new = x + t * step
            f_new = fun(x_new)
            if np.isfinite(f_new) and size_at(x_new) <= moderate:
                accepted = f_new >= f + 1e-4 * t * slope
                if not accepted and f_new >= f - noise:
                    # f is flat to rounding here: a step of moderate size (no score moved by more
                    # than MAX_SCORE_CHANGE) is judged by the gradient instead.
                    limit = problem.step_limit(x, step) if limit is None else limit
                    accepted = t <= limit and _max_abs(grad(x_new)) < gnorm
            if accepted:
                break
            if trial == 0:
                limit = problem.step_limit(x, step) if limit is None else limit
                t = min(0.5, limit)
            else:
                t *= 0.5
        if not accepted:
            # No increase is representable in floating point: we are at the numerical optimum
            # or the problem has no finite maximiser.
            return stop(it, gnorm, False)
        x, size = x_new, size_at(x_new)
        g = grad(x)
        if t < 1.0 or _max_abs(g) > bar * gnorm:
            factor = None
    gnorm = _max_abs(g)
    return stop(max_iter, gnorm, gnorm <= tol)


def _quasi_newton_direction(factor: tuple, pairs: list, g: np.ndarray) -> np.ndarray:
    """``B^{-1} g`` for the limited-memory BFGS update ``B`` of a factorised negated Hessian.

    The two-loop recursion on the secant pairs ``(s, y, s.y)`` (``y`` the gradient's decrease
    along ``s``) with the factor as the initial matrix: with no pair this is the chord step
    ``H^{-1} g``; each pair corrects the stale curvature along the directions just explored, so a
    solve started from the previous EM iteration's factor converges superlinearly without
    forming a Hessian.
    """
    q = g.copy()
    alphas = []
    for s, y, curv in reversed(pairs):
        a = float(s @ q) / curv
        q -= a * y
        alphas.append(a)
    r = _cho_solve(factor, q)
    for (s, y, curv), a in zip(pairs, reversed(alphas), strict=True):
        r += s * (a - float(y @ r) / curv)
    return r


def damped_newton_direction(
    neg_h: np.ndarray, g: np.ndarray
) -> tuple[tuple[np.ndarray, bool] | None, np.ndarray]:
    """Solve ``(-H + mu I) d = g`` with the smallest ``mu >= 0`` of a short ladder that works.

    Levenberg damping of the Newton *system* only: the objective is never changed, so the
    maximiser stays exact. Returns the Cholesky factor used (None when every damping failed) and
    the direction.

    Examples
    --------
    >>> import numpy as np
    >>> factor, d = damped_newton_direction(np.diag([2.0, 0.0]), np.array([1.0, 1.0]))
    >>> round(float(d[0]), 6), bool(d[1] > 0)  # the singular direction: damped, finite
    (0.5, True)
    """
    scale = max(float(np.max(np.abs(np.diag(neg_h)))), 1e-300)
    eye = np.eye(neg_h.shape[0])
    for mu in (0.0, 1e-12, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1.0):
        try:
            c = linalg.cho_factor(neg_h + mu * scale * eye, lower=True, check_finite=False)
        except linalg.LinAlgError:
            continue
        d = _cho_solve(c, g)
        if np.all(np.isfinite(d)):
            return c, d
    # Gradient ascent direction scaled by the curvature: always an ascent direction.
    return None, g / scale


def newton_cg(
    problem: Problem, x0: np.ndarray, *, tol: float = INNER_TOL, max_iter: int = 200
) -> tuple[np.ndarray, SolveInfo]:
    """Maximise with Hessian-vector products (scipy's trust-region Newton-CG), for problems with
    thousands of unknowns, e.g. 785 pixels x 9 classes.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.regression import LogisticRegressions
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> problem = LogisticRegressions(X, np.array([0.0, 1.0, 0.0, 1.0]), np.ones(4),
    ...                               np.ones((4, 1)), 0.0, np.ones(2))
    >>> x, info = newton_cg(problem, np.zeros(2), tol=1e-8)
    >>> info.converged
    True
    """
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
    problem: Problem,
    x: np.ndarray,
    max_steps: int,
    *,
    refresh: bool = False,
    curvature: Curvature | None = None,
) -> np.ndarray:
    """Full Newton steps from ``x`` while each shrinks the largest gradient entry.

    Below a solve's tolerance only the gradient can judge a step (the objective changes under its
    rounding); a warm start already within tolerance would be returned unchanged, and a long EM
    run would stall at an error of about ``tol / curvature``. With ``refresh=False`` the steps
    share one factorised Hessian (chord steps), that of ``curvature`` when one is given (a nearby
    problem's); with ``refresh=True`` each forms a new one (for approximate Hessians).

    Returns
    -------
    ndarray of shape (m,)
        The last point whose gradient was the smallest.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.regression import LogisticRegressions
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> problem = LogisticRegressions(X, np.array([0.0, 1.0, 0.0, 1.0]), np.ones(4),
    ...                               np.ones((4, 1)), 0.0, np.ones(2))
    >>> x, _ = newton(problem, np.zeros(2), tol=1e-6)
    >>> better = polish_steps(problem, x, 2)
    >>> bool(np.max(np.abs(problem.gradient(better))) < np.max(np.abs(problem.gradient(x))))
    True
    """
    g = problem.gradient(x)
    factor = curvature.factor if curvature is not None and curvature.size == x.size else None
    for _ in range(max_steps):
        if factor is None or refresh:
            try:
                factor = linalg.cho_factor(problem.neg_hessian(x), lower=True, check_finite=False)
            except (linalg.LinAlgError, ValueError):
                break
        cand = x + _cho_solve(factor, g)
        if not np.all(np.isfinite(cand)):
            break
        g_cand = problem.gradient(cand)
        if not _max_abs(g_cand) < _max_abs(g):
            break
        x, g = cand, g_cand
    return x
