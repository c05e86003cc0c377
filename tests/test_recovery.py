"""EM recovers the true parameters of well-separated synthetic mixtures, up to label permutation.

Each case draws ``X ~ N(0, I_2)``, samples ``(y, z)`` from fixed true parameters (intercepts in
both designs), fits by exact EM with a few seeded random starts (:func:`moe_lib.fit_moe`), and
matches fitted experts to true ones by the permutation of labels that minimises the coefficient
error (the gate is re-referenced to the new expert 0).

Thresholds, justified by the sampling error
-------------------------------------------
The maximum-likelihood estimate is asymptotically ``N(theta*, I^-1)`` with ``I`` the observed
information (the negative Hessian of the log-likelihood in free coordinates, computed here by
central differences of the analytic gradient at the fit). So each case asserts

1. every free coordinate lies within ``Z_MAX = 5`` standard errors of the truth: for the <= 22
   coordinates of a case a false alarm has probability below ``22 * 5.7e-7 ~ 1e-5``;
2. per block (gate coefficients, expert coefficients, and ``log sigma`` for linear experts) the
   relative error ``||hat - true|| / ||true||`` (for ``log sigma``: ``||hat - true||``, i.e. the
   relative error of ``sigma``) is below a stated threshold, and that threshold is at least 4 times
   the block's root-mean-square sampling error ``sqrt(trace I^-1_block) / ||true||`` (asserted too:
   a threshold may not be tighter than the sampling error allows; a Gaussian error exceeds 4 times
   its RMS with probability 6e-5 in one dimension, less when it is spread over more directions);
3. the fit converged, without warnings, and its log-likelihood is at least that of the truth (the
   MLE beats the truth on its own sample; a local maximum typically does not).

``pytest -s`` prints the measured errors, RMS errors and largest ``|z|`` of each case.

A trap the Bernoulli case avoids: with experts ``+beta`` and ``-beta`` and a gate with score
``a``, ``P(y=1|x) = sig(a) sig(b) + sig(-a) sig(-b)`` with ``b = x^T beta`` is symmetric in ``a``
and ``b``, so a gate on ``x1`` with experts on ``x2`` has the same likelihood as a gate on ``x2``
with experts on ``x1``: such a "truth" is not identifiable, and EM (correctly) finds the other
one. The true experts below are therefore not mirror images.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from moe_lib import (
    MoEParams,
    fit_moe,
    from_free,
    log_likelihood,
    make_data,
    objective_gradient,
    sample,
    to_free,
)
from moe_lib.experts import LinearExperts, LogisticExperts, MultinomialExperts

Z_MAX = 5.0
#: A block's threshold must be at least this many times its RMS sampling error.
RMS_FACTOR = 4.0


def canonical(params: MoEParams, perm: tuple[int, ...]) -> MoEParams:
    """Relabel experts by ``perm`` (new k = old perm[k]); re-reference the gate to new expert 0."""
    perm = list(perm)
    gate = params.gate[perm] - params.gate[perm[0]]
    sigma = None if params.sigma is None else params.sigma[perm]
    return MoEParams(gate, params.coef[perm], sigma)


def best_permutation(fit: MoEParams, truth: MoEParams) -> MoEParams:
    """The relabelling of ``truth`` closest to ``fit`` in expert coefficients."""
    K = truth.n_experts
    perms = list(itertools.permutations(range(K)))
    errs = [np.sum((fit.coef - truth.coef[list(p)]) ** 2) for p in perms]
    return canonical(truth, perms[int(np.argmin(errs))])


def observed_information(family, data, params: MoEParams, h: float = 1e-5) -> np.ndarray:
    """Negative Hessian of the log-likelihood in free coordinates (central differences)."""
    v = to_free(family, params)
    H = np.empty((v.size, v.size))
    for j in range(v.size):
        e = np.zeros(v.size)
        e[j] = h
        gp = objective_gradient(family, data, from_free(family, v + e, params))[0]
        gm = objective_gradient(family, data, from_free(family, v - e, params))[0]
        H[:, j] = (gp - gm) / (2 * h)
    return -0.5 * (H + H.T)


def blocks(family, truth: MoEParams, q: int) -> dict[str, slice]:
    """Slices of the free vector: gate, expert coefficients, log sigma (linear experts)."""
    K = truth.n_experts
    m_gate = (K - 1) * q
    n_free = to_free(family, truth).size
    n_sigma = K if truth.sigma is not None else 0
    out = {"gate": slice(0, m_gate), "experts": slice(m_gate, n_free - n_sigma)}
    if n_sigma:
        out["log_sigma"] = slice(n_free - n_sigma, n_free)
    return out


def fit_and_compare(family, truth, n, seed, *, n_init, thresholds):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, truth.coef.shape[-1] - 1))
    design = make_data(X, np.zeros(n))
    y, _ = sample(family, truth, design.X, design.gate_X, rng)
    data = make_data(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a non-converged or suspicious fit fails the test
        best, _ = fit_moe(
            family, data, truth.n_experts, n_init=n_init, random_state=seed, tol=1e-8, max_iter=2000
        )
    assert best.converged
    fit = best.params
    assert best.loglik >= log_likelihood(family, data, truth)

    matched = best_permutation(fit, truth)
    v_fit, v_true = to_free(family, fit), to_free(family, matched)
    cov = np.linalg.inv(observed_information(family, data, fit))
    assert np.all(np.linalg.eigvalsh(cov) > 0), "observed information not positive definite"
    z = (v_fit - v_true) / np.sqrt(np.diag(cov))
    lines = [f"n={n}: max |z| = {np.max(np.abs(z)):.2f}"]
    for name, sl in blocks(family, truth, data.gate_X.shape[1]).items():
        norm = 1.0 if name == "log_sigma" else np.linalg.norm(v_true[sl])
        rel = np.linalg.norm(v_fit[sl] - v_true[sl]) / norm
        rms = np.sqrt(np.trace(cov[sl, sl])) / norm
        lines.append(f"{name}: error {rel:.4f} (rms {rms:.4f}, threshold {thresholds[name]})")
        assert rms * RMS_FACTOR <= thresholds[name], lines[-1]
        assert rel <= thresholds[name], lines[-1]
    print("; ".join(lines))
    assert np.max(np.abs(z)) <= Z_MAX, lines[0]
    return fit, matched


def test_linear_two_experts():
    truth = MoEParams(
        gate=np.array([[0.0, 0.0, 0.0], [0.3, 1.5, -1.0]]),
        coef=np.array([[1.0, 2.0, -1.0], [-1.0, -2.0, 1.5]]),
        sigma=np.array([0.3, 0.5]),
    )
    fit_and_compare(
        LinearExperts(),
        truth,
        n=3000,
        seed=0,
        n_init=3,
        thresholds={"gate": 0.25, "experts": 0.04, "log_sigma": 0.12},
    )


def test_linear_three_experts():
    truth = MoEParams(
        gate=np.array([[0.0, 0.0, 0.0], [0.2, 1.5, 0.0], [-0.2, -0.5, 1.5]]),
        coef=np.array([[0.0, 2.0, 0.0], [2.0, -1.0, 1.0], [-2.0, 0.0, -2.0]]),
        sigma=np.array([0.3, 0.4, 0.5]),
    )
    fit_and_compare(
        LinearExperts(),
        truth,
        n=4000,
        seed=1,
        n_init=4,
        thresholds={"gate": 0.3, "experts": 0.05, "log_sigma": 0.17},
    )


def test_logistic_two_experts():
    truth = MoEParams(
        gate=np.array([[0.0, 0.0, 0.0], [0.5, 2.5, 0.0]]),
        coef=np.array([[1.5, 0.0, 3.0], [-1.0, -3.0, -2.0]]),
    )
    fit_and_compare(
        LogisticExperts(),
        truth,
        n=8000,
        seed=2,
        n_init=3,
        thresholds={"gate": 0.25, "experts": 0.45},
    )


def test_multinomial_two_experts():
    coef = np.zeros((2, 3, 3))
    coef[0, 1] = [1.0, 3.0, 0.0]
    coef[0, 2] = [-1.0, 0.0, 3.0]
    coef[1, 1] = [0.0, 0.0, 3.0]
    coef[1, 2] = [1.0, -3.0, 0.0]
    truth = MoEParams(gate=np.array([[0.0, 0.0, 0.0], [0.0, 2.0, -1.0]]), coef=coef)
    fit_and_compare(
        MultinomialExperts(3),
        truth,
        n=3000,
        seed=2,
        n_init=3,
        thresholds={"gate": 0.5, "experts": 0.6},
    )


@pytest.mark.parametrize("perm", list(itertools.permutations(range(3))))
def test_best_permutation_undoes_relabelling(perm):
    """The matching helper itself: relabelling the truth and matching it back is the identity."""
    rng = np.random.default_rng(0)
    gate = rng.standard_normal((3, 2))
    gate[0] = 0
    truth = MoEParams(gate, rng.standard_normal((3, 2)), np.array([0.1, 0.2, 0.3]))
    shuffled = canonical(truth, perm)
    back = best_permutation(truth, shuffled)
    np.testing.assert_allclose(back.coef, truth.coef)
    np.testing.assert_allclose(back.gate, truth.gate, atol=1e-15)
    np.testing.assert_allclose(back.sigma, truth.sigma)
