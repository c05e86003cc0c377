"""The driver: iterate a method from a start, stop by a documented rule, diagnose, restart.

:func:`run` iterates one method (exact EM, gradient EM or GD) and records the log-likelihood and
the penalised objective after every step; :func:`fit_moe` adds seeded restarts and issues
the diagnostics of :mod:`moe_lib.diagnostics` as warnings (``ConvergenceWarning``). The fit
loop is written once, here; the estimators of :mod:`moe_lib.estimators` and the book call it.

Every run ends in bounded time: ``max_iter`` steps and ``max_passes`` passes over the data at
most, each inner solve bounded (and stopped when it stalls), and an exact EM run stops early,
with a message that says so, when coefficients run off to infinity (the likelihood has no finite
maximiser): the rules of :mod:`moe_lib.runoff`.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from moe_lib._problem import design_of
from moe_lib._validation import check_choice, check_int, check_real, check_rng
from moe_lib.diagnostics import identical_experts_message
from moe_lib.experts import ExpertFamily
from moe_lib.model import check_model_inputs, e_step
from moe_lib.params import MoEData, MoEParams, penalty
from moe_lib.result import FitResult, Trace
from moe_lib.runoff import (  # noqa: F401  (the book and the tests read the rules' constants here)
    FAILED_SOLVES_TO_STOP,
    RUNOFF_LOGODDS,
    RUNOFF_OUTLYING_IQRS,
    RunoffWatch,
)
from moe_lib.scaling import standardize
from moe_lib.steps import _check_step, _gd_step, _gradient_em_step, _m_step

ALGORITHMS = ("em", "gradient_em", "gd")

#: Default bound on iterations, of :func:`run`, :func:`fit_moe` and the estimators. The fits that
#: reach it are mostly ones that would not converge in many more (an overspecified mixture, whose
#: EM converges sublinearly; experts collapsing onto tied values of ``y``).
MAX_ITER = 500
#: Default bound on a fit's cost in passes over the data (``FitResult.passes``, a pass being
#: one product of the design with a vector). An EM iteration costs from a few passes (two linear
#: experts) to thousands (ten multinomial experts of ten classes, whose softmax Hessians are
#: grids of weighted Gram matrices), so a bound on iterations alone does not bound a fit's time;
#: the book's costliest fit takes ~9e4 passes.
MAX_PASSES = 200_000.0

def has_converged(
    history: list[float], tol: float, n_samples: int = 1, rounding: float = 0.0
) -> bool:
    """The stopping rule, on the objective values recorded so far.

    Stop when the last change ``d_t`` is at most ``tol * n_samples`` (a change per sample, so
    that the rule does not depend on the units of ``y``, which shift the log-likelihood), or at
    most the objective's ``rounding`` when that is larger and ``tol > 0``
    (:attr:`moe_lib.params.MoEData.objective_rounding`: binomial counts of ~1e9 trials), and, if
    the last two changes are positive and shrinking (linear convergence with ratio
    ``rho = d_t / d_{t-1}``), so is the Aitken estimate ``d_t rho / (1 - rho)`` of the increase
    still to come. A change below a thousandth of the tolerance always stops (the floating-point
    floor).

    Examples
    --------
    >>> has_converged([1.0, 1.5, 1.75], 1e-8)
    False
    >>> has_converged([1.0, 1.0 + 1e-12, 1.0 + 1.5e-12], 1e-8)
    True
    """
    if len(history) < 2:
        return False
    d1 = history[-1] - history[-2]
    scale = max(tol * n_samples, rounding) if tol > 0 else 0.0
    if abs(d1) <= 1e-3 * scale:
        return True
    if abs(d1) > scale or len(history) < 3:
        return False
    d0 = history[-2] - history[-3]
    if d1 > 0 and d0 > 0:
        if d1 >= d0:
            return False
        rho = d1 / d0
        return d1 * rho / (1.0 - rho) <= scale
    return True


def start_params(family: ExpertFamily, data: MoEData, n_experts: int) -> MoEParams:
    """Neutral warm start for a first M-step from responsibilities (zeros; unit variances).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, make_data
    >>> start = start_params(LinearExperts(), make_data(np.ones((3, 1)), np.zeros(3)), 2)
    >>> start.gate.shape, start.coef.shape, start.sigma
    ((2, 2), (2, 2), array([1., 1.]))
    """
    return MoEParams(
        np.zeros((n_experts, data.gate_X.shape[1])),
        family.init_coef(n_experts, data.X.shape[1]),
        np.ones(n_experts) if family.has_sigma else None,
    )


def random_resp(n_samples: int, n_experts: int, rng: np.random.Generator) -> np.ndarray:
    """Random responsibilities, each row drawn from a flat Dirichlet distribution.

    Examples
    --------
    >>> import numpy as np
    >>> resp = random_resp(4, 3, np.random.default_rng(0))
    >>> resp.shape, bool(np.allclose(resp.sum(axis=1), 1.0))
    ((4, 3), True)
    """
    return rng.dirichlet(np.ones(n_experts), size=n_samples)


def run(
    family: ExpertFamily,
    data: MoEData,
    *,
    init_params: MoEParams | None = None,
    init_resp: np.ndarray | None = None,
    algorithm: str = "em",
    alpha: float = 0.0,
    step_size: float | None = None,
    max_iter: int = MAX_ITER,
    tol: float | None = 1e-10,
    record_path: bool = False,
    max_passes: float | None = MAX_PASSES,
) -> FitResult:
    """Iterate one method from a start, recording the trace, with an honest stopping rule.

    Give exactly one of ``init_params`` (start at these parameters) and ``init_resp`` (the first
    iteration is an exact M-step from these responsibilities, for every algorithm, so that all
    methods share the same first iterate).

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    init_params : MoEParams, optional
    init_resp : ndarray of shape (n, K), optional
    algorithm : {"em", "gradient_em", "gd"}
    alpha : float
        L2 penalty (>= 0).
    step_size : float, optional
        See :func:`moe_lib.steps.gradient_em_step` and :func:`moe_lib.steps.gd_step`; ignored by
        EM.
    max_iter : int
        Bound on iterations (M-steps; :data:`MAX_ITER` by default).
    tol : float or None
        Stopping tolerance of :func:`has_converged`; ``None`` runs all ``max_iter`` iterations.
    record_path : bool
        Keep every iterate in the result's ``path``.
    max_passes : float or None
        Bound on the fit's cost in passes over the data (:data:`MAX_PASSES` by default; ``None``:
        no bound). A fit that reaches it before converging stops and says so in its messages.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, load_tonedata, make_data
    >>> X, y = load_tonedata(return_X_y=True)
    >>> resp = random_resp(len(y), 2, np.random.default_rng(0))
    >>> result = run(LinearExperts(), make_data(X, y), init_resp=resp)
    >>> result.converged, round(result.loglik, 3)
    (True, 142.848)
    """
    algorithm = check_choice(algorithm, "algorithm", ALGORITHMS)
    if (init_params is None) == (init_resp is None):
        raise ValueError("give exactly one of init_params and init_resp")
    alpha = check_model_inputs(family, data, init_params, alpha)
    step_size = _check_step(step_size)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    if max_passes is not None:
        max_passes = check_real(max_passes, "max_passes", min_value=0.0, strict=True)
    if tol is not None:
        tol = check_real(tol, "tol", min_value=0.0)
    exact = algorithm == "em"
    if not exact:
        family.check_unscaled_y(data.y, algorithm)
    # Exact steps run on standardised designs and y (numerics independent of their units).
    std, scaling = standardize(data, family)
    work = std if exact else data
    # The log-likelihood of y is that of the scaled y less n log(y_scale) (its Jacobian).
    ll_shift = -data.n_samples * scaling.y_log_scale if exact else 0.0
    if init_resp is not None:
        resp = np.asarray(init_resp, dtype=float)
        if resp.ndim != 2 or resp.shape[0] != data.n_samples or resp.shape[1] < 1:
            raise ValueError(
                f"init_resp must have shape (n_samples={data.n_samples}, n_experts), got "
                f"{resp.shape}"
            )
        if not np.all(np.isfinite(resp)) or np.any(resp < 0):
            raise ValueError("init_resp must hold finite, non-negative responsibilities")
        params = start_params(family, std, resp.shape[1])
        symmetric_start = bool(np.all(np.abs(resp - resp[:, :1]) <= 1e-12))
    else:
        params = scaling.to_std(init_params) if exact else init_params
        resp, _ = e_step(family, work, params)
        symmetric_start = bool(identical_experts_message(init_params))
    rounding = data.objective_rounding  # (an O(n) sum for counts: once per run)
    trace = Trace(family, scaling if exact else None, record_path, init_params, rounding)
    watch = RunoffWatch(alpha)
    # The inner solves' factorised Hessians, carried from one EM iteration to the next.
    solver_state: dict = {}
    for name, raw, std_x, col in (("experts", data.X, std.X, scaling.expert),
                                  ("gate", data.gate_X, std.gate_X, scaling.gate)):
        # (The raw designs let softmax Hessians be formed from sparse features: _hessians.)
        design_of(solver_state, name, std_x, (raw, col.matrix()) if exact else None)
    messages: list[str] = []
    spent, over_budget = 0.0, ""
    for t in range(max_iter):
        info = None
        if exact or (t == 0 and init_resp is not None):
            new, info = _m_step(family, std, resp, params, alpha, solver_state)
            if not exact:
                new = scaling.to_raw(new)
        elif algorithm == "gradient_em":
            new = _gradient_em_step(family, data, params, alpha, step_size, resp)
        else:
            new = _gd_step(family, data, params, alpha, step_size, resp)
        if not new.is_finite():
            messages.append(
                f"{algorithm} diverged at iteration {t + 1} (non-finite parameters)"
                + ("" if exact else f" with step_size={step_size}: reduce step_size")
            )
            break
        new_resp, ll = e_step(family, work, new)
        ll += ll_shift
        obj = ll - penalty(family, work, new, alpha)
        if not np.isfinite(obj):
            messages.append(
                f"{algorithm} reached a non-finite log-likelihood at iteration {t + 1}"
                + ("" if exact else f" with step_size={step_size}: reduce step_size")
            )
            break
        params, resp = new, new_resp
        trace.record(params, resp, ll, obj, info, _passes(family, data, new, info))
        spent += trace.passes[-1]
        if info is not None and exact:
            runoff = watch.update(info, t + 1)
            if runoff:
                messages.append(runoff)
                break
        if tol is not None and has_converged(trace.objs, tol, data.n_samples, rounding):
            gain = 0.0 if exact else _em_step_gain(family, data, std, scaling, params, resp,
                                                   alpha, obj)
            # (Steps too small, not a stationary point.)
            if gain > 10.0 * max(tol * data.n_samples, rounding):
                messages.append(
                    f"{algorithm} stopped raising the objective at iteration {t + 1} short of a "
                    f"stationary point (an exact EM step from there would still add "
                    f"{gain / data.n_samples:.2e} per sample): the steps are too small with "
                    f"step_size={step_size}"
                    + (" (a large alpha makes the default step small for the unpenalised "
                       "coefficients too)" if alpha > 0 else "")
                    + "; increase step_size or use algorithm='em'")
            trace.converged = not messages
            break
        if max_passes is not None and spent >= max_passes:
            over_budget = (
                f"{algorithm} stopped at iteration {t + 1} before converging: its iterations "
                f"have cost {spent:.3g} passes over the data, the bound max_passes="
                f"{max_passes:g}; increase max_passes (or, for an overspecified mixture, use "
                "fewer experts)"
            )
            break
    if not trace.objs:
        raise ValueError(
            f"{algorithm} produced no finite iterate from this start"
            + ("" if exact else f"; reduce step_size (it was {step_size})")
        )
    # Rows whose scores may be huge at finite coefficients (computed by the M-steps already).
    outlying = tuple(
        design_of(solver_state, name, X).outlying
        for name, X in (("gate", std.gate_X), ("experts", std.X))
    )
    result = trace.result(
        data, alpha, algorithm, step_size, messages, symmetric_start, outlying
    )
    if over_budget:
        result = replace(result, converged=False, messages=[over_budget, *result.messages])
    return result


def _em_step_gain(family, data, std, scaling, params, resp, alpha, obj) -> float:
    """What one exact EM step from a gradient method's last iterate would add to its objective
    ``obj``: zero at a stationary point (EM's fixed points are the stationary points), however
    small the method's own steps were, so a tiny step is not mistaken for convergence."""
    new = scaling.to_raw(_m_step(family, std, resp, scaling.to_std(params), alpha)[0])
    _, ll = e_step(family, data, new)
    return ll - penalty(family, data, new, alpha) - obj


def _passes(family, data, params, info) -> float:
    """An iteration's cost in passes over the data (see :attr:`FitResult.passes`)."""
    # The E-step's scores: one product per gate row and per expert coefficient vector.
    scores = params.gate.shape[0] + params.coef.size // params.coef.shape[-1]
    if info is None:  # a gradient step: the scores and as many products X^T R
        return 2.0 * scores
    solves = sum(s.passes for s in info)
    return scores + solves + family.closed_form_passes(params.n_experts, data.X.shape[1])


def fit_moe(
    family: ExpertFamily,
    data: MoEData,
    n_experts: int,
    *,
    algorithm: str = "em",
    alpha: float = 0.0,
    step_size: float | None = None,
    max_iter: int = MAX_ITER,
    tol: float = 1e-10,
    max_passes: float | None = MAX_PASSES,
    n_init: int = 1,
    random_state: int | np.random.Generator | None = None,
    init_resp: np.ndarray | None = None,
    init_params: MoEParams | None = None,
    warn: bool = True,
) -> tuple[FitResult, np.ndarray]:
    """Fit with ``n_init`` seeded starts (or one given start) and keep the best objective.

    Random starts draw responsibilities with :func:`random_resp` from
    ``np.random.default_rng(random_state)``. With ``warn=True`` a ``ConvergenceWarning`` is issued
    when the best fit did not converge or carries a message.

    Returns
    -------
    best : FitResult
    start_objectives : ndarray of shape (n_starts,)
        Final penalised objective of every start (``nan`` for a start that failed).

    Examples
    --------
    >>> from moe_lib import LinearExperts, load_tonedata, make_data
    >>> X, y = load_tonedata(return_X_y=True)
    >>> best, finals = fit_moe(LinearExperts(), make_data(X, y), 2, n_init=3, random_state=0)
    >>> finals.shape, round(best.loglik, 3)
    ((3,), 142.848)
    """
    n_experts = check_int(n_experts, "n_experts", min_value=1)
    n_init = check_int(n_init, "n_init", min_value=1)
    rng = check_rng(random_state)
    if init_resp is not None or init_params is not None:
        starts = [(init_params, init_resp)]
    else:
        starts = [(None, random_resp(data.n_samples, n_experts, rng)) for _ in range(n_init)]
    best: FitResult | None = None
    finals = []
    error: Exception | None = None
    for p0, r0 in starts:
        try:
            res = run(
                family,
                data,
                init_params=p0,
                init_resp=r0,
                algorithm=algorithm,
                alpha=alpha,
                step_size=step_size,
                max_iter=max_iter,
                tol=tol,
                max_passes=max_passes,
            )
        except ValueError as exc:
            if len(starts) == 1:
                raise
            error = exc
            finals.append(np.nan)
            continue
        finals.append(res.objective)
        if best is None or res.objective > best.objective:
            best = res
    if best is None:
        raise ValueError(f"every one of the {len(starts)} starts failed; the last said: {error}")
    if warn:
        if not best.converged and best.n_iter >= max_iter:
            warnings.warn(
                f"{algorithm} did not converge in max_iter={max_iter} iterations (tol={tol}); "
                "increase max_iter or tol",
                ConvergenceWarning,
                stacklevel=2,
            )
        for msg in best.messages:
            warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    return best, np.array(finals)
