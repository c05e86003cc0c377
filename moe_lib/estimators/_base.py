"""The base class both estimators share: hyper-parameters, input checks, and the fit.

The fit loop is :func:`moe_lib.fit.fit_moe`; this class turns scikit-learn inputs into designs,
checks them up front with messages that say what to do, and stores the fitted attributes.
Hyper-parameters are declared in ``_parameter_constraints`` and checked by scikit-learn's own
machinery (``InvalidParameterError`` names the parameter).
"""

from __future__ import annotations

import re
from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from moe_lib._linalg import logsumexp
from moe_lib._validation import named, renamed
from moe_lib.experts import ExpertFamily
from moe_lib.fit import ALGORITHMS, MAX_ITER, MAX_PASSES, fit_moe
from moe_lib.gate import gate_log_proba
from moe_lib.model import e_step, joint_log_prob
from moe_lib.params import MoEData, MoEParams, make_data
from moe_lib.scaling import standardize

_RESHAPE_HINT = (
    "Reshape your data either using array.reshape(-1, 1) if it has a single feature or "
    "array.reshape(1, -1) if it contains a single sample."
)


def check_2d(A, name: str) -> None:
    """Raise a ``ValueError`` naming ``name`` unless ``A`` is 2-dimensional (before sklearn's
    own validation, whose messages for 1-D and 3-D input do not say which argument is wrong)."""
    try:
        ndim = A.ndim if hasattr(A, "ndim") else np.ndim(A)
    except (TypeError, ValueError):  # ragged sequences: check_array reports them
        return
    if ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_features), got a {ndim}-D "
            "array." + (f" {_RESHAPE_HINT}" if ndim == 1 else "")
        )


#: A message that already names the input it is about.
_NAMES_INPUT = re.compile(r"\b(X|y)\b")


def validate_inputs(estimator: BaseEstimator, X, y="no_validation", **kwargs):
    """scikit-learn's ``validate_data``, whose errors name the input at fault.

    Some of scikit-learn's messages do not say whether ``X`` or ``y`` was wrong (strings that do
    not convert, ragged rows, complex or empty arrays); when the message names neither, ``X`` is
    checked alone to tell, and the error is raised again with the name in front. ``y`` as in
    ``validate_data`` (its default: ``X`` alone).

    Examples
    --------
    >>> from moe_lib import MixtureOfLinearExperts
    >>> try:
    ...     validate_inputs(MixtureOfLinearExperts(), [["a", "b"]], [1.0], dtype=float)
    ... except ValueError as err:
    ...     print(str(err)[:28])
    X is not valid input: could
    """
    try:
        return validate_data(estimator, X, y, **kwargs)
    except (ValueError, TypeError) as err:
        if _NAMES_INPUT.search(str(err)):
            raise
        culprit = "y"
        try:
            check_array(X, dtype=float, input_name="X")
        except (ValueError, TypeError):
            culprit = "X"
        raise renamed(err, culprit) from err


def check_lengths(X, y) -> None:
    """Raise a ``ValueError`` naming X and y when their numbers of samples differ."""
    if issparse(X):  # len() of a sparse matrix is ambiguous (dok: its number of entries)
        return
    try:
        n_X, n_y = len(X), len(y)
    except TypeError:  # sparse input, None, scalars: sklearn's validation reports them
        return
    if n_X != n_y:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: X has {n_X} rows but y has {n_y}"
        )


class BaseMixtureOfExperts(BaseEstimator):
    """Shared parameters, validation and the fit of both estimators."""

    _parameter_constraints: dict = {
        "n_experts": [Interval(Integral, 2, None, closed="left")],
        "algorithm": [StrOptions(set(ALGORITHMS))],
        "step_size": [None, Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_passes": [None, Interval(Real, 0, None, closed="neither")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": [
            None,
            Interval(Integral, 0, None, closed="left"),
            np.random.RandomState,
            np.random.Generator,
        ],
        "fit_intercept": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_experts: int = 2,
        algorithm: str = "em",
        step_size: float | None = None,
        max_iter: int = MAX_ITER,
        max_passes: float | None = MAX_PASSES,
        tol: float = 1e-10,
        n_init: int = 1,
        random_state: int | np.random.Generator | None = None,
        fit_intercept: bool = True,
        alpha: float = 0.0,
    ) -> None:
        self.n_experts = n_experts
        self.algorithm = algorithm
        self.step_size = step_size
        self.max_iter = max_iter
        self.max_passes = max_passes
        self.tol = tol
        self.n_init = n_init
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.alpha = alpha

    # ---------------------------------------------------------------- validation
    def _check_hyperparameters(self) -> None:
        self._validate_params()
        for name in ("step_size", "tol", "alpha"):
            value = getattr(self, name)
            if value is not None and not np.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")

    def _gate_array(self, X: np.ndarray, gate_X, *, fitting: bool) -> np.ndarray | None:
        """Validate ``gate_X``; ``None`` means the gate uses ``X`` (only if it did at fit time)."""
        if fitting:
            self._gate_uses_X = gate_X is None
        if gate_X is not None:
            check_2d(gate_X, "gate_X")
        if gate_X is None:
            if not self._gate_uses_X:
                raise ValueError(
                    "gate_X is required: this model was fitted with a separate gate design"
                )
            return None
        if self._gate_uses_X and not fitting:
            raise ValueError("gate_X must be None: this model's gate was fitted on X")
        G = named(lambda: check_array(gate_X, dtype=float, ensure_min_features=0,
                                      input_name="gate_X"), "gate_X")
        if G.shape[0] != X.shape[0]:
            raise ValueError(
                f"gate_X has {G.shape[0]} rows but X has {X.shape[0]}: they must match"
            )
        if fitting:
            self.n_gate_features_in_ = G.shape[1]
        elif G.shape[1] != self.n_gate_features_in_:
            raise ValueError(
                f"gate_X has {G.shape[1]} features, but the gate was fitted with "
                f"{self.n_gate_features_in_}"
            )
        return G

    @staticmethod
    def _check_full_rank(design: np.ndarray, name: str, hint: str) -> None:
        if design.shape[1] == 0:
            return
        rank = np.linalg.matrix_rank(design)
        if rank < design.shape[1]:
            raise ValueError(
                f"{name} is rank-deficient: its design (intercept included) has rank {rank} < "
                f"{design.shape[1]} columns, so the maximum-likelihood coefficients are not "
                f"unique. Remove constant or collinear columns{hint}."
            )

    def _check_init_resp(self, init_resp, n: int) -> np.ndarray | None:
        if init_resp is None:
            return None
        R = named(lambda: check_array(init_resp, dtype=float, input_name="init_resp"),
                  "init_resp")
        if R.shape != (n, self.n_experts):
            raise ValueError(
                f"init_resp must have shape (n_samples, n_experts) = ({n}, {self.n_experts}), "
                f"got {R.shape}"
            )
        if np.any(R < 0) or not np.allclose(R.sum(axis=1), 1.0, atol=1e-8):
            raise ValueError("init_resp must be non-negative with rows that sum to 1")
        empty = np.flatnonzero(R.sum(axis=0) <= 0)
        if empty.size:
            raise ValueError(
                f"init_resp gives expert {int(empty[0]) + 1} no weight (column {int(empty[0])} "
                "sums to 0)"
            )
        return R

    def _check_init_params(self, init_params, data: MoEData, family: ExpertFamily):
        if init_params is None:
            return None
        if not isinstance(init_params, MoEParams):
            raise TypeError(
                f"init_params must be a moe_lib.MoEParams, got {type(init_params).__name__}"
            )
        if init_params.n_experts != self.n_experts:
            raise ValueError(
                f"init_params has {init_params.n_experts} experts but n_experts={self.n_experts}"
            )
        return init_params.check(family, data, "init_params")

    # ---------------------------------------------------------------- fitting
    def _fit_family(self, family, X, y, gate_X, n_trials, init_resp, init_params):
        n = X.shape[0]
        if self.n_experts > n:
            raise ValueError(
                f"n_experts={self.n_experts} must not exceed n_samples = {n}: each expert needs "
                "data"
            )
        data = make_data(X, y, gate_X, n_trials=n_trials, fit_intercept=self.fit_intercept)
        # Rank is judged on the standardised designs: a column's units (1e-14, 1e15 for
        # timestamps) must not make it look collinear with the intercept.
        std, _ = standardize(data)
        if self.alpha == 0 or not family.penalized:
            self._check_full_rank(std.X, "X", "" if not family.penalized else ", or use alpha > 0")
        if self.alpha == 0:
            self._check_full_rank(std.gate_X, "gate_X (the gate design)", ", or use alpha > 0")
        init_resp = self._check_init_resp(init_resp, n)
        init_params = self._check_init_params(init_params, data, family)
        best, finals = fit_moe(
            family,
            data,
            self.n_experts,
            algorithm=self.algorithm,
            alpha=float(self.alpha),
            step_size=self.step_size,
            max_iter=self.max_iter,
            max_passes=self.max_passes,
            tol=self.tol,
            n_init=self.n_init,
            random_state=self.random_state,
            init_resp=init_resp,
            init_params=init_params,
        )
        self.family_ = family
        self.params_ = best.params
        self.loglik_history_ = best.loglik_history
        self.objective_history_ = best.objective_history
        self.loglik_ = best.loglik
        self.n_iter_ = best.n_iter
        self.passes_ = best.passes
        self.converged_ = best.converged
        self.init_objectives_ = finals
        self.fit_messages_ = list(best.messages)
        p0 = 1 if self.fit_intercept else 0
        gate = best.params.gate
        self.gate_coef_ = gate[:, p0:].copy()
        self.gate_intercept_ = gate[:, 0].copy() if p0 else np.zeros(self.n_experts)
        coef = best.params.coef
        self.coef_ = coef[..., p0:].copy()
        self.intercept_ = coef[..., 0].copy() if p0 else np.zeros(coef.shape[:-1])
        return self

    def _data(self, X, y, gate_X, n_trials=None) -> MoEData:
        check_is_fitted(self, "params_")
        check_2d(X, "X")
        X = validate_inputs(self, X, reset=False, dtype=float)
        G = self._gate_array(X, gate_X, fitting=False)
        y = self._encode_y(y, X.shape[0])
        y, n_trials = self.family_.check_y(y, self._trials(n_trials, X.shape[0]))
        return make_data(X, y, G, n_trials=n_trials, fit_intercept=self.fit_intercept)

    def _design(self, X, gate_X) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "params_")
        check_2d(X, "X")
        X = validate_inputs(self, X, reset=False, dtype=float)
        G = self._gate_array(X, gate_X, fitting=False)
        data = make_data(X, np.zeros(X.shape[0]), G, fit_intercept=self.fit_intercept)
        return data.X, data.gate_X

    def _encode_y(self, y, n):
        y = named(lambda: np.asarray(y), "y")
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {y.shape}")
        if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity")
        return y

    def _trials(self, n_trials, n):
        return n_trials

    # ---------------------------------------------------------------- inference
    def loglik_per_sample(self, X, y, gate_X=None, n_trials=None) -> np.ndarray:
        """Per-sample log-likelihood ``log p(y_i | x_i)`` in nats, shape (n,).

        Not called ``score_samples``: scikit-learn reserves that name for density estimators,
        whose score is a function of ``X`` alone; a mixture of experts is a conditional model
        ``p(y | x)`` and needs ``y``.
        """
        data = self._data(X, y, gate_X, n_trials)
        return logsumexp(joint_log_prob(self.family_, data, self.params_), axis=1)

    def loglik(self, X, y, gate_X=None, n_trials=None) -> float:
        """Total log-likelihood in nats (every constant included)."""
        return float(np.sum(self.loglik_per_sample(X, y, gate_X, n_trials)))

    def responsibilities(self, X, y, gate_X=None, n_trials=None) -> np.ndarray:
        """Posterior expert probabilities ``P(z_i = k | x_i, y_i)``, shape (n, K)."""
        data = self._data(X, y, gate_X, n_trials)
        return e_step(self.family_, data, self.params_)[0]

    def gate_proba(self, gate_X) -> np.ndarray:
        """Mixing weights ``pi_k(g_i)``, shape (n, K), for gate covariates ``gate_X``."""
        check_is_fitted(self, "params_")
        n_in = self.n_features_in_ if self._gate_uses_X else self.n_gate_features_in_
        check_2d(gate_X, "gate_X")
        G = named(lambda: check_array(gate_X, dtype=float, ensure_min_features=0,
                                      input_name="gate_X"), "gate_X")
        if G.shape[1] != n_in:
            raise ValueError(f"gate_X has {G.shape[1]} features, but the gate expects {n_in}")
        design = make_data(G, np.zeros(G.shape[0]), None, fit_intercept=self.fit_intercept).gate_X
        return np.exp(gate_log_proba(design, self.params_.gate))

    def n_parameters(self) -> int:
        """Number of free parameters (gate, experts and variances)."""
        check_is_fitted(self, "params_")
        K, q = self.params_.gate.shape
        return (K - 1) * q + self.family_.n_free_params(K, self.params_.coef.shape[-1])

    def aic(self, X, y, gate_X=None, n_trials=None) -> float:
        """Akaike information criterion ``-2 loglik + 2 k`` on the given data (lower is better)."""
        return -2 * self.loglik(X, y, gate_X, n_trials) + 2 * self.n_parameters()

    def bic(self, X, y, gate_X=None, n_trials=None) -> float:
        """Bayesian information criterion ``-2 loglik + k log n`` (lower is better)."""
        n = np.asarray(X).shape[0]
        return -2 * self.loglik(X, y, gate_X, n_trials) + self.n_parameters() * np.log(n)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
