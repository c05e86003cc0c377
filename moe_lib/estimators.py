"""scikit-learn estimators: :class:`MixtureOfLinearExperts` and :class:`MixtureOfLogisticExperts`.

Both fit ``p(y | x) = sum_k pi_k(g) p(y | x, z=k)`` with a softmax gate on gate covariates ``g``
(``gate_X``, by default the expert covariates ``X``) by exact EM (default), gradient EM or gradient
descent, all ascending the same penalised log-likelihood ``loglik - alpha/2 ||coefs||^2``.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from moe_lib._math import logsumexp
from moe_lib.algorithms import ALGORITHMS, fit_moe
from moe_lib.experts import ExpertFamily, LinearExperts, LogisticExperts, MultinomialExperts
from moe_lib.gating import gate_log_proba
from moe_lib.model import MoEData, MoEParams, e_step, joint_log_prob, make_data

_RESHAPE_HINT = (
    "Reshape your data either using array.reshape(-1, 1) if it has a single feature or "
    "array.reshape(1, -1) if it contains a single sample."
)


def _check_2d(A, name: str) -> None:
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


def _check_lengths(X, y) -> None:
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


class _BaseMixtureOfExperts(BaseEstimator):
    """Shared parameters, validation and the fit loop of both estimators."""

    def __init__(
        self,
        n_experts: int = 2,
        algorithm: str = "em",
        step_size: float | None = None,
        max_iter: int = 1000,
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
        self.tol = tol
        self.n_init = n_init
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.alpha = alpha

    # ---------------------------------------------------------------- validation
    def _check_hyperparameters(self) -> None:
        def is_int(v):
            return isinstance(v, numbers.Integral) and not isinstance(v, bool)

        def is_real(v):
            return isinstance(v, numbers.Real) and not isinstance(v, bool)

        if not is_int(self.n_experts) or self.n_experts < 2:
            raise ValueError(f"n_experts must be an integer >= 2, got {self.n_experts!r}")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}")
        if self.step_size is not None and not (
            is_real(self.step_size) and np.isfinite(self.step_size) and self.step_size > 0
        ):
            raise ValueError(
                f"step_size must be None or a finite number > 0, got {self.step_size!r}"
            )
        if not is_int(self.max_iter) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if not (is_real(self.tol) and np.isfinite(self.tol) and self.tol >= 0):
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        if not is_int(self.n_init) or self.n_init < 1:
            raise ValueError(f"n_init must be an integer >= 1, got {self.n_init!r}")
        if not (is_real(self.alpha) and np.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f"alpha must be a finite number >= 0, got {self.alpha!r}")
        if not isinstance(self.fit_intercept, bool | np.bool_):
            raise ValueError(f"fit_intercept must be True or False, got {self.fit_intercept!r}")
        rs = self.random_state
        if not (
            rs is None
            or isinstance(rs, np.random.Generator | np.random.RandomState)
            or (is_int(rs) and rs >= 0)
        ):
            raise ValueError(
                "random_state must be None, an integer >= 0, a numpy Generator or a RandomState, "
                f"got {rs!r}"
            )

    def _rng(self):
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            return np.random.default_rng(rs.randint(0, 2**31 - 1))
        return rs

    def _gate_array(self, X: np.ndarray, gate_X, *, fitting: bool) -> np.ndarray | None:
        """Validate ``gate_X``; ``None`` means the gate uses ``X`` (only if it did at fit time)."""
        if fitting:
            self._gate_uses_X = gate_X is None
        if gate_X is not None:
            _check_2d(gate_X, "gate_X")
        if gate_X is None:
            if not self._gate_uses_X:
                raise ValueError(
                    "gate_X is required: this model was fitted with a separate gate design"
                )
            return None
        if self._gate_uses_X and not fitting:
            raise ValueError("gate_X must be None: this model's gate was fitted on X")
        G = check_array(gate_X, dtype=float, ensure_min_features=0, input_name="gate_X")
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
        R = check_array(init_resp, dtype=float, input_name="init_resp")
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
                f"init_resp gives expert {int(empty[0])} no weight (its column sums to 0)"
            )
        return R

    def _check_init_params(self, init_params, data: MoEData, family: ExpertFamily):
        if init_params is None:
            return None
        if not isinstance(init_params, MoEParams):
            raise TypeError(
                f"init_params must be a moe_lib.MoEParams, got {type(init_params).__name__}"
            )
        K = self.n_experts
        want_gate = (K, data.gate_X.shape[1])
        want_coef = family.coef_shape(K, data.X.shape[1])
        if init_params.gate.shape != want_gate or init_params.coef.shape != want_coef:
            raise ValueError(
                f"init_params must have gate shape {want_gate} and coef shape {want_coef} "
                "(intercept columns first when fit_intercept=True), got "
                f"{init_params.gate.shape} and {init_params.coef.shape}"
            )
        if family.has_sigma and (
            init_params.sigma is None
            or init_params.sigma.shape != (K,)
            or np.any(~(init_params.sigma > 0))
            or not np.all(np.isfinite(init_params.sigma))
        ):
            raise ValueError(f"init_params.sigma must hold {K} finite positive standard deviations")
        if not (np.all(np.isfinite(init_params.gate)) and np.all(np.isfinite(init_params.coef))):
            raise ValueError("init_params must hold finite gate and coef values")
        if np.any(init_params.gate[0] != 0):
            raise ValueError(
                "init_params.gate row 0 must be zero: expert 0 is the gate's reference"
            )
        if init_params.coef.ndim == 3 and np.any(init_params.coef[:, 0, :] != 0):
            raise ValueError(
                "init_params.coef[:, 0, :] must be zero: class 0 is each multinomial expert's "
                "reference"
            )
        return init_params

    # ---------------------------------------------------------------- fitting
    def _fit_family(self, family, X, y, gate_X, n_trials, init_resp, init_params):
        n = X.shape[0]
        if self.n_experts > n:
            raise ValueError(
                f"n_experts={self.n_experts} must not exceed n_samples = {n}: each expert needs "
                "data"
            )
        data = make_data(X, y, gate_X, n_trials=n_trials, fit_intercept=self.fit_intercept)
        if self.alpha == 0 or not family.penalized:
            self._check_full_rank(
                data.X, "X", "" if not family.penalized else ", or use alpha > 0"
            )
        if self.alpha == 0:
            self._check_full_rank(data.gate_X, "gate_X (the gate design)", ", or use alpha > 0")
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
            tol=self.tol,
            n_init=self.n_init,
            random_state=self._rng(),
            init_resp=init_resp,
            init_params=init_params,
        )
        self.family_ = family
        self.params_ = best.params
        self.loglik_history_ = best.loglik_history
        self.objective_history_ = best.objective_history
        self.loglik_ = best.loglik
        self.n_iter_ = best.n_iter
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
        _check_2d(X, "X")
        X = validate_data(self, X, reset=False, dtype=float)
        G = self._gate_array(X, gate_X, fitting=False)
        y = self._encode_y(y, X.shape[0])
        y, n_trials = self.family_.check_y(y, self._trials(n_trials, X.shape[0]))
        return make_data(X, y, G, n_trials=n_trials, fit_intercept=self.fit_intercept)

    def _design(self, X, gate_X) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "params_")
        _check_2d(X, "X")
        X = validate_data(self, X, reset=False, dtype=float)
        G = self._gate_array(X, gate_X, fitting=False)
        data = make_data(X, np.zeros(X.shape[0]), G, fit_intercept=self.fit_intercept)
        return data.X, data.gate_X

    def _encode_y(self, y, n):
        y = np.asarray(y)
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {y.shape}")
        if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
            raise ValueError("Input y contains NaN or infinity")
        return y

    def _trials(self, n_trials, n):
        return n_trials

    # ---------------------------------------------------------------- inference
    def score_samples(self, X, y, gate_X=None, n_trials=None) -> np.ndarray:
        """Per-sample log-likelihood ``log p(y_i | x_i)`` in nats, shape (n,)."""
        data = self._data(X, y, gate_X, n_trials)
        return logsumexp(joint_log_prob(self.family_, data, self.params_), axis=1)

    def loglik(self, X, y, gate_X=None, n_trials=None) -> float:
        """Total log-likelihood in nats (every constant included)."""
        return float(np.sum(self.score_samples(X, y, gate_X, n_trials)))

    def responsibilities(self, X, y, gate_X=None, n_trials=None) -> np.ndarray:
        """Posterior expert probabilities ``P(z_i = k | x_i, y_i)``, shape (n, K)."""
        data = self._data(X, y, gate_X, n_trials)
        return e_step(self.family_, data, self.params_)[0]

    def gate_proba(self, gate_X) -> np.ndarray:
        """Mixing weights ``pi_k(g_i)``, shape (n, K), for gate covariates ``gate_X``."""
        check_is_fitted(self, "params_")
        n_in = self.n_features_in_ if self._gate_uses_X else self.n_gate_features_in_
        _check_2d(gate_X, "gate_X")
        G = check_array(gate_X, dtype=float, ensure_min_features=0, input_name="gate_X")
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


class MixtureOfLinearExperts(RegressorMixin, _BaseMixtureOfExperts):
    """Mixture of linear-Gaussian experts with a softmax gate.

    ``y | x, z=k ~ N(x^T beta_k + b_k, sigma_k^2)``, ``P(z=k | g) = softmax_k(g^T w_k + c_k)`` with
    expert 0 as the gate's reference (``w_0 = 0``, ``c_0 = 0``).

    Parameters
    ----------
    n_experts : int, default=2
        Number of experts K >= 2.
    algorithm : {"em", "gradient_em", "gd"}, default="em"
        Exact EM; one gradient step on Q per iteration with per-block curvature steps; or gradient
        ascent on the log-likelihood.
    step_size : float, optional
        Gradient methods only. For "gd" the step on the per-sample objective (default: the inverse
        of the largest block curvature bound, recomputed each iteration); for "gradient_em" a
        multiplier of the per-block steps (default 1).
    max_iter : int, default=1000
        Bound on iterations (M-steps).
    tol : float, default=1e-10
        Stop when the last increase of the objective, and its Aitken extrapolation, are below
        ``tol * (1 + |objective|)`` (see :func:`moe_lib.algorithms.has_converged`).
    n_init : int, default=1
        Seeded random starts (random responsibilities); the best objective is kept. Ignored
        when ``fit`` is given ``init_resp`` or ``init_params`` (one given start).
    random_state : int, numpy Generator or None
        Seed of the random starts.
    fit_intercept : bool, default=True
        Add an (unpenalised) intercept to the experts and to the gate.
    alpha : float, default=0.0
        L2 penalty on the gate's coefficients (intercepts excluded). Linear experts are never
        penalised; ``alpha`` exists here so that a gate that separates can be regularised.

    Attributes
    ----------
    coef_ : ndarray of shape (K, p)
    intercept_ : ndarray of shape (K,)
    sigma_ : ndarray of shape (K,)
        Noise standard deviations (floored at ``sqrt(1e-8 var(y))``).
    gate_coef_ : ndarray of shape (K, q)
        Row 0 is zero (reference expert).
    gate_intercept_ : ndarray of shape (K,)
    loglik_ : float
        Total log-likelihood at the fit, nats.
    loglik_history_, objective_history_ : ndarray of shape (n_iter_,)
        Log-likelihood and penalised objective after each M-step.
    n_iter_ : int
    converged_ : bool
    init_objectives_ : ndarray of shape (n_init,)
        Final objective of every start.
    params_ : MoEParams
        The parameters on the designs (intercept column first), for the low-level API.
    """

    def fit(self, X, y, gate_X=None, init_resp=None, init_params=None):
        """Fit the mixture.

        Parameters
        ----------
        X : array-like of shape (n, p)
            Expert covariates.
        y : array-like of shape (n,)
            Responses.
        gate_X : array-like of shape (n, q), optional
            Gate covariates; ``None`` uses ``X``; shape (n, 0) gives constant mixing weights.
        init_resp : array-like of shape (n, K), optional
            Start from these responsibilities: the first iteration is an M-step from them.
        init_params : MoEParams, optional
            Start from these parameters (on the designs, intercept column first).
        """
        self._check_hyperparameters()
        _check_2d(X, "X")
        _check_lengths(X, y)
        X, y = validate_data(self, X, y, dtype=float, y_numeric=True)
        if not np.isfinite(np.var(y)):
            raise ValueError("y is too large in magnitude: its variance overflows; rescale y")
        G = self._gate_array(X, gate_X, fitting=True)
        family = LinearExperts()
        self._fit_family(family, X, y, G, None, init_resp, init_params)
        self.sigma_ = self.params_.sigma.copy()
        return self

    def predict(self, X, gate_X=None) -> np.ndarray:
        """Conditional mean ``E[y | x] = sum_k pi_k(g) (x^T beta_k + b_k)``, shape (n,)."""
        Xd, Gd = self._design(X, gate_X)
        pi = np.exp(gate_log_proba(Gd, self.params_.gate))
        return np.sum(pi * self.family_.expert_mean(Xd, self.params_.coef), axis=1)


class MixtureOfLogisticExperts(ClassifierMixin, _BaseMixtureOfExperts):
    """Mixture of logistic experts with a softmax gate.

    Binary labels give Bernoulli experts; counts with ``n_trials`` give binomial experts; C >= 3
    classes give multinomial (softmax) experts with class 0 (the first of ``classes_``) as
    reference. Parameters are those of :class:`MixtureOfLinearExperts`; here ``alpha`` penalises
    the gate's and the experts' coefficients (intercepts excluded).

    Attributes
    ----------
    classes_ : ndarray of shape (C,)
    coef_ : ndarray of shape (K, p), or (K, C, p) for C >= 3 classes
    intercept_ : ndarray of shape (K,), or (K, C)
    gate_coef_, gate_intercept_, loglik_, loglik_history_, objective_history_, n_iter_,
    converged_, init_objectives_, params_ :
        As in :class:`MixtureOfLinearExperts`.
    """

    def fit(self, X, y, n_trials=None, gate_X=None, init_resp=None, init_params=None):
        """Fit the mixture.

        Parameters
        ----------
        X : array-like of shape (n, p)
        y : array-like of shape (n,)
            Class labels (2 classes: Bernoulli experts; >= 3: multinomial experts), or counts
            ``0 <= y <= n_trials`` when ``n_trials`` is given (not all 0, nor all equal to
            ``n_trials``: the binomial analogue of a single class).
        n_trials : int or array-like of shape (n,), optional
            Binomial trial counts.
        gate_X, init_resp, init_params :
            As in :meth:`MixtureOfLinearExperts.fit`.
        """
        self._check_hyperparameters()
        _check_2d(X, "X")
        _check_lengths(X, y)
        if n_trials is None:
            X, y = validate_data(self, X, y, dtype=float)
            check_classification_targets(y)
            self.classes_, y_enc = np.unique(y, return_inverse=True)
            C = self.classes_.size
            if C < 2:
                raise ValueError(
                    "y has only one class: a classifier needs at least 2 classes to train"
                )
            family = LogisticExperts() if C == 2 else MultinomialExperts(C)
            self.binomial_ = False
        else:
            X, y = validate_data(self, X, y, dtype=float, y_numeric=True)
            self.classes_ = np.array([0, 1])
            family = LogisticExperts()
            y_enc = y
            self.binomial_ = True
        G = self._gate_array(X, gate_X, fitting=True)
        y_enc, trials = family.check_y(y_enc, n_trials)
        if trials is not None and (np.all(y_enc == 0) or np.all(y_enc == trials)):
            raise ValueError(
                "y has only one outcome: every count is "
                + ("0" if np.all(y_enc == 0) else "equal to n_trials")
                + ", so the success probability's maximum-likelihood estimate is 0 or 1 and the "
                "logistic intercepts are infinite"
            )
        self._fit_family(family, X, y_enc, G, trials, init_resp, init_params)
        return self

    def _encode_y(self, y, n):
        y = super()._encode_y(y, n)
        if self.binomial_:
            return y
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, self.classes_.size - 1)
        if not np.all(self.classes_[idx] == y):
            raise ValueError(f"y holds labels not seen in fit; known classes: {self.classes_}")
        return idx

    def _trials(self, n_trials, n):
        if self.binomial_ and n_trials is None:
            raise ValueError("n_trials is required: this model was fitted on binomial counts")
        if not self.binomial_ and n_trials is not None:
            raise ValueError("n_trials must be None: this model was fitted on class labels")
        return n_trials

    def predict_proba(self, X, gate_X=None) -> np.ndarray:
        """Mixture class probabilities ``sum_k pi_k(g) P(y = c | x, z=k)``, shape (n, C).

        For binomial experts, column 1 is the success probability of one trial.
        """
        Xd, Gd = self._design(X, gate_X)
        pi = np.exp(gate_log_proba(Gd, self.params_.gate))
        mean = self.family_.expert_mean(Xd, self.params_.coef)
        if mean.ndim == 3:
            return np.einsum("ik,ikc->ic", pi, mean)
        p1 = np.sum(pi * mean, axis=1)
        return np.column_stack([1 - p1, p1])

    def predict(self, X, gate_X=None) -> np.ndarray:
        """Most probable label (for binomial experts: the more likely outcome of one trial)."""
        proba = self.predict_proba(X, gate_X)
        return self.classes_[np.argmax(proba, axis=1)]
