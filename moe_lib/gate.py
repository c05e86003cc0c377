"""Everything about the softmax gate: its probabilities, exact M-step, gradient, curvature bound
and the checks for a gate whose coefficients diverge.

The gate is ``pi_k(g) = exp(g^T w_k) / sum_j exp(g^T w_j)`` on the gate design ``g`` with expert
0 as the reference (``w_0 = 0``). Its M-step maximises ``sum_{i,k} r_ik log pi_k(g_i; w)`` minus an
optional L2 penalty: a multinomial logistic regression whose soft labels are the
responsibilities (:class:`moe_lib.regression.SoftmaxRegression`). A gate design with no columns
gives fixed, uniform mixing weights and has nothing to fit.
"""

from __future__ import annotations

import numpy as np

from moe_lib._linalg import lambda_max, log_softmax_ref
from moe_lib._problem import design_of
from moe_lib.params import MoEData, MoEParams
from moe_lib.regression import fit_weighted_softmax
from moe_lib.solvers import SolveInfo

#: Responsibilities within this distance of 0/1, and fitted probabilities within this distance of
#: them, count as reproduced "to within rounding" by the separation checks.
SEPARATION_THRESHOLD = 1e-6

#: Log-odds beyond which a fitted probability is 0 or 1 to within ~1e-22. A gate whose scores
#: reach it is drifting towards infinite coefficients, also in a fit that "converged" (under
#: quasi-complete separation the log-likelihood has a finite supremum that it approaches).
SATURATION_LOGODDS = 50.0


def gate_log_proba(gate_X: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """Log mixing weights ``log pi_k(g_i)``, shape (n, K); a design with 0 columns gives 1/K.

    Examples
    --------
    >>> import numpy as np
    >>> np.exp(gate_log_proba(np.ones((1, 1)), np.array([[0.0], [np.log(3.0)]]))).round(3)
    array([[0.25, 0.75]])
    """
    return log_softmax_ref(gate_X, gate)


def gate_m_step(
    data: MoEData,
    resp: np.ndarray,
    gate: np.ndarray,
    alpha: float = 0.0,
    state: dict | None = None,
) -> tuple[np.ndarray, SolveInfo | None]:
    """Exact gate M-step: soft-label softmax regression of ``resp`` on the gate design.

    Warm-started at ``gate``; solved until the largest gradient entry per sample is at most
    ``1e-10``. ``state`` (kept by the caller across EM iterations) carries the solve's
    factorised Hessian to the next iteration's solve. Returns the new gate (K, q) and what the
    solve did (``None``: nothing to fit).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import make_data
    >>> data = make_data(np.array([[-1.0], [0.0], [1.0]]), np.zeros(3))
    >>> resp = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]])
    >>> gate, info = gate_m_step(data, resp, np.zeros((2, 2)))
    >>> bool(np.allclose(gate[1], [0.0, np.log(9.0)])), info.converged  # logit(0.9) = log 9
    (True, True)
    """
    if data.gate_X.shape[1] == 0:
        return gate, None
    state = {} if state is None else state
    new, info = fit_weighted_softmax(
        data.gate_X, resp, np.ones(data.n_samples), gate, alpha=alpha,
        penalty_mask=data.gate_mask, curvature=state.get("gate"),
        design=design_of(state, "gate", data.gate_X),
    )
    state["gate"] = info.curvature
    return new, info


def gate_gradient(
    data: MoEData, resp: np.ndarray, gate: np.ndarray, alpha: float = 0.0
) -> np.ndarray:
    """Gradient of ``Q_gate - penalty`` in the non-reference rows: ``sum_i (r_ik - pi_ik) g_i``.

    At the responsibilities of ``gate`` itself this is the gate block of the log-likelihood's
    gradient (Fisher's identity). Shape (K - 1, q).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import make_data
    >>> data = make_data(np.array([[-1.0], [1.0]]), np.zeros(2))
    >>> gate_gradient(data, np.array([[1.0, 0.0], [0.0, 1.0]]), np.zeros((2, 2)))
    array([[0., 1.]])
    """
    pi = np.exp(gate_log_proba(data.gate_X, gate))
    return (resp - pi)[:, 1:].T @ data.gate_X - alpha * data.gate_mask * gate[1:]


def gate_curvature(data: MoEData, n_experts: int, alpha: float = 0.0) -> float:
    """Boehning's bound on the gate block's curvature: ``1/2 c_K lambda_max(G^T G) + alpha``.

    ``c_K = lambda_max(I - 11^T/K)`` on the ``K - 1`` free rows: 1/2 for two experts, 1 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import make_data
    >>> data = make_data(np.zeros((4, 0)), np.zeros(4))  # intercept only: G^T G = 4
    >>> gate_curvature(data, 2), gate_curvature(data, 3, alpha=0.5)
    (1.0, 2.5)
    """
    c_k = 0.5 if n_experts == 2 else 1.0
    return 0.5 * c_k * lambda_max(data.gate_X, np.ones(data.n_samples)) + alpha


def gate_separation_messages(data: MoEData, params: MoEParams, resp: np.ndarray) -> list[str]:
    """Describe a gate whose probabilities reproduce hard responsibilities (separation).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import MoEParams, make_data
    >>> data = make_data(np.array([[-1.0], [1.0]]), np.zeros(2))
    >>> params = MoEParams(np.array([[0.0, 0.0], [0.0, 40.0]]), np.zeros((2, 2)), np.ones(2))
    >>> len(gate_separation_messages(data, params, np.array([[1.0, 0.0], [0.0, 1.0]])))
    1
    """
    if not data.gate_X.shape[1] or params.n_experts < 2:
        return []
    pi = np.exp(gate_log_proba(data.gate_X, params.gate))
    hard = np.min(np.max(resp, axis=1)) >= 1 - SEPARATION_THRESHOLD
    used = np.unique(np.argmax(resp, axis=1)).size > 1
    if hard and used and np.max(np.abs(resp - pi)) <= SEPARATION_THRESHOLD:
        return [
            "the gate separates the experts' data (its probabilities reproduce hard "
            "responsibilities): the maximum-likelihood gate coefficients are infinite; use "
            "alpha > 0"
        ]
    return []


def gate_saturation_messages(
    data: MoEData, params: MoEParams, outlying: np.ndarray | None = None
) -> list[str]:
    """Describe gate scores so large that its coefficients look like they diverge.

    The rows ``outlying`` (of ``gate_X``: ``moe_lib._problem.outlying_rows``) are
    left out: a finite gate can give such a row any score.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import MoEParams, make_data
    >>> data = make_data(np.array([[-1.0], [1.0]]), np.zeros(2))
    >>> params = MoEParams(np.array([[0.0, 0.0], [0.0, 60.0]]), np.zeros((2, 2)), np.ones(2))
    >>> gate_saturation_messages(data, params)[0][:28]
    "the gate's log-odds reach 60"
    """
    if not data.gate_X.shape[1]:
        return []
    scores = data.gate_X @ params.gate.T
    spreads = np.max(scores, axis=1) - np.min(scores, axis=1)
    if outlying is not None:
        spreads[outlying] = 0.0
    spread = float(np.max(spreads))
    if spread > SATURATION_LOGODDS:
        return [
            f"the gate's log-odds reach {spread:.3g}: its coefficients appear to diverge (the "
            "experts' data look separable by the gate: the likelihood keeps rising as the gate "
            "becomes a hard switch, so no finite maximum exists); use alpha > 0"
        ]
    return []
