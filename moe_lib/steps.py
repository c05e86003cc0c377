"""One step of each method, from the E-step's responsibilities.

- :func:`m_step` / :func:`em_step`: the *exact* EM step (E-step, then every M-step solved
  exactly), the step that equals a unit-step mirror-descent step (chapter 4 of the book);
- :func:`gradient_em_step`: one gradient step on ``Q(. | theta_t)`` with one step size per block
  (the gate; each expert's coefficients; each ``log sigma``), each the inverse of a curvature bound
  of that block of ``Q`` at the current responsibilities (our reading of the paper's Gradient EM,
  stated in chapter 6);
- :func:`gd_step`: gradient ascent on the penalised log-likelihood with a single step size.

By Fisher's identity the gradient of ``Q`` at ``theta_t`` *is* the gradient of the log-likelihood,
so gradient EM and GD move along the same gradient; they differ only in their step sizes.

The public functions check their inputs (:func:`moe_lib.model.check_model_inputs`); the driver
calls the unchecked ``_`` versions in its loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from moe_lib._linalg import column_sum
from moe_lib._problem import SolveInfo
from moe_lib._validation import check_real
from moe_lib.experts import ExpertFamily
from moe_lib.gate import gate_curvature, gate_gradient, gate_m_step
from moe_lib.model import check_model_inputs, e_step
from moe_lib.params import MoEData, MoEParams, from_free, to_free
from moe_lib.scaling import standardize

#: An expert whose responsibilities sum to at most this fraction of the samples has vanished; its
#: M-step is undefined (no data), so its parameters are kept as they are.
VANISHED_FRACTION = 1e-10


def vanished_experts(resp: np.ndarray) -> list[int]:
    """The experts whose total responsibility is (numerically) zero.

    Examples
    --------
    >>> vanished_experts(np.array([[1.0, 0.0, 0.5], [1.0, 0.0, 0.5]]))
    [1]
    """
    nk = column_sum(resp)  # (a BLAS product: numpy's sum over the long axis is ~20x slower)
    return [int(k) for k in np.flatnonzero(~(nk > VANISHED_FRACTION * resp.shape[0]))]


@dataclass(frozen=True)
class MStepInfo:
    """What an M-step did: its inner solves, and the experts that had no data.

    Iterating over it yields every :class:`moe_lib._problem.SolveInfo` (gate first).

    Attributes
    ----------
    gate : SolveInfo or None
        The gate's solve (None: an intercept-free gate with nothing to fit).
    experts : list of SolveInfo
        The experts' solves (empty for closed forms).
    vanished : list of int
        Experts whose weight vanished; their parameters were kept.

    Examples
    --------
    >>> from moe_lib._problem import SolveInfo
    >>> info = MStepInfo(SolveInfo(3, 1e-12, True, False), [], [])
    >>> [s.converged for s in info]
    [True]
    """

    gate: SolveInfo | None
    experts: list[SolveInfo] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)

    def __iter__(self):
        return iter(([] if self.gate is None else [self.gate]) + list(self.experts))


def _check_resp(resp: np.ndarray, data: MoEData, n_experts: int) -> np.ndarray:
    resp = np.asarray(resp, dtype=float)
    if resp.shape != (data.n_samples, n_experts):
        raise ValueError(
            f"resp must have shape (n_samples, n_experts) = ({data.n_samples}, {n_experts}), "
            f"got {resp.shape}"
        )
    if not np.all(np.isfinite(resp)) or np.any(resp < 0):
        raise ValueError("resp must hold finite, non-negative responsibilities")
    return resp


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
    family : ExpertFamily
    data : MoEData
    resp : ndarray of shape (n, K)
        Responsibilities at ``theta_t``.
    params : MoEParams
        Warm start for the inner Newton solves.
    alpha : float
        L2 penalty (>= 0).

    Returns
    -------
    params : MoEParams
    info : MStepInfo
        The inner solves (iterate over it: gate first) and the experts that had no data.

    Notes
    -----
    The solves run on standardised designs (:func:`moe_lib.scaling.standardize`): the step is
    the same (an exact M-step is equivariant), its numerics do not depend on the units of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 1))
    >>> data = make_data(X, X[:, 0] + 0.1 * rng.normal(size=50))
    >>> start = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2))
    >>> new, info = m_step(LinearExperts(), data, np.full((50, 2), 0.5), start)
    >>> bool(np.allclose(new.coef[0], new.coef[1])), info.gate.converged
    (True, True)
    """
    alpha = check_model_inputs(family, data, params, alpha)
    resp = _check_resp(resp, data, params.n_experts)
    std, scaling = standardize(data, family)
    new, info = _m_step(family, std, resp, scaling.to_std(params), alpha)
    return scaling.to_raw(new), info


def _m_step(family, data, resp, params, alpha, state=None):
    gate, gate_info = gate_m_step(data, resp, params.gate, alpha, state)
    vanished = vanished_experts(resp)
    if not vanished or family.tied:
        coef, sigma, infos = family.m_step(data, resp, params, alpha, state)
    else:
        # Experts without data keep their parameters; the others get their exact M-step.
        live = np.setdiff1d(np.arange(params.n_experts), vanished)
        sub = MoEParams(params.gate[live], params.coef[live],
                        None if params.sigma is None else params.sigma[live])
        # (A fresh state: the factors of the full problem do not fit the smaller one.)
        sub_coef, sub_sigma, infos = family.m_step(data, resp[:, live], sub, alpha)
        coef = params.coef.copy()
        coef[live] = sub_coef
        sigma = None if params.sigma is None else params.sigma.copy()
        if sigma is not None:
            sigma[live] = sub_sigma
    return MoEParams(gate, coef, sigma), MStepInfo(gate_info, list(infos), vanished)


def em_step(
    family: ExpertFamily, data: MoEData, params: MoEParams, alpha: float = 0.0
) -> MoEParams:
    """One exact EM step from ``params`` (E-step, then exact M-steps).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, make_data, objective, random_params
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(100, 1))
    >>> data = make_data(X, np.abs(X[:, 0]) + 0.1 * rng.normal(size=100))
    >>> params = random_params(LinearExperts(), 2, 2, 2, rng)
    >>> new = em_step(LinearExperts(), data, params)
    >>> objective(LinearExperts(), data, new) >= objective(LinearExperts(), data, params)
    True
    """
    alpha = check_model_inputs(family, data, params, alpha)
    std, scaling = standardize(data, family)
    params = scaling.to_std(params)
    resp, _ = e_step(family, std, params)
    return scaling.to_raw(_m_step(family, std, resp, params, alpha)[0])


def objective_gradient(
    family: ExpertFamily,
    data: MoEData,
    params: MoEParams,
    alpha: float = 0.0,
    resp: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of the penalised log-likelihood in free coordinates, and block curvature bounds.

    The gradient is that of ``Q(. | theta)`` at ``theta`` (Fisher's identity): the gate block is
    ``sum_i (r_ik - pi_ik) g_i`` and the expert blocks come from the family.

    Parameters
    ----------
    resp : ndarray of shape (n, K), optional
        The responsibilities at ``params`` when the caller has them (else an E-step computes them).

    Returns
    -------
    grad : ndarray of shape (m,)
        In the layout of :func:`moe_lib.params.to_free`.
    curvature : ndarray of shape (m,)
        Per coordinate, a bound on the curvature of ``Q`` on its block: Boehning's bound for the
        gate (:func:`moe_lib.gate.gate_curvature`) and the family's bounds for the experts.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data, to_free, from_free, objective
    >>> data = make_data(np.array([[0.0], [1.0], [2.0]]), np.array([0.0, 1.0, 3.0]))
    >>> p = MoEParams(np.array([[0.0, 0.0], [0.1, 0.2]]), np.ones((2, 2)), np.ones(2))
    >>> g, curv = objective_gradient(LinearExperts(), data, p)
    >>> v, h = to_free(LinearExperts(), p), 1e-6 * np.eye(8)[2]
    >>> fd = (objective(LinearExperts(), data, from_free(LinearExperts(), v + h, p))
    ...       - objective(LinearExperts(), data, from_free(LinearExperts(), v - h, p))) / 2e-6
    >>> bool(abs(fd - g[2]) < 1e-6), g.shape == curv.shape == (8,)
    (True, True)
    """
    alpha = check_model_inputs(family, data, params, alpha)
    if resp is not None:
        resp = _check_resp(resp, data, params.n_experts)
    return _objective_gradient(family, data, params, alpha, resp)


def _objective_gradient(family, data, params, alpha, resp=None):
    if resp is None:
        resp = e_step(family, data, params)[0]
    g_gate = gate_gradient(data, resp, params.gate, alpha)
    l_gate = gate_curvature(data, params.n_experts, alpha)
    g_exp, l_exp = family.free_gradient(data, resp, params, alpha)
    grad = np.concatenate([g_gate.ravel(), g_exp])
    curv = np.concatenate([np.full(g_gate.size, l_gate), l_exp])
    return grad, curv


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

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, load_tonedata, make_data, objective, random_params
    >>> X, y = load_tonedata(return_X_y=True)
    >>> data, family = make_data(X, y), LinearExperts()
    >>> start = random_params(family, 2, 2, 2, np.random.default_rng(0), scale=0.1)
    >>> new = gradient_em_step(family, data, start)
    >>> objective(family, data, new) > objective(family, data, start)
    True
    """
    alpha = check_model_inputs(family, data, params, alpha)
    family.check_unscaled_y(data.y, "gradient_em")
    return _gradient_em_step(family, data, params, alpha, _check_step(step_size), resp)


def _gradient_em_step(family, data, params, alpha, step_size, resp=None):
    g, curv = _objective_gradient(family, data, params, alpha, resp)
    mult = 1.0 if step_size is None else float(step_size)
    ratio = np.zeros_like(g)
    ok = curv > 0
    ratio[ok] = g[ok] / curv[ok]
    return from_free(family, to_free(family, params) + mult * ratio, params)


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

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, load_tonedata, make_data, objective, random_params
    >>> X, y = load_tonedata(return_X_y=True)
    >>> data, family = make_data(X, y), LinearExperts()
    >>> start = random_params(family, 2, 2, 2, np.random.default_rng(0), scale=0.1)
    >>> new = gd_step(family, data, start)
    >>> objective(family, data, new) > objective(family, data, start)
    True
    """
    alpha = check_model_inputs(family, data, params, alpha)
    family.check_unscaled_y(data.y, "gd")
    return _gd_step(family, data, params, alpha, _check_step(step_size), resp)


def _gd_step(family, data, params, alpha, step_size, resp=None):
    g, curv = _objective_gradient(family, data, params, alpha, resp)
    if step_size is None:
        top = float(np.max(curv)) if curv.size else 0.0
        delta = g / top if top > 0 else np.zeros_like(g)
    else:
        delta = float(step_size) * g / data.n_samples
    return from_free(family, to_free(family, params) + delta, params)


def _check_step(step_size: float | None) -> float | None:
    if step_size is None:
        return None
    return check_real(step_size, "step_size", min_value=0.0, strict=True)
