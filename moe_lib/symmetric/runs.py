"""The driver for SymMoLinE and SymMoLogE: iterate one algorithm and return a general ``FitResult``.

:func:`run` is :func:`moe_lib.fit.run` for the closed forms of this package: the same algorithm
names (:data:`moe_lib.fit.ALGORITHMS`), the same stopping rule (:func:`moe_lib.fit.has_converged`)
and the same result type (:class:`moe_lib.result.FitResult`, whose ``params`` are those of
:func:`moe_lib.symmetric.to_moe_params`).
"""

from __future__ import annotations

import numpy as np

from moe_lib._validation import check_choice, check_int, check_real
from moe_lib.fit import ALGORITHMS, FitResult, has_converged
from moe_lib.symmetric._checks import check_data
from moe_lib.symmetric._fused import evaluate
from moe_lib.symmetric.model import to_moe_params
from moe_lib.symmetric.steps import (
    E_STEP_PASSES,
    GRADIENT_STEP_PASSES,
    EMStepper,
    _check_step_size,
    curvature_bounds,
)


def run(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    w0: np.ndarray,
    beta0: np.ndarray,
    algorithm: str = "em",
    max_iter: int = 100,
    step_size: float | None = None,
    tol: float | None = None,
) -> FitResult:
    """Iterate EM, gradient EM or GD from ``(w0, beta0)``, recording every iterate.

    Parameters
    ----------
    kind : {"linear", "logistic"}
    X : ndarray of shape (n, d)
        Must have full column rank for EM.
    y : ndarray of shape (n,)
    w0, beta0 : ndarray of shape (d,)
        Start.
    algorithm : {"em", "gradient_em", "gd"}
        :func:`~moe_lib.symmetric.em_step`, :func:`~moe_lib.symmetric.gradient_em_step` or
        :func:`~moe_lib.symmetric.gd_step`.
    max_iter : int
        Bound on the number of steps (>= 1); exactly this many are taken when ``tol`` is None.
    step_size : float, optional
        Multiplier of the per-block steps (``"gradient_em"``, default 1) or the step
        (``"gd"``, default ``1 / max(L_w, L_beta)``); ignored by EM.
    tol : float, optional
        Stopping tolerance of :func:`moe_lib.fit.has_converged` on the log-likelihood (>= 0).

    Returns
    -------
    FitResult
        ``params``: :func:`~moe_lib.symmetric.to_moe_params` of the last iterate;
        ``loglik_history`` and ``objective_history`` (equal; no penalty): the total
        log-likelihood ``-n L`` after each step; ``converged``: the stopping rule was met
        (always False when ``tol`` is None); ``resp`` of shape (n, 2): ``[1 - p, p]`` at the last
        iterate; ``path`` of shape (n_iter + 1, 2d): rows ``(w, beta)``, row 0 the start;
        ``passes``: each step's cost in passes over the data (4 for a gradient step, 2 plus
        ``EMStepper.passes``'s increase for EM);
        ``messages``: a step that produced a non-finite iterate or log-likelihood (the run stops
        at the last finite iterate).

    Raises
    ------
    ValueError
        If the very first step is non-finite (reduce ``step_size``), or for invalid arguments.

    Examples
    --------
    >>> from moe_lib.symmetric import initial_point, random_instance, sample
    >>> w_star, beta_star = random_instance("linear", 2, 2.0, rng=0)
    >>> X, y, _ = sample("linear", w_star, beta_star, 500, rng=1)
    >>> w0, beta0 = initial_point(w_star, beta_star, rng=2)
    >>> result = run("linear", X, y, w0, beta0, "em", max_iter=500, tol=1e-10)
    >>> result.converged, result.path.shape == (result.n_iter + 1, 4)
    (True, True)
    >>> bool(np.all(np.diff(result.loglik_history) >= -1e-9))  # EM never decreases it
    True
    """
    X, y, w, beta = check_data(kind, X, y, w0, beta0)
    algorithm = check_choice(algorithm, "algorithm", ALGORITHMS)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    step_size = _check_step_size(step_size)
    if tol is not None:
        tol = check_real(tol, "tol", min_value=0.0)
    n = X.shape[0]
    exact = algorithm == "em"
    if exact:
        stepper = EMStepper(kind, X, y)
    else:
        l_w, l_beta = curvature_bounds(kind, X)
        if algorithm == "gradient_em":
            mult = 1.0 if step_size is None else step_size
            steps = (mult / l_w, mult / l_beta)
        else:
            eta = 1.0 / max(l_w, l_beta) if step_size is None else step_size
            steps = (eta, eta)
    # One evaluation per iterate gives its loss, its posterior (EM's E-step) and, for the
    # gradient methods, its gradient: two passes over the data for a gradient step.
    loss, p, g_w, g_beta = evaluate(kind, X, y, w, beta, gradient=not exact)
    path = [np.concatenate([w, beta])]
    lls: list[float] = []
    passes: list[float] = []
    charged = 0.0  # the stepper's work already counted in passes
    messages: list[str] = []
    converged = False
    for t in range(1, max_iter + 1):
        if exact:
            new = stepper.step(w, beta, p)
            # The E-step's two products (X w, X beta) and the M-step's work since the last step
            # (the first step's includes the Gram factor).
            cost, charged = E_STEP_PASSES + stepper.passes - charged, stepper.passes
        else:
            cost = GRADIENT_STEP_PASSES
            new = (w - steps[0] * g_w, beta - steps[1] * g_beta)
        if not (np.all(np.isfinite(new[0])) and np.all(np.isfinite(new[1]))):
            messages.append(
                f"{algorithm} produced a non-finite iterate at step {t}; stopped at the last "
                f"finite iterate: reduce step_size (it was {step_size})"
            )
            break
        with np.errstate(over="ignore", invalid="ignore"):
            evaluated = evaluate(kind, X, y, *new, gradient=not exact)
        if not np.isfinite(evaluated[0]):
            messages.append(
                f"{algorithm} reached a non-finite log-likelihood at step {t}; stopped at the "
                f"last finite iterate: reduce step_size (it was {step_size})"
            )
            break
        (w, beta), (loss, p, g_w, g_beta) = new, evaluated
        lls.append(-n * loss)
        passes.append(cost)
        path.append(np.concatenate([w, beta]))
        if tol is not None and has_converged(lls, tol, n):
            converged = True
            break
    if not lls:
        raise ValueError(f"{algorithm} produced no finite iterate; reduce step_size")
    history = np.array(lls)
    return FitResult(
        params=to_moe_params(w, beta),
        loglik_history=history,
        objective_history=history.copy(),
        n_iter=len(lls),
        converged=converged,
        resp=np.column_stack([1.0 - p, p]),
        messages=messages,
        path=np.array(path),
        best_iter=len(lls),
        passes=np.array(passes),
    )
