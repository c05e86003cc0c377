"""Shared helpers of the numerical tests: seeded random mixture-of-experts instances.

An *instance* is a family, a data set drawn from the model at random true parameters, and a random
start. Everything is a pure function of ``seed``, so tests are reproducible.

Family names
------------
``"linear"``
    Linear-Gaussian experts (one variance each).
``"logistic"``
    Bernoulli logistic experts.
``"binomial"``
    Logistic experts on binomial counts with trial counts drawn from 1..5 per sample.
``"multinomial"``
    Three-class softmax experts.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass

import numpy as np
import pytest

from moe_lib import MoEData, MoEParams, make_data, random_params, sample
from moe_lib.experts import ExpertFamily, LinearExperts, LogisticExperts, MultinomialExperts

FAMILY_NAMES = ("linear", "logistic", "binomial", "multinomial")

#: Largest number of trials of the binomial instances.
MAX_TRIALS = 5


def make_family(family_name: str) -> ExpertFamily:
    """The expert family called ``family_name`` (one of :data:`FAMILY_NAMES`)."""
    if family_name == "linear":
        return LinearExperts()
    if family_name in ("logistic", "binomial"):
        return LogisticExperts()
    if family_name == "multinomial":
        return MultinomialExperts(3)
    raise ValueError(f"family_name must be one of {FAMILY_NAMES}, got {family_name!r}")


@dataclass(frozen=True)
class Instance:
    """A drawn instance.

    Attributes
    ----------
    family : ExpertFamily
    data : MoEData
        Designs with intercept columns (gate design = expert design).
    truth : MoEParams
        The parameters the data were drawn from.
    start : MoEParams
        An independent random start (linear experts get random variances).
    z : ndarray of shape (n,)
        The latent expert labels.
    """

    family: ExpertFamily
    data: MoEData
    truth: MoEParams
    start: MoEParams
    z: np.ndarray


def draw_instance(
    family_name: str,
    K: int,
    n: int,
    d: int,
    seed: int,
    *,
    scale: float = 1.0,
    sigma: float = 0.5,
) -> Instance:
    """Draw an :class:`Instance`: ``X ~ N(0, I_d)``, true and start parameters ``scale * N(0, 1)``.

    Parameters
    ----------
    family_name : str
        One of :data:`FAMILY_NAMES`.
    K, n, d : int
        Experts, samples, covariates (an intercept is added to both designs).
    seed : int
    scale : float
        Scale of the random coefficients.
    sigma : float
        True noise standard deviation of linear experts.
    """
    if K < 1 or n < 1 or d < 0:
        raise ValueError(f"need K >= 1, n >= 1 and d >= 0, got K={K}, n={n}, d={d}")
    family = make_family(family_name)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    n_trials = rng.integers(1, MAX_TRIALS + 1, size=n) if family_name == "binomial" else None
    probe = make_data(X, np.zeros(n), n_trials=n_trials)
    p, q = probe.X.shape[1], probe.gate_X.shape[1]
    truth = random_params(family, K, p, q, rng, scale=scale, sigma=sigma)
    y, z = sample(family, truth, probe.X, probe.gate_X, rng, n_trials)
    data = make_data(X, y, n_trials=n_trials)
    start = random_params(family, K, p, q, rng, scale=scale)
    if family.has_sigma:
        start = start.replace(sigma=np.exp(rng.uniform(-1.0, 1.0, size=K)))
    return Instance(family, data, truth, start, z)


def make_instance(
    family_name: str, K: int, n: int, d: int, seed: int, alpha: float = 0.0
) -> tuple[ExpertFamily, MoEData, MoEParams]:
    """``(family, data, start params)`` of :func:`draw_instance` (default scales).

    ``alpha`` (the penalty the caller will use) is only validated: the instance does not depend
    on it, so the same ``seed`` gives the same instance for every ``alpha``.
    """
    if not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be finite and >= 0, got {alpha!r}")
    inst = draw_instance(family_name, K, n, d, seed)
    return inst.family, inst.data, inst.start


def params_close(a: MoEParams, b: MoEParams) -> float:
    """Largest absolute difference between two parameter sets of the same shapes."""
    diffs = [np.max(np.abs(a.gate - b.gate), initial=0.0), np.max(np.abs(a.coef - b.coef))]
    if a.sigma is not None or b.sigma is not None:
        diffs.append(np.max(np.abs(a.sigma - b.sigma)))
    return float(max(diffs))


def time_limit(seconds: float, reason: str = ""):
    """An autouse fixture that fails a test running longer than ``seconds`` (a hang fails, not
    stalls). Use as ``_time_limit = time_limit(60)`` at module level; ``reason`` is added to the
    error message."""

    @pytest.fixture(autouse=True)
    def _time_limit():
        def on_alarm(signum, frame):
            raise TimeoutError(f"test exceeded {seconds} s" + (f": {reason}" if reason else ""))

        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)

    return _time_limit
