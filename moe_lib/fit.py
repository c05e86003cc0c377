"""The driver: iterate a method from a start, stop by a documented rule, diagnose, restart.

:func:`run` iterates one method (exact EM, gradient EM or GD) and records the log-likelihood and
the penalised objective after every M-step; :func:`fit_moe` adds seeded restarts and turns the
diagnostics into ``ConvergenceWarning``s. The fit loop is written once, here; the estimators of
:mod:`moe_lib.estimators` and the book call it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from moe_lib._solvers import SolveInfo
from moe_lib._validation import check_choice, check_int, check_real, check_rng
from moe_lib.experts import ExpertFamily
from moe_lib.gate import SEPARATION_THRESHOLD, gate_saturation_messages, gate_separation_messages
from moe_lib.model import check_model_inputs, e_step
from moe_lib.params import MoEData, MoEParams, penalty, to_free
from moe_lib.steps import _check_step, _gd_step, _gradient_em_step, _m_step

ALGORITHMS = ("em", "gradient_em", "gd")

#: Log-odds beyond which an expert's fitted probability is 0 or 1 to within ~1e-22.
SATURATION_LOGODDS = 50.0


@dataclass
class FitResult:
    """What :func:`run` returns.

    Attributes
    ----------
    params : MoEParams
        Final parameters.
    loglik_history, objective_history : ndarray of shape (n_iter,)
        Log-likelihood and penalised objective after each M-step (entry ``t`` after the
        ``t + 1``-th).
    n_iter : int
    converged : bool
        True only when the stopping rule was met before ``max_iter``.
    resp : ndarray of shape (n, K)
        Responsibilities at the final parameters.
    messages : list of str
        Why the fit may not be trustworthy (separation, inner solves at their bound, divergence).
    path : ndarray of shape (n_iter + 1, m) or None
        With ``record_path=True``: the iterates in free coordinates (:func:`moe_lib.to_free`),
        row 0 the start (``nan`` when the run started from responsibilities).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, load_tonedata, make_data
    >>> X, y = load_tonedata(return_X_y=True)
    >>> resp = random_resp(len(y), 2, np.random.default_rng(0))
    >>> result = run(LinearExperts(), make_data(X, y), init_resp=resp, max_iter=5, tol=None)
    >>> result.n_iter, result.converged, result.loglik_history.shape
    (5, False, (5,))
    """

    params: MoEParams
    loglik_history: np.ndarray
    objective_history: np.ndarray
    n_iter: int
    converged: bool
    resp: np.ndarray
    messages: list[str] = field(default_factory=list)
    path: np.ndarray | None = None

    @property
    def loglik(self) -> float:
        """The final log-likelihood."""
        return float(self.loglik_history[-1])

    @property
    def objective(self) -> float:
        """The final penalised objective."""
        return float(self.objective_history[-1])


def has_converged(history: list[float], tol: float) -> bool:
    """The stopping rule, on the objective values recorded so far.

    Stop when the last change ``d_t`` is at most ``tol * (1 + |objective|)`` and, if the last two
    changes are positive and shrinking (linear convergence with ratio ``rho = d_t / d_{t-1}``), so
    is the Aitken estimate ``d_t rho / (1 - rho)`` of the increase still to come. A change below a
    thousandth of the tolerance always stops (the floating-point floor).

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
    scale = tol * (1.0 + abs(history[-1]))
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


def _expert_saturation_messages(
    family: ExpertFamily, data: MoEData, params: MoEParams
) -> list[str]:
    """Describe expert scores so large that the coefficients look like they diverge."""
    if not family.penalized:
        return []
    eta = float(np.max(np.abs(np.einsum("ip,k...p->ik...", data.X, params.coef))))
    if eta > SATURATION_LOGODDS:
        return [
            f"an expert's log-odds reach {eta:.3g}: its coefficients appear to diverge (its data "
            "look separable); use alpha > 0"
        ]
    return []


def _separation_messages(
    family: ExpertFamily, data: MoEData, params: MoEParams, resp: np.ndarray
) -> list[str]:
    """Describe (quasi-)separation in the experts or the gate at a fit."""
    msgs = [
        f"expert {k} reproduces every label it is responsible for: its data look separable, so "
        "its maximum-likelihood coefficients are infinite; use alpha > 0"
        for k in family.separated_experts(data, resp, params, SEPARATION_THRESHOLD)
    ]
    return msgs + gate_separation_messages(data, params, resp)


def _identical_experts_message(params: MoEParams) -> list[str]:
    """Describe the fixed point where every expert is the same and the gate is constant.

    EM cannot leave it (the responsibilities equal the gate there), e.g. after uniform
    ``init_resp``; the fit is then a single-expert model in disguise. :func:`run` reports it
    when the fit both started and ended there.
    """
    coef, gate = params.coef, params.gate
    scale = 1e-8 * (1.0 + float(np.max(np.abs(coef))))
    same_experts = float(np.max(np.abs(coef - coef[:1]))) <= scale
    if params.sigma is not None:
        same_experts &= float(np.max(np.abs(params.sigma - params.sigma[0]))) <= scale
    # A constant gate: only the intercept column (if any) may differ between experts.
    slopes = gate[:, 1:] if gate.shape[1] > 1 else np.zeros((gate.shape[0], 0))
    constant_gate = slopes.size == 0 or float(np.max(np.abs(slopes))) <= 1e-8
    if same_experts and constant_gate:
        return [
            "all experts are identical and the gate is constant: EM is at a fixed point it "
            "cannot leave (e.g. from uniform init_resp), and the fit is one expert in disguise; "
            "start from random or asymmetric responsibilities"
        ]
    return []


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
    max_iter: int = 1000,
    tol: float | None = 1e-10,
    record_path: bool = False,
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
        Bound on iterations (M-steps).
    tol : float or None
        Stopping tolerance of :func:`has_converged`; ``None`` runs all ``max_iter`` iterations.
    record_path : bool
        Keep every iterate in :attr:`FitResult.path`.

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
    if tol is not None:
        tol = check_real(tol, "tol", min_value=0.0)
    messages: list[str] = []
    if init_resp is not None:
        resp = np.asarray(init_resp, dtype=float)
        if resp.ndim != 2 or resp.shape[0] != data.n_samples or resp.shape[1] < 1:
            raise ValueError(
                f"init_resp must have shape (n_samples={data.n_samples}, n_experts), got "
                f"{resp.shape}"
            )
        params = start_params(family, data, resp.shape[1])
        symmetric_start = bool(np.all(np.abs(resp - resp[:, :1]) <= 1e-12))
    else:
        params = init_params
        resp, _ = e_step(family, data, params)
        symmetric_start = bool(_identical_experts_message(params))
    path = [to_free(family, params) if init_resp is None else None] if record_path else None
    lls: list[float] = []
    objs: list[float] = []
    converged = False
    last_infos: list[SolveInfo] = []
    for t in range(max_iter):
        if algorithm == "em" or (t == 0 and init_resp is not None):
            new, last_infos = _m_step(family, data, resp, params, alpha)
        elif algorithm == "gradient_em":
            new = _gradient_em_step(family, data, params, alpha, step_size, resp)
        else:
            new = _gd_step(family, data, params, alpha, step_size, resp)
        if not new.is_finite():
            messages.append(
                f"{algorithm} diverged at iteration {t + 1} (non-finite parameters); stopped at "
                "the last finite iterate: reduce step_size"
            )
            break
        new_resp, ll = e_step(family, data, new)
        obj = ll - penalty(family, data, new, alpha)
        if not np.isfinite(obj):
            messages.append(
                f"{algorithm} reached a non-finite log-likelihood at iteration {t + 1}; stopped at "
                "the last finite iterate: reduce step_size"
            )
            break
        params, resp = new, new_resp
        lls.append(ll)
        objs.append(obj)
        if path is not None:
            path.append(to_free(family, params))
        if tol is not None and has_converged(objs, tol):
            converged = True
            break
    if not lls:
        raise ValueError(f"{algorithm} produced no finite iterate; reduce step_size")
    bound_hits = [i for i in last_infos if i.hit_bound]
    if bound_hits:
        worst = max(i.grad_norm for i in bound_hits)
        messages.append(
            f"{len(bound_hits)} inner M-step solve(s) stopped at their bound with gradient "
            f"{worst:.2e} > tolerance: the last EM step is inexact"
            + ("; the data may be separable, use alpha > 0" if alpha == 0 else "")
        )
    # Only a start on the symmetric fixed point is diagnosed: a fit from an asymmetric start that
    # ends with identical experts has found a (degenerate) optimum, not a trap.
    if symmetric_start:
        messages.extend(_identical_experts_message(params))
    if alpha == 0:
        messages.extend(_separation_messages(family, data, params, resp))
        # Also when "converged": under quasi-complete separation the log-likelihood converges to
        # a finite supremum while some coefficients run off to infinity.
        if not messages:
            messages.extend(gate_saturation_messages(data, params))
            messages.extend(_expert_saturation_messages(family, data, params))
    if path is not None:
        m = path[-1].size
        path = np.array([np.full(m, np.nan) if v is None else v for v in path])
    return FitResult(
        params, np.array(lls), np.array(objs), len(lls), converged, resp, messages, path
    )


def fit_moe(
    family: ExpertFamily,
    data: MoEData,
    n_experts: int,
    *,
    algorithm: str = "em",
    alpha: float = 0.0,
    step_size: float | None = None,
    max_iter: int = 1000,
    tol: float = 1e-10,
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
                family, data, init_params=p0, init_resp=r0, algorithm=algorithm, alpha=alpha,
                step_size=step_size, max_iter=max_iter, tol=tol,
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
        if not best.converged:
            warnings.warn(
                f"{algorithm} did not converge in max_iter={max_iter} iterations (tol={tol}); "
                "increase max_iter or tol",
                ConvergenceWarning,
                stacklevel=2,
            )
        for msg in best.messages:
            warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    return best, np.array(finals)
