"""The interface every expert family implements (the same small set of methods, as
statsmodels' families have), so that the E-step, the EM driver and the gradient methods never
ask which family they hold."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from moe_lib.params import MoEData, MoEParams
from moe_lib.solvers import SolveInfo


class ExpertFamily(ABC):
    """What a family of experts knows: its density, its exact weighted M-step, its gradient.

    - :meth:`check_y`: validate labels (and binomial trial counts);
    - :meth:`log_prob`: ``log p(y_i | x_i, z = k)`` for every expert, shape (n, K);
    - :meth:`m_step`: maximise ``sum_i r_ik log p(y_i | x_i, z = k) - alpha/2 ||coef_k||^2`` for
      every ``k``, exactly (closed form, or a Newton solve to a gradient tolerance);
    - :meth:`to_free` / :meth:`from_free`: the unconstrained coordinates the gradient methods
      move (variances as ``log sigma``);
    - :meth:`free_gradient`: the gradient of the expert part of ``Q`` (penalty included) in those
      coordinates, with a curvature bound per block for the gradient step sizes;
    - :meth:`expert_mean`, :meth:`sample`, :meth:`separated_experts`.

    Examples
    --------
    >>> from moe_lib.experts import LinearExperts, MultinomialExperts
    >>> [isinstance(f, ExpertFamily) for f in (LinearExperts(), MultinomialExperts(3))]
    [True, True]
    >>> MultinomialExperts(3).coef_shape(n_experts=2, n_features=4)
    (2, 3, 4)
    """

    #: Short name used in messages and ``repr``.
    name: str = "expert"
    #: Whether the L2 penalty ``alpha`` applies to this family's coefficients.
    penalized: bool = True
    #: Whether the family has a variance per expert.
    has_sigma: bool = False
    #: Whether ``y -> (y - c) / s`` maps the model onto itself (coefficients and standard
    #: deviations scale, the intercept absorbs ``c``): exact EM then fits a scaled ``y``
    #: (:func:`moe_lib.scaling.standardize`).
    location_scale: bool = False
    #: Whether the experts' parameters are tied (the symmetric pairs), so that their M-step is
    #: one fit.
    tied: bool = False

    def check_unscaled_y(self, y: np.ndarray, algorithm: str) -> None:
        """Raise a ``ValueError`` where a gradient method (which fits ``y`` as given, unlike exact
        EM, ``moe_lib.scaling``) cannot represent this ``y``'s scale; nothing to check here."""
        return None

    @abstractmethod
    def check_y(
        self, y: np.ndarray, n_trials: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Validate ``y`` (and ``n_trials``); return them as the arrays the family works with."""

    @abstractmethod
    def coef_shape(self, n_experts: int, n_features: int) -> tuple[int, ...]:
        """Shape of the coefficient array."""

    def check_coef(self, coef: np.ndarray, name: str = "params") -> None:
        """Raise ``ValueError`` when ``coef`` breaks a constraint of the family (none here)."""
        return None

    @abstractmethod
    def log_prob(self, data: MoEData, params: MoEParams) -> np.ndarray:
        """``log p(y_i | x_i, z=k)``, shape (n, K), every constant included."""

    @abstractmethod
    def m_step(
        self,
        data: MoEData,
        resp: np.ndarray,
        params: MoEParams,
        alpha: float,
        state: dict | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None, list[SolveInfo]]:
        """Exact weighted M-step of every expert, warm-started at ``params.coef``.

        ``state`` is a dictionary the caller keeps across EM iterations: iterative families store
        their solves' factorised Hessians in it and start the next solve with chord steps on
        them (consecutive M-step problems differ little near convergence), and the design's
        facts about the design (``moe_lib._problem.design_of``). Returns the new
        ``coef``, the new ``sigma`` (or None) and one :class:`SolveInfo` per iterative solve (none
        for closed forms).
        """

    def closed_form_passes(self, n_experts: int, n_features: int) -> float:
        """Passes over the data (see ``moe_lib._problem.Problem``) of the M-step's closed
        forms; 0 for families whose M-step is iterative (their solves count their own)."""
        return 0.0

    @abstractmethod
    def to_free(self, coef: np.ndarray, sigma: np.ndarray | None) -> np.ndarray:
        """Unconstrained parameter vector (for the gradient methods)."""

    @abstractmethod
    def from_free(
        self, v: np.ndarray, n_experts: int, n_features: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Inverse of :meth:`to_free`."""

    @abstractmethod
    def free_gradient(
        self, data: MoEData, resp: np.ndarray, params: MoEParams, alpha: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient of the penalised expert part of Q in free coordinates, and a curvature bound.

        Returns
        -------
        grad : ndarray of shape (m,)
        curvature : ndarray of shape (m,)
            For each coordinate, an upper bound on the curvature of the block it belongs to (one
            expert's coefficients, or one ``log sigma``), at the current responsibilities.
        """

    @abstractmethod
    def expert_mean(self, X: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """Each expert's prediction: mean (n, K), success probability (n, K) or class
        probabilities (n, K, C)."""

    @abstractmethod
    def sample(
        self,
        X: np.ndarray,
        z: np.ndarray,
        params: MoEParams,
        n_trials: np.ndarray | None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Draw ``y_i`` from expert ``z_i``."""

    def penalty(self, coef: np.ndarray, mask: np.ndarray) -> float:
        """``||mask * coef||^2`` over the free coefficients (0 for unpenalised families)."""
        if not self.penalized:
            return 0.0
        return float(np.sum(mask * coef**2))

    def n_free_params(self, n_experts: int, n_features: int) -> int:
        """Number of free parameters (for AIC/BIC)."""
        return self.to_free(
            np.zeros(self.coef_shape(n_experts, n_features)),
            np.ones(n_experts) if self.has_sigma else None,
        ).size

    def init_coef(self, n_experts: int, n_features: int) -> np.ndarray:
        """Starting coefficients for a first M-step (zeros)."""
        return np.zeros(self.coef_shape(n_experts, n_features))

    def separated_experts(
        self, data: MoEData, resp: np.ndarray, params: MoEParams, threshold: float = 1e-6
    ) -> list[int]:
        """Experts whose fitted probabilities reproduce every weighted label to within rounding.

        That is the signature of (quasi-)separation: the unpenalised M-step has no finite
        maximiser, and its solve only stops because the gradient underflows. Families without a
        separation issue return an empty list.
        """
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def reproduced_labels(resid: np.ndarray, resp: np.ndarray, threshold: float) -> list[int]:
    """Experts ``k`` whose absolute residuals ``resid[:, k]`` (n, K) are within ``threshold`` on
    every sample they carry weight for (``resp >= threshold``): the separation signature.

    Examples
    --------
    >>> import numpy as np
    >>> resid = np.array([[0.0, 0.3], [1e-9, 0.2]])
    >>> reproduced_labels(resid, np.ones((2, 2)), 1e-6)
    [0]
    """
    weighted = resp >= threshold
    return [
        k
        for k in range(resp.shape[1])
        if np.any(weighted[:, k]) and np.max(resid[weighted[:, k], k]) <= threshold
    ]
