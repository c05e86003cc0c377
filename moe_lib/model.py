"""The mixture-of-experts model: E-step, log-likelihood, penalised objective and sampling.

``p(y | x) = sum_k pi_k(g) p(y | x, z = k)``: the gate of :mod:`moe_lib.gate` times an expert
family of :mod:`moe_lib.experts`. The log-likelihood is the total over samples, in nats, every
constant included.
"""

from __future__ import annotations

import numpy as np

from moe_lib._linalg import logsumexp, max_last_axis, row_blocks, row_sum
from moe_lib._validation import check_not_subnormal
from moe_lib.experts import ExpertFamily
from moe_lib.gate import gate_log_proba
from moe_lib.params import MoEData, MoEParams, check_alpha, penalty


def check_model_inputs(
    family: ExpertFamily, data: MoEData, params: MoEParams | None = None, alpha: float = 0.0
) -> float:
    """Raise ``TypeError``/``ValueError`` naming the argument unless the inputs fit together.

    The public functions of the model, step and driver layers call this once; their loops do
    not. Checks the types, that the designs are finite, that ``y`` (and ``n_trials``) are valid
    for ``family`` (labels in {0, 1} for logistic experts, say), that ``params`` fits the family
    and the designs, that no column is subnormal, and ``alpha >= 0``. Returns ``alpha`` as a
    float.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LogisticExperts, make_data
    >>> check_model_inputs(LogisticExperts(), make_data(np.zeros((2, 1)), np.array([0, 1])))
    0.0
    >>> check_model_inputs(LogisticExperts(), make_data(np.zeros((2, 1)), np.array([-1, 1])))
    Traceback (most recent call last):
    ...
    ValueError: y must hold binary labels in {0, 1} for logistic experts; found [-1.]
    """
    if not isinstance(family, ExpertFamily):
        raise TypeError(f"family must be an ExpertFamily, got {type(family).__name__}")
    if not isinstance(data, MoEData):
        raise TypeError(f"data must be a MoEData (see moe_lib.make_data), got {type(data)}")
    for name, mask in (("X", data.expert_mask), ("gate_X", data.gate_mask)):
        if not np.all(np.isfinite(getattr(data, name))):
            raise ValueError(f"data.{name} must hold finite values; it contains NaN or infinity")
        # Coefficients scale as 1 / a column's scale: beyond the floats for subnormal columns.
        check_not_subnormal(getattr(data, name)[:, mask > 0], name)
    family.check_y(data.y, data.n_trials)
    if params is not None:
        if not isinstance(params, MoEParams):
            raise TypeError(f"params must be a MoEParams, got {type(params).__name__}")
        params.check(family, data)
    return check_alpha(alpha)


def joint_log_prob(family: ExpertFamily, data: MoEData, params: MoEParams) -> np.ndarray:
    """``log pi_k(g_i) + log p(y_i | x_i, z=k)``, shape (n, K).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 0.0], [0.0, 1.0]]), np.ones(2))
    >>> joint_log_prob(LinearExperts(), data, params).round(3)
    array([[-1.612, -1.612],
           [-2.112, -1.612]])
    """
    joint = gate_log_proba(data.gate_X, params.gate)
    joint += family.log_prob(data, params)
    return joint


def e_step(family: ExpertFamily, data: MoEData, params: MoEParams) -> tuple[np.ndarray, float]:
    """Responsibilities and total log-likelihood at ``params``.

    Returns
    -------
    resp : ndarray of shape (n, K)
        ``P(z_i = k | x_i, y_i)``, a softmax of the joint log-probabilities (log-sum-exp).
    loglik : float
        ``sum_i log p(y_i | x_i)`` in nats.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 0.0], [0.0, 1.0]]), np.ones(2))
    >>> resp, loglik = e_step(LinearExperts(), data, params)
    >>> resp.round(3), round(loglik, 3)
    (array([[0.5  , 0.5  ],
           [0.378, 0.622]]), -2.057)
    """
    # Row block by row block (the blocks' temporaries stay in cache), in place on each block.
    n, K = data.n_samples, params.n_experts
    resp = np.empty((n, K))
    loglik = 0.0
    for rows in row_blocks(n, max(K, data.X.shape[1], data.gate_X.shape[1])):
        block = joint_log_prob(family, data.rows(rows), params)
        shift = max_last_axis(block)
        shift = np.where(np.isfinite(shift), shift, 0.0)
        block -= shift
        np.exp(block, out=block)
        total = row_sum(block)
        block /= total[:, None]
        resp[rows] = block
        loglik += float(np.sum(np.log(total) + shift[:, 0]))
    return resp, loglik


def responsibilities(family: ExpertFamily, data: MoEData, params: MoEParams) -> np.ndarray:
    """Posterior probabilities of the experts ``P(z_i = k | x_i, y_i)``, shape (n, K).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 0.0], [0.0, 1.0]]), np.ones(2))
    >>> responsibilities(LinearExperts(), data, params).sum(axis=1)
    array([1., 1.])
    """
    return e_step(family, data, params)[0]


def log_likelihood(family: ExpertFamily, data: MoEData, params: MoEParams) -> float:
    """Total log-likelihood ``sum_i log sum_k pi_k(g_i) p(y_i | x_i, z=k)`` in nats.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.array([[0.0, 0.0], [0.0, 1.0]]), np.ones(2))
    >>> round(log_likelihood(LinearExperts(), data, params), 3)
    -2.057
    """
    return float(np.sum(logsumexp(joint_log_prob(family, data, params), axis=1)))


def objective(family: ExpertFamily, data: MoEData, params: MoEParams, alpha: float = 0.0) -> float:
    """The penalised log-likelihood ``loglik - penalty`` that every algorithm ascends.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data
    >>> data = make_data(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]))
    >>> gate = np.array([[0.0, 0.0], [0.0, 2.0]])
    >>> params = MoEParams(gate, np.array([[0.0, 0.0], [0.0, 1.0]]), np.ones(2))
    >>> family = LinearExperts()
    >>> cost = objective(family, data, params) - objective(family, data, params, alpha=1.0)
    >>> round(cost, 12)  # alpha/2 ||gate slope||^2: intercepts and linear experts are free
    2.0
    """
    return log_likelihood(family, data, params) - penalty(family, data, params, alpha)


def sample(
    family: ExpertFamily,
    params: MoEParams,
    X: np.ndarray,
    gate_X: np.ndarray,
    rng: np.random.Generator,
    n_trials: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``(y, z)`` from the model at the given *designs* (intercept columns included).

    Returns
    -------
    y : ndarray of shape (n,)
    z : ndarray of shape (n,)
        Expert labels (0-based).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, make_data
    >>> rng = np.random.default_rng(0)
    >>> data = make_data(rng.normal(size=(5, 1)), np.zeros(5))
    >>> params = random_params(LinearExperts(), 2, 2, 2, rng)
    >>> y, z = sample(LinearExperts(), params, data.X, data.gate_X, rng)
    >>> y.shape, set(z) <= {0, 1}
    ((5,), True)
    """
    pi = np.exp(gate_log_proba(gate_X, params.gate))
    u = rng.random(X.shape[0])
    z = np.minimum((np.cumsum(pi, axis=1) < u[:, None]).sum(axis=1), params.n_experts - 1)
    y = family.sample(X, z, params, n_trials, rng)
    return y, z


def random_params(
    family: ExpertFamily,
    n_experts: int,
    n_features: int,
    n_gate_features: int,
    rng: np.random.Generator,
    *,
    scale: float = 1.0,
    sigma: float = 1.0,
) -> MoEParams:
    """Standard-normal parameters times ``scale`` (reference rows zero; ``sigma`` for linear).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import MultinomialExperts
    >>> params = random_params(MultinomialExperts(3), 2, 4, 4, np.random.default_rng(0))
    >>> params.coef.shape, bool(np.all(params.coef[:, 0] == 0)), bool(np.all(params.gate[0] == 0))
    ((2, 3, 4), True, True)
    """
    gate = scale * rng.standard_normal((n_experts, n_gate_features))
    gate[0] = 0.0
    sig = np.full(n_experts, float(sigma)) if family.has_sigma else None
    raw = scale * rng.standard_normal(family.coef_shape(n_experts, n_features))
    # Round trip through the free coordinates: zeroes reference classes and ties symmetric pairs.
    coef = family.from_free(family.to_free(raw, sig), n_experts, n_features)[0]
    return MoEParams(gate, coef, sig)
