"""One step of each method, sharing one E-step, and the driver that iterates them.

- :func:`em_step`: the *exact* EM step (E-step, then every M-step solved exactly), the step that
  equals a unit-step mirror-descent step.
- :func:`gradient_em_step`: one gradient step on ``Q(. | theta_t)`` with one step size per block
  (the gate; each expert's coefficients; each ``log sigma``), each the inverse of a curvature bound
  of that block of ``Q`` at the current responsibilities (our reading of the paper's Gradient EM,
  stated in the book).
- :func:`gd_step`: gradient ascent on the penalised log-likelihood with a single step size.

By Fisher's identity the gradient of ``Q`` at ``theta_t`` *is* the gradient of the log-likelihood,
so gradient EM and GD move along the same gradient; they differ only in their step sizes.

:func:`run` iterates a method, records the log-likelihood and the penalised objective after every
M-step, and stops by a documented rule; :func:`fit_moe` adds seeded restarts and warnings.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from moe_lib._newton import SolveInfo
from moe_lib.experts import ExpertFamily, _lambda_max
from moe_lib.gating import fit_weighted_softmax, gate_log_proba
from moe_lib.model import MoEData, MoEParams, e_step, penalty

ALGORITHMS = ("em", "gradient_em", "gd")

#: Responsibilities within this distance of 0/1, and fitted probabilities within this distance of
#: them, count as reproduced "to within rounding" by the separation checks.
SEPARATION_THRESHOLD = 1e-6


# --------------------------------------------------------------------------------------------
# M-steps
# --------------------------------------------------------------------------------------------
def check_expert_weights(resp: np.ndarray) -> None:
    """Raise ``ValueError`` when an expert receives (numerically) no weight."""
    n = resp.shape[0]
    nk = resp.sum(axis=0)
    dead = np.flatnonzero(~(nk > 1e-10 * n))
    if dead.size:
        raise ValueError(
            f"expert {int(dead[0])} received no weight (sum of responsibilities "
            f"{nk[dead[0]]:.3g} of {n} samples): its M-step is undefined. Use fewer experts, "
            "another initialisation (random_state, init_resp) or more data."
        )


def gate_m_step(
    data: MoEData, resp: np.ndarray, gate: np.ndarray, alpha: float = 0.0
) -> tuple[np.ndarray, SolveInfo | None]:
    """Exact gate M-step: soft-label softmax regression of ``resp`` on the gate design."""
    if data.gate_X.shape[1] == 0:
        return gate, None
    return fit_weighted_softmax(
        data.gate_X,
        resp,
        np.ones(data.n_samples),
        gate,
        alpha=alpha,
        penalty_mask=data.gate_mask,
    )


def m_step(
    family: ExpertFamily,
    data: MoEData,
    resp: np.ndarray,
    params: MoEParams,
    alpha: float = 0.0,
) -> tuple[MoEParams, list[SolveInfo]]:
    """Maximise ``Q(. | theta_t) - penalty`` given the responsibilities, block by block, exactly.

    Parameters
    ----------
    resp : ndarray of shape (n, K)
        Responsibilities at ``theta_t``.
    params : MoEParams
        Warm start for the inner Newton solves.

    Returns
    -------
    params : MoEParams
    infos : list of SolveInfo
        One per inner solve (gate first), to check that each met its tolerance.
    """
    check_expert_weights(resp)
    gate, gate_info = gate_m_step(data, resp, params.gate, alpha)
    coef, sigma, infos = family.m_step(
        data.X, data.y, data.n_trials, resp, params.coef, params.sigma, alpha, data.expert_mask
    )
    if gate_info is not None:
        infos = [gate_info, *infos]
    return MoEParams(gate, coef, sigma), infos


def em_step(
    family: ExpertFamily, data: MoEData, params: MoEParams, alpha: float = 0.0
) -> MoEParams:
    """One exact EM step from ``params`` (E-step, then exact M-steps)."""
    resp, _ = e_step(family, data, params)
    return m_step(family, data, resp, params, alpha)[0]


# --------------------------------------------------------------------------------------------
# Gradient methods
# --------------------------------------------------------------------------------------------
def to_free(family: ExpertFamily, params: MoEParams) -> np.ndarray:
    """Free parameter vector: non-reference gate rows, then the family's free coordinates."""
    return np.concatenate([params.gate[1:].ravel(), family.to_free(params.coef, params.sigma)])


def from_free(family: ExpertFamily, v: np.ndarray, like: MoEParams) -> MoEParams:
    """Inverse of :func:`to_free`, shaped like ``like``."""
    K, q = like.gate.shape
    m = (K - 1) * q
    gate = np.vstack([np.zeros((1, q)), v[:m].reshape(K - 1, q)])
    n_features = like.coef.shape[-1]
    coef, sigma = family.from_free(v[m:], K, n_features)
    return MoEParams(gate, coef, sigma)


def objective_gradient(
    family: ExpertFamily,
    data: MoEData,
    params: MoEParams,
    alpha: float = 0.0,
    resp: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the penalised log-likelihood in free coordinates, and block curvature bounds.

    The gradient is that of ``Q(. | theta)`` at ``theta`` (Fisher's identity): the gate block is
    ``sum_i (r_ik - pi_ik) x_i`` and the expert blocks come from the family.

    Returns
    -------
    grad : ndarray of shape (m,)
    curvature : ndarray of shape (m,)
        Per coordinate, a bound on the curvature of ``Q`` on its block: Boehning's bound
        ``1/2 c_K lambda_max(G^T G) + alpha`` for the gate (``c_K = 1/2`` if ``K = 2`` else 1) and
        the family's bounds for the experts.
    """
    if resp is None:
        resp = e_step(family, data, params)[0]
    K = params.n_experts
    pi = np.exp(gate_log_proba(data.gate_X, params.gate))
    g_gate = (resp - pi)[:, 1:].T @ data.gate_X - alpha * data.gate_mask * params.gate[1:]
    c_k = 0.5 if K == 2 else 1.0
    l_gate = 0.5 * c_k * _lambda_max(data.gate_X, np.ones(data.n_samples)) + alpha
    g_exp, l_exp = family.free_gradient(
        data.X,
        data.y,
        data.n_trials,
        resp,
        params.coef,
        params.sigma,
        alpha,
        data.expert_mask,
    )
    grad = np.concatenate([g_gate.ravel(), g_exp])
    curv = np.concatenate([np.full(g_gate.size, l_gate), l_exp])
    return grad, curv


def _safe_ratio(g: np.ndarray, curv: np.ndarray) -> np.ndarray:
    out = np.zeros_like(g)
    ok = curv > 0
    out[ok] = g[ok] / curv[ok]
    return out


def gradient_em_step(
    family: ExpertFamily,
    data: MoEData,
    params: MoEParams,
    alpha: float = 0.0,
    step_size: float | None = None,
    resp: np.ndarray | None = None,
) -> MoEParams:
    """One gradient step on ``Q(. | theta_t)`` with per-block steps ``step_size / L_block``.

    ``step_size`` is a multiplier of the per-block curvature steps (default 1).
    """
    g, curv = objective_gradient(family, data, params, alpha, resp)
    mult = 1.0 if step_size is None else float(step_size)
    return from_free(family, to_free(family, params) + mult * _safe_ratio(g, curv), params)


def gd_step(
    family: ExpertFamily,
    data: MoEData,
    params: MoEParams,
    alpha: float = 0.0,
    step_size: float | None = None,
    resp: np.ndarray | None = None,
) -> MoEParams:
    """One gradient-ascent step on the penalised log-likelihood *per sample*.

    ``theta <- theta + eta * grad(objective / n)``. With ``step_size=None`` the step is
    ``eta = n / max_block L_block`` at the current iterate: the largest block curvature bound, i.e.
    the same bounds as :func:`gradient_em_step` but one common step for all blocks.
    """
    g, curv = objective_gradient(family, data, params, alpha, resp)
    if step_size is None:
        top = float(np.max(curv)) if curv.size else 0.0
        delta = g / top if top > 0 else np.zeros_like(g)
    else:
        delta = float(step_size) * g / data.n_samples
    return from_free(family, to_free(family, params) + delta, params)


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------
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
    """

    params: MoEParams
    loglik_history: np.ndarray
    objective_history: np.ndarray
    n_iter: int
    converged: bool
    resp: np.ndarray
    messages: list[str] = field(default_factory=list)

    @property
    def loglik(self) -> float:
        return float(self.loglik_history[-1])

    @property
    def objective(self) -> float:
        return float(self.objective_history[-1])


def has_converged(history: list[float], tol: float) -> bool:
    """The stopping rule, on the objective values recorded so far.

    Stop when the last change ``d_t`` is at most ``tol * (1 + |objective|)`` and, if the last two
    changes are positive and shrinking (linear convergence with ratio ``rho = d_t / d_{t-1}``), so
    is the Aitken estimate ``d_t rho / (1 - rho)`` of the increase still to come. A change below a
    thousandth of the tolerance always stops (the floating-point floor).
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


def _params_finite(params: MoEParams) -> bool:
    parts = [params.gate, params.coef] + ([] if params.sigma is None else [params.sigma])
    return all(np.all(np.isfinite(p)) for p in parts)


def separation_messages(
    family: ExpertFamily, data: MoEData, params: MoEParams, resp: np.ndarray
) -> list[str]:
    """Describe (quasi-)separation in the experts or the gate at a fit (see the module text)."""
    msgs = []
    sep = family.separated_experts(
        data.X, data.y, data.n_trials, resp, params.coef, SEPARATION_THRESHOLD
    )
    for k in sep:
        msgs.append(
            f"expert {k} reproduces every label it is responsible for: its data look separable, so "
            "its maximum-likelihood coefficients are infinite; use alpha > 0"
        )
    if data.gate_X.shape[1] and params.n_experts > 1:
        pi = np.exp(gate_log_proba(data.gate_X, params.gate))
        hard = np.min(np.max(resp, axis=1)) >= 1 - SEPARATION_THRESHOLD
        used = np.unique(np.argmax(resp, axis=1)).size > 1
        if hard and used and np.max(np.abs(resp - pi)) <= SEPARATION_THRESHOLD:
            msgs.append(
                "the gate separates the experts' data (its probabilities reproduce hard "
                "responsibilities): the maximum-likelihood gate coefficients are infinite; use "
                "alpha > 0"
            )
    return msgs


#: Log-odds beyond which a fitted probability is 0 or 1 to within ~1e-22: a gate or expert whose
#: scores reach it is drifting towards infinite coefficients (also in a fit that "converged": under
#: quasi-complete separation the log-likelihood has a finite supremum that it approaches).
SATURATION_LOGODDS = 50.0


def saturation_messages(family: ExpertFamily, data: MoEData, params: MoEParams) -> list[str]:
    """Describe gate or expert scores so large that the coefficients look like they diverge."""
    msgs = []
    if data.gate_X.shape[1]:
        scores = data.gate_X @ params.gate.T
        spread = float(np.max(np.max(scores, axis=1) - np.min(scores, axis=1)))
        if spread > SATURATION_LOGODDS:
            msgs.append(
                f"the gate's log-odds reach {spread:.3g}: its coefficients appear to diverge (the "
                "experts' data look separable by the gate: the likelihood keeps rising as the gate "
                "becomes a hard switch, so no finite maximum exists); use alpha > 0"
            )
    if family.penalized:
        coef = params.coef
        eta = np.einsum("ip,k...p->ik...", data.X, coef)
        if float(np.max(np.abs(eta))) > SATURATION_LOGODDS:
            msgs.append(
                f"an expert's log-odds reach {float(np.max(np.abs(eta))):.3g}: its coefficients "
                "appear to diverge (its data look separable); use alpha > 0"
            )
    return msgs


def identical_experts_message(params: MoEParams) -> list[str]:
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
    """Neutral warm start for a first M-step from responsibilities (zeros; unit variances)."""
    return MoEParams(
        np.zeros((n_experts, data.gate_X.shape[1])),
        family.init_coef(n_experts, data.X.shape[1]),
        np.ones(n_experts) if family.has_sigma else None,
    )


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
    tol: float = 1e-10,
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
        See :func:`gradient_em_step` and :func:`gd_step`; ignored by EM.
    max_iter : int
        Bound on iterations (M-steps).
    tol : float
        Stopping tolerance of :func:`has_converged`.

    Returns
    -------
    FitResult
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    if (init_params is None) == (init_resp is None):
        raise ValueError("give exactly one of init_params and init_resp")
    messages: list[str] = []
    if init_resp is not None:
        params = start_params(family, data, init_resp.shape[1])
        resp = init_resp
        symmetric_start = bool(np.all(np.abs(resp - resp[:, :1]) <= 1e-12))
    else:
        params = init_params
        resp, _ = e_step(family, data, params)
        symmetric_start = bool(identical_experts_message(params))
    lls: list[float] = []
    objs: list[float] = []
    converged = False
    last_infos: list[SolveInfo] = []
    for t in range(max_iter):
        if algorithm == "em" or (t == 0 and init_resp is not None):
            new, last_infos = m_step(family, data, resp, params, alpha)
        elif algorithm == "gradient_em":
            new = gradient_em_step(family, data, params, alpha, step_size, resp)
        else:
            new = gd_step(family, data, params, alpha, step_size, resp)
        if not _params_finite(new):
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
        if has_converged(objs, tol):
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
        messages.extend(identical_experts_message(params))
    if alpha == 0:
        messages.extend(separation_messages(family, data, params, resp))
        # Also when "converged": under quasi-complete separation the log-likelihood converges to
        # a finite supremum while some coefficients run off to infinity.
        if not messages:
            messages.extend(saturation_messages(family, data, params))
    return FitResult(params, np.array(lls), np.array(objs), len(lls), converged, resp, messages)


def random_resp(n_samples: int, n_experts: int, rng: np.random.Generator) -> np.ndarray:
    """Random responsibilities, each row drawn from a flat Dirichlet distribution."""
    return rng.dirichlet(np.ones(n_experts), size=n_samples)


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
    """
    rng = np.random.default_rng(random_state)
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
