"""The scikit-learn estimator for mixtures of logistic experts (Bernoulli, binomial, softmax)."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from moe_lib.estimators._base import (
    BaseMixtureOfExperts,
    check_2d,
    check_lengths,
    validate_inputs,
)
from moe_lib.experts import LogisticExperts, MultinomialExperts
from moe_lib.gate import gate_log_proba


class MixtureOfLogisticExperts(ClassifierMixin, BaseMixtureOfExperts):
    """Mixture of logistic experts with a softmax gate.

    Binary labels give Bernoulli experts; counts with ``n_trials`` give binomial experts; C >= 3
    classes give multinomial (softmax) experts with class 0 (the first of ``classes_``) as
    reference. Parameters are those of :class:`MixtureOfLinearExperts`; here ``alpha`` penalises
    the gate's and the experts' coefficients (intercepts excluded). The default ``alpha = 0`` is
    the maximum-likelihood fit: when the labels are separable no maximum exists, and the run-off
    is detected, stopped and reported by a ``ConvergenceWarning`` that suggests ``alpha > 0``.

    Attributes
    ----------
    classes_ : ndarray of shape (C,)
    coef_ : ndarray of shape (K, p), or (K, C, p) for C >= 3 classes
    intercept_ : ndarray of shape (K,), or (K, C)
    gate_coef_, gate_intercept_, loglik_, loglik_history_, objective_history_, n_iter_,
    passes_, converged_, init_objectives_, fit_messages_, params_ :
        As in :class:`MixtureOfLinearExperts`.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import MixtureOfLogisticExperts
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = np.where(X[:, 0] > 0, X[:, 1] > 0, X[:, 1] < 0).astype(int)  # an XOR of two signs
    >>> clf = MixtureOfLogisticExperts(n_experts=2, alpha=0.1, random_state=0).fit(X, y)
    >>> clf.coef_.shape, bool(clf.score(X, y) > 0.9)
    ((2, 2), True)
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
        check_2d(X, "X")
        check_lengths(X, y)
        if n_trials is None:
            X, y = validate_inputs(self, X, y, dtype=float)
            try:
                check_classification_targets(y)
            except ValueError as err:
                raise ValueError(
                    "y must hold class labels (integers or strings; counts with n_trials): "
                    f"{err}"
                ) from err
            self.classes_, y_enc = np.unique(y, return_inverse=True)
            C = self.classes_.size
            if C < 2:
                raise ValueError(
                    "y has only one class: a classifier needs at least 2 classes to train"
                )
            family = LogisticExperts() if C == 2 else MultinomialExperts(C)
            self.binomial_ = False
        else:
            X, y = validate_inputs(self, X, y, dtype=float, y_numeric=True)
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

    def score(self, X, y, sample_weight=None, gate_X=None) -> float:
        """Mean accuracy of :meth:`predict` on class labels (scikit-learn's classifier score).

        A model fitted on binomial counts predicts success probabilities, not labels: comparing
        0/1 predictions with counts is meaningless, so ``score`` raises there; use
        :meth:`loglik` (or :meth:`loglik_per_sample`) with ``n_trials``.
        """
        check_is_fitted(self, "params_")
        check_lengths(X, y)
        if self.binomial_:
            raise ValueError(
                "score compares predicted labels with y, but this model was fitted on binomial "
                "counts (n_trials): use loglik(X, y, n_trials=...) or loglik_per_sample instead"
            )
        if gate_X is None:
            return super().score(X, y, sample_weight=sample_weight)
        pred = self.predict(X, gate_X=gate_X)
        return float(np.average(pred == np.asarray(y), weights=sample_weight))
