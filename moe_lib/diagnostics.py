"""What can be wrong with a fit, said in words: the messages the driver turns into warnings.

Each function looks at a fitted state and returns a list of sentences (empty when all is well).
A degenerate result is never a silent success: separated experts or gates (no finite maximum
likelihood), coefficients that run off, an expert without data, a variance on its floor, EM
stuck at the symmetric fixed point, an inner solve that cannot reach its tolerance.
"""

from __future__ import annotations

import numpy as np

from moe_lib._problem import SolveInfo
from moe_lib.experts import ExpertFamily
from moe_lib.gate import SEPARATION_THRESHOLD, gate_saturation_messages, gate_separation_messages
from moe_lib.model import log_likelihood
from moe_lib.params import MoEData, MoEParams

#: Log-odds beyond which an expert's fitted probability is 0 or 1 to within ~1e-22.
SATURATION_LOGODDS = 50.0
#: Scaling of the coefficients whose scores look saturated, to see whether the log-likelihood
#: still rises along their ray (a run-off) or falls (a finite maximum with large scores).
RAY_SCALE = 1.1
#: A variance within this relative distance of its floor sits on the floor.
FLOOR_RTOL = 1e-6
#: Two experts whose log-densities of the observed labels differ by less than this, in nats
#: (root mean square over the rows), are one expert on these data. Measured: 0.012-0.046 for
#: the two experts of EM stalled near the saddle where they coincide (two linear experts on a
#: step, from random responsibilities); 1.7 and more between the experts of overspecified fits
#: that split the noise of one-expert data.
DUPLICATE_NATS = 0.1


def expert_name(k: int) -> str:
    """How messages name the expert in row ``k`` of the parameters.

    The book numbers experts 1..K (expert 1 is the gate's reference) while arrays index them
    0..K-1; messages give both so that neither reader has to translate.

    Examples
    --------
    >>> expert_name(0)
    'expert 1 (index 0)'
    """
    return f"expert {k + 1} (index {k})"


def separation_messages(
    family: ExpertFamily, data: MoEData, params: MoEParams, resp: np.ndarray
) -> list[str]:
    """Separation (quasi-complete included) in the experts or the gate.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LogisticExperts, MoEParams, make_data
    >>> data = make_data(np.array([[-1.0], [1.0]]), np.array([0.0, 1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 60.0], [0.0, 60.0]]))
    >>> separation_messages(LogisticExperts(), data, params, np.full((2, 2), 0.5))[0][:19]
    'expert 1 (index 0) '
    """
    msgs = [
        f"{expert_name(k)} reproduces every label it is responsible for: its data look "
        "separable, so its maximum-likelihood coefficients are infinite; use alpha > 0"
        for k in family.separated_experts(data, resp, params, SEPARATION_THRESHOLD)
    ]
    return msgs + gate_separation_messages(data, params, resp)


def saturation_messages(
    family: ExpertFamily,
    data: MoEData,
    params: MoEParams,
    alpha: float,
    outlying: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[str]:
    """Gate or expert scores so large that their coefficients look like they diverge.

    Also when a fit "converged": under quasi-complete separation the log-likelihood tends to a
    finite supremum while some coefficients run off to infinity. With ``alpha > 0`` only an
    unpenalised direction (an intercept) can run off. ``outlying``: the rows of the gate's
    and of the experts' designs left out (``moe_lib._problem.outlying_rows``), whose
    scores can be huge at finite coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LogisticExperts, MoEParams, make_data
    >>> data = make_data(np.array([[-1.0], [1.0]]), np.array([0.0, 1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 60.0], [0.0, 1.0]]))
    >>> saturation_messages(LogisticExperts(), data, params, 0.0)[0][:31]
    "an expert's log-odds reach 60: "
    """
    gate_rows, expert_rows = (None, None) if outlying is None else outlying
    base: list[float] = []  # (the log-likelihood at params, computed once if a bar is crossed)

    def finite_maximum(gate: bool) -> bool:
        """The ray test, for maximum-likelihood fits only (a penalty bends the ray)."""
        if alpha != 0:
            return False
        base[:] = base or [log_likelihood(family, data, params)]
        return _falls_along_ray(family, data, params, base[0], gate)

    msgs = gate_saturation_messages(data, params, gate_rows)
    if msgs and finite_maximum(gate=True):
        msgs = []
    if family.penalized:
        scores = np.abs(np.einsum("ip,k...p->ik...", data.X, params.coef))
        if expert_rows is not None:
            scores[expert_rows] = 0.0
        eta = float(np.max(scores, initial=0.0))
        if eta > SATURATION_LOGODDS and not finite_maximum(gate=False):
            msgs.append(
                f"an expert's log-odds reach {eta:.3g}: its coefficients appear to diverge (its "
                "data look separable); use alpha > 0"
            )
    if alpha > 0:
        msgs = [m.replace("; use alpha > 0", " along an unpenalised intercept") for m in msgs]
    return msgs


def _falls_along_ray(
    family: ExpertFamily, data: MoEData, params: MoEParams, base: float, gate: bool
) -> bool:
    """Whether the log-likelihood, ``base`` at ``params``, falls beyond its rounding when the
    gate's (or the experts') coefficients are scaled by :data:`RAY_SCALE`: large scores are then
    those of a finite maximum (a steep gate, say), not of a run-off, along which it rises or
    stays flat."""
    s = RAY_SCALE
    scaled = (MoEParams(params.gate * s, params.coef, params.sigma) if gate
              else MoEParams(params.gate, params.coef * s, params.sigma))
    drop = max(1e-9 * (1.0 + abs(base)), data.objective_rounding)
    return log_likelihood(family, data, scaled) < base - drop


def identical_experts_message(params: MoEParams) -> list[str]:
    """The fixed point where every expert is the same and the gate is constant.

    EM cannot leave it (the responsibilities equal the gate there), e.g. after uniform
    ``init_resp``; the fit is then a single-expert model in disguise.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import MoEParams
    >>> len(identical_experts_message(MoEParams(np.zeros((2, 2)), np.ones((2, 2)), np.ones(2))))
    1
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


def duplicate_experts_messages(
    family: ExpertFamily, data: MoEData, params: MoEParams
) -> list[str]:
    """Pairs of experts that fit the data alike: the mixture is one with an expert fewer.

    EM from random responsibilities can stall near a saddle point of the likelihood where two
    experts coincide (each fits all of the data, the gate cannot tell them apart): its steps
    shrink and the stopping rule is met while a fit with the experts apart is far better. The
    test compares the experts' log-densities of the observed labels row by row
    (:data:`DUPLICATE_NATS`). For maximum-likelihood fits (``alpha = 0``): a penalty can merge
    experts at a true maximum of the penalised objective.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 2.1]))
    >>> same = MoEParams(np.zeros((2, 2)), np.array([[0.0, 1.0], [0.0, 1.001]]), np.ones(2))
    >>> duplicate_experts_messages(LinearExperts(), data, same)[0][:48]
    'experts 1 and 2 (indices 0 and 1) fit the data a'
    """
    K = params.n_experts
    if K < 2 or data.n_samples == 0:
        return []
    logp = family.log_prob(data, params)
    first, second = np.triu_indices(K, 1)
    rms = np.sqrt(np.mean((logp[:, first] - logp[:, second]) ** 2, axis=0))
    # Groups of experts linked by alike pairs (one message per group, not per pair).
    group = np.arange(K)
    for j, k in zip(first[rms < DUPLICATE_NATS], second[rms < DUPLICATE_NATS], strict=True):
        group[group == group[k]] = group[j]
    msgs = []
    for g in np.unique(group):
        members = np.flatnonzero(group == g)
        if members.size < 2:
            continue
        alike = np.isin(first, members) & np.isin(second, members) & (rms < DUPLICATE_NATS)
        names = _join([str(k + 1) for k in members])
        msgs.append(
            f"experts {names} (indices {_join([str(k) for k in members])}) fit the data alike "
            f"(their log-densities of y differ by {float(np.max(rms[alike])):.2g} nats per "
            "sample or less, root mean square): the fit is no better than one with "
            f"{members.size - 1} expert{'s' if members.size > 2 else ''} fewer, and EM may have "
            "stalled near a saddle point where they coincide; refit with n_init > 1 or another "
            "random_state, or use fewer experts"
        )
    return msgs


#: Rounding of the log-likelihood (nats) above which a fit says how well it is known.
REPORTED_ROUNDING = 1e-2


def rounding_messages(data: MoEData) -> list[str]:
    """Counts so large that the log-likelihood is known to a fraction of a nat or worse.

    A binomial row's log-likelihood is a difference of terms as large as its count times the
    information of its rate (:attr:`moe_lib.params.MoEData.objective_rounding`): at ~1e12 trials
    per row, about a nat over a few thousand rows (the parameters are unaffected).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import make_data
    >>> X, y = np.zeros((2, 1)), np.array([3e14, 5e14])
    >>> rounding_messages(make_data(X, y, n_trials=np.full(2, 1e15)))[0][:36]
    'the log-likelihood of counts this la'
    """
    rounding = data.objective_rounding
    if rounding <= REPORTED_ROUNDING:
        return []
    return [
        f"the log-likelihood of counts this large is known to {rounding:.2g} nats at best "
        "(floating-point rounding of terms as large as the counts; measured errors up to 5 times "
        "that): log-likelihood differences below it, between fits or iterations, are not "
        "meaningful; the coefficients are"
    ]


def _join(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def vanished_messages(resp: np.ndarray, vanished: list[int]) -> list[str]:
    """Experts whose weight vanished during the fit (their parameters were frozen).

    Examples
    --------
    >>> import numpy as np
    >>> vanished_messages(np.array([[1.0, 0.0]]), [1])[0][:36]
    "expert 2 (index 1)'s weight vanished"
    """
    nk = resp.sum(axis=0)
    return [
        f"{expert_name(k)}'s weight vanished (its responsibilities sum to {nk[k]:.3g} of "
        f"{resp.shape[0]} samples): it takes no part in the fit, and its parameters are those it "
        "had when it lost its data; use fewer experts (n_experts) or alpha > 0"
        for k in vanished
    ]


def variance_floor_messages(family: ExpertFamily, data: MoEData, params: MoEParams) -> list[str]:
    """Linear experts whose variance ended on its floor (a collapse onto repeated values of y).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.zeros((4, 1)), np.array([0.0, 0.0, 1.0, 2.0]))
    >>> floor = np.sqrt(LinearExperts().variance_floor(data.y))
    >>> params = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.array([floor, 1.0]))
    >>> variance_floor_messages(LinearExperts(), data, params)[0][:46]
    "expert 1 (index 0)'s standard deviation sits o"
    """
    if not family.has_sigma:
        return []
    # The floor of y / max|y|, scaled back: y of 1e-160 has a squared scale below the floats.
    top = float(np.max(np.abs(data.y))) if data.n_samples else 0.0
    top = top if 0.0 < top < np.inf else 1.0
    floor = np.sqrt(family.variance_floor(data.y / top)) * top
    return [
        f"{expert_name(k)}'s standard deviation sits on its floor ({params.sigma[k]:.3g}): it has "
        "collapsed onto (nearly) repeated values of y, where the likelihood is unbounded, so "
        "the log-likelihood, AIC and BIC of this fit are not meaningful; use fewer experts "
        "(n_experts), or model the repeated values separately"
        for k in np.flatnonzero(params.sigma <= floor * (1.0 + FLOOR_RTOL))
    ]


def inner_solve_messages(info: SolveInfo | None, block: str, alpha: float) -> list[str]:
    """An inner solve that stopped without meeting its tolerance.

    Examples
    --------
    >>> from moe_lib._problem import SolveInfo
    >>> inner_solve_messages(SolveInfo(20, 3e-6, False, True), "the gate", 0.0)[0][:34]
    "the gate's M-step stopped with gra"
    """
    if info is None or not info.hit_bound:
        return []
    hint = "; its data may be separable, use alpha > 0" if alpha == 0 else ""
    return [
        f"{block}'s M-step stopped with gradient {info.grad_norm:.2e} > tolerance after "
        f"{info.n_iter} Newton iterations: the last EM step is inexact{hint}"
    ]
