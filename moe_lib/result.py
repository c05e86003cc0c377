"""The result object of a run, and the record that builds it.

:class:`FitResult` is what :func:`moe_lib.fit.run` returns (the symmetric models'
:func:`moe_lib.symmetric.run` returns one too); :class:`Trace` records a run iteration by
iteration and, at the end, attaches the diagnostics of :mod:`moe_lib.diagnostics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from moe_lib.diagnostics import (
    duplicate_experts_messages,
    expert_name,
    identical_experts_message,
    inner_solve_messages,
    rounding_messages,
    saturation_messages,
    separation_messages,
    vanished_messages,
    variance_floor_messages,
)
from moe_lib.params import MoEParams, to_free


@dataclass
class FitResult:
    """What :func:`moe_lib.fit.run` returns.

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
        With ``record_path=True``: the iterates in free coordinates
        (:func:`moe_lib.params.to_free`),
        row 0 the start (``nan`` when the run started from responsibilities).
    evaluations, hessians : ndarray of shape (n_iter,)
        Work of each iteration's inner solves: objective-and-gradient evaluations (one pass over
        the data each) and Hessians formed (a weighted Gram matrix per block each), summed over
        the gate's and the experts' solves; zero for closed forms and gradient steps.
    passes : ndarray of shape (n_iter,)
        The cost of each iteration in passes over the data, one pass being one product of the
        ``n``-row design with one vector (``n p`` multiply-adds; elementwise work not counted):
        the scores of every gate row and expert coefficient vector (the E-step), plus, for an
        exact M-step, its closed forms and its inner solves' evaluations and Hessians
        (``moe_lib._problem.Problem`` says what each costs), or, for a gradient step, the
        gradient's products ``X^T R`` (as many as the scores). Deterministic, so that methods
        can be compared by work as well as by iterations.
    best_iter : int
        The iteration whose iterate ``params`` is (1-based): the last for exact EM, the best
        for a gradient method whose objective went down; :attr:`loglik` and :attr:`objective`
        are its values.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, load_tonedata, make_data, random_resp, run
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
    evaluations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    hessians: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    best_iter: int = 0
    passes: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def loglik(self) -> float:
        """The final log-likelihood."""
        return float(self.loglik_history[self.best_iter - 1])

    @property
    def objective(self) -> float:
        """The final penalised objective."""
        return float(self.objective_history[self.best_iter - 1])


class Trace:
    """The record of a run: histories, the best iterate, the path, the last M-step's report.

    ``scaling`` is given for exact runs, which iterate on standardised designs (their iterates are
    mapped back for the path and the result); exact EM never decreases its objective, so its
    last iterate is returned, while a gradient method returns its best one.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams
    >>> trace = Trace(LinearExperts(), None, record_path=False, init_params=None)
    >>> p = MoEParams(np.zeros((2, 1)), np.zeros((2, 1)), np.ones(2))
    >>> for obj in (1.0, 3.0, 2.0):
    ...     trace.record(p, np.full((1, 2), 0.5), obj, obj, None, 4.0)
    >>> trace.best[:2], trace.decreases
    ((3.0, 2), [3])
    """

    def __init__(self, family, scaling, record_path, init_params, rounding=0.0):
        self.family, self.scaling = family, scaling
        # Decreases within the objective's rounding (MoEData.objective_rounding) are not seen.
        self.rounding = rounding
        self.lls: list[float] = []
        self.objs: list[float] = []
        self.evaluations: list[int] = []
        self.hessians: list[int] = []
        self.passes: list[float] = []
        self.best = None
        self.decreases: list[int] = []
        self.first_drop = 0.0  # (by how much the objective fell at the first decrease)
        self.last_info = None
        self.converged = False
        start = None if init_params is None else to_free(family, init_params)
        self.path = [start] if record_path else None

    def raw(self, params):
        return params if self.scaling is None else self.scaling.to_raw(params)

    def record(self, params, resp, ll, obj, info, passes):
        if self.objs and obj < self.objs[-1] - max(1e-13 * (1.0 + abs(obj)), self.rounding):
            self.first_drop = self.first_drop or self.objs[-1] - obj
            self.decreases.append(len(self.objs) + 1)
        self.lls.append(ll)
        self.objs.append(obj)
        solves = list(info) if info is not None else []
        self.evaluations.append(sum(s.n_evaluations for s in solves))
        self.hessians.append(sum(s.n_hessians for s in solves))
        self.passes.append(float(passes))
        self.last_info = info if info is not None else self.last_info
        if self.best is None or obj >= self.best[0] or self.scaling is not None:
            self.best = (obj, len(self.objs), params, resp)
        if self.path is not None:
            self.path.append(to_free(self.family, self.raw(params)))

    def result(self, data, alpha, algorithm, step_size, messages, symmetric_start,
               outlying=None):
        family = self.family
        _, best_t, params, resp = self.best
        stopped_early = bool(messages)  # (by a run-off, a divergence: said already)
        converged = self.converged and not self.decreases and not messages
        if self.decreases and self.scaling is not None:
            # Exact EM cannot decrease its objective: an M-step was inexact (the inner-solve
            # messages below say which), or the objective is computed at its rounding.
            obj = self.objs[self.decreases[0] - 2]  # (the value it fell from)
            messages.append(
                f"{algorithm} decreased the objective at iteration {self.decreases[0]} by "
                f"{self.first_drop:.3g} ({self.first_drop / max(abs(obj), 1e-300):.1e} of its "
                "size), which exact EM cannot do: an M-step was inexact, or the objective is "
                "computed at its rounding (values of y with a spread near their rounding, say); "
                f"the last iterate (iteration {best_t}) is returned"
            )
        elif self.decreases:
            messages.append(
                f"{algorithm} decreased the objective at iteration {self.decreases[0]} "
                f"(step_size={step_size}): the step is too large for this problem; the best "
                f"iterate (iteration {best_t}) is returned; reduce step_size"
            )
        elif messages and best_t < len(self.objs):
            messages.append(f"the best iterate (iteration {best_t}) is returned")
        params = self.raw(params)
        info = self.last_info
        if info is not None:
            messages += inner_solve_messages(info.gate, "the gate", alpha)
            for k, solve in enumerate(info.experts):
                messages += inner_solve_messages(solve, expert_name(k), alpha)
            messages += vanished_messages(resp, info.vanished)
        messages += variance_floor_messages(family, data, params) + rounding_messages(data)
        # From the symmetric fixed point EM cannot move at all. Elsewhere two maximum-likelihood
        # experts that ended alike are a stall near a saddle (overspecified fits split the noise
        # instead); a penalty can merge experts at a true maximum, so alpha > 0 is not checked;
        # nor is a fit that a run-off stopped (its experts chase the same infinite optimum).
        stuck = identical_experts_message(params) if symmetric_start else []
        if not stuck and alpha == 0 and not stopped_early:
            stuck = duplicate_experts_messages(family, data, params)
        messages += stuck
        if alpha == 0:
            messages += separation_messages(family, data, params, resp)
        if not messages:
            messages += saturation_messages(family, data, params, alpha, outlying)
        path = None
        if self.path is not None:
            m = to_free(family, params).size
            path = np.array([np.full(m, np.nan) if v is None else v for v in self.path])
        return FitResult(
            params,
            np.array(self.lls),
            np.array(self.objs),
            len(self.objs),
            converged,
            resp,
            messages,
            path,
            np.array(self.evaluations),
            np.array(self.hessians),
            best_t,
            np.array(self.passes),
        )
