"""Tests of moe_lib.mirror: the exponential-family view of the complete data and the MD step.

Every property is checked against a computation that does not share code with the one under
test: the EM step of moe_lib.algorithms (its own M-step solvers), the E-step and joint densities of
moe_lib.model, direct KL divergences, finite differences and numerical quadrature.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import expit

from moe_lib import mirror
from moe_lib.algorithms import em_step, from_free, objective_gradient, to_free
from moe_lib.experts import (
    LinearExperts,
    LogisticExperts,
    MultinomialExperts,
    SymmetricLinearExperts,
    SymmetricLogisticExperts,
)
from moe_lib.model import (
    MoEParams,
    e_step,
    joint_log_prob,
    log_likelihood,
    make_data,
    objective,
    penalty,
    random_params,
    sample,
)

#: name -> (family factory, number of experts, binomial trial range or None, symmetric?)
CASES = {
    "linear-K2": (LinearExperts, 2, None, False),
    "linear-K3": (LinearExperts, 3, None, False),
    "bernoulli": (LogisticExperts, 2, None, False),
    "binomial": (LogisticExperts, 2, (3, 5), False),
    "multinomial-C3": (lambda: MultinomialExperts(3), 2, None, False),
    "sym-linear": (SymmetricLinearExperts, 2, None, True),
    "sym-logistic": (SymmetricLogisticExperts, 2, None, True),
}
GENERAL = [c for c, v in CASES.items() if not v[3]]
SYMMETRIC = [c for c, v in CASES.items() if v[3]]


def make_instance(case: str, seed: int, n: int = 150, d: int = 2, scale: float = 0.7):
    """Data sampled from random parameters, and an independent random start ``theta_t``.

    General families get intercepts (``fit_intercept=True``); the symmetric models none (the
    digest's convention ``x ~ N(0, I)``).
    """
    factory, K, trials, symmetric = CASES[case]
    family = factory()
    rng = np.random.default_rng(seed)
    raw = rng.standard_normal((n, d))
    data_X = raw if symmetric else np.hstack([np.ones((n, 1)), raw])
    m = None if trials is None else rng.integers(trials[0], trials[1] + 1, size=n)
    p = data_X.shape[1]
    truth = random_params(family, K, p, p, rng, scale=scale)
    y, _ = sample(family, truth, data_X, data_X, rng, n_trials=m)
    data = make_data(raw, y, n_trials=m, fit_intercept=not symmetric)
    start = random_params(family, K, p, p, rng, scale=scale)
    if family.has_sigma:
        start = start.replace(sigma=np.exp(0.3 * rng.standard_normal(K)))
    return family, data, start


def other_params(family, params: MoEParams, rng, size: float = 0.5) -> MoEParams:
    """A random realisable neighbour of ``params`` (moved in the free coordinates)."""
    v = to_free(family, params)
    return from_free(family, v + size * rng.standard_normal(v.size), params)


def max_param_diff(a: MoEParams, b: MoEParams) -> float:
    diffs = [np.max(np.abs(a.gate - b.gate)), np.max(np.abs(a.coef - b.coef))]
    if a.sigma is not None:
        diffs.append(np.max(np.abs(a.sigma - b.sigma)))
    return float(max(diffs))


# --------------------------------------------------------------------------------------------
# The exponential family
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_complete_data_density_matches_model(case):
    """h exp(<T, theta_x> - A_x) is the model's joint density pi_k p(y | x, k), for every k."""
    family, data, params = make_instance(case, 0)
    ours = mirror.complete_data_log_density(family, data, params)
    theirs = joint_log_prob(family, data, params)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-11)
    post = mirror.complete_data_posterior(family, data, params)
    np.testing.assert_allclose(post, e_step(family, data, params)[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_log_partition_at_realised_parameters(case):
    """Digest 9.1 item 10: A_x = lse_k(g^T w_k) (general); sp(u) + a^2/2 or sp(u) + sp(a)."""
    family, data, params = make_instance(case, 1)
    A = mirror.log_partition(family, data, params)
    u = data.gate_X @ params.gate.T
    if case in GENERAL:
        umax = u.max(axis=1)
        expected = umax + np.log(np.sum(np.exp(u - umax[:, None]), axis=1))
    else:
        a = data.X @ params.coef[1]
        expert_part = 0.5 * a**2 if case == "sym-linear" else np.log1p(np.exp(a))
        expected = np.log1p(np.exp(u[:, 1])) + expert_part
    np.testing.assert_allclose(A, expected, rtol=1e-13, atol=1e-12)


def test_natural_parameters_linear_closed_form():
    """The linear layout: eta = u - a^2/(2 s^2) - log s, zeta = a/s^2, xi = -1/(2 s^2)."""
    family, data, params = make_instance("linear-K3", 2)
    theta = mirror.natural_parameters(family, data, params)
    layout = mirror.natural_layout(family, data, 3)
    assert list(layout) == ["eta", "zeta", "xi"] and theta.shape == (data.n_samples, 9)
    u, a, s = data.gate_X @ params.gate.T, data.X @ params.coef.T, params.sigma
    np.testing.assert_allclose(theta[:, layout["eta"][0]], u - a**2 / (2 * s**2) - np.log(s))
    np.testing.assert_allclose(theta[:, layout["zeta"][0]], a / s**2)
    np.testing.assert_allclose(theta[:, layout["xi"][0]], np.broadcast_to(-0.5 / s**2, a.shape))


@pytest.mark.parametrize("case", list(CASES))
def test_mean_parameters_are_finite_difference_gradients(case):
    """grad A_x by central differences in natural coordinates, at a non-realisable point."""
    family, data, params = make_instance(case, 3, n=20)
    rng = np.random.default_rng(3)
    theta = mirror.natural_parameters(family, data, params)
    theta = theta + 0.1 * rng.standard_normal(theta.shape)  # leave the realisable set
    if case.startswith("linear"):
        K = CASES[case][1]
        theta[:, 2 * K :] = -np.abs(theta[:, 2 * K :])  # keep xi < 0
    mean = mirror.mean_parameters(family, data, theta)
    fd = np.empty_like(theta)
    h = 1e-6
    for j in range(theta.shape[1]):
        e = np.zeros_like(theta)
        e[:, j] = h
        fd[:, j] = (
            mirror.log_partition(family, data, theta + e)
            - mirror.log_partition(family, data, theta - e)
        ) / (2 * h)
    np.testing.assert_allclose(mean, fd, rtol=0, atol=1e-8)


@pytest.mark.parametrize("case", ["bernoulli", "sym-logistic", "linear-K2"])
def test_mean_parameters_are_expected_statistics(case):
    """grad A_x = E[T(y, z)]: closed-form Gaussian moments, or enumeration of y in {0, 1}."""
    family, data, params = make_instance(case, 4, n=30)
    mean = mirror.mean_parameters(family, data, params)
    if case == "linear-K2":
        u = data.gate_X @ params.gate.T
        pi = np.exp(u) / np.exp(u).sum(axis=1, keepdims=True)
        mu = data.X @ params.coef.T
        expected = np.hstack([pi, pi * mu, pi * (mu**2 + params.sigma**2)])
    else:
        # Sum over y in {0, 1}: E[T] = sum_y sum_z p(y, z) T(y, z).
        expected = 0.0
        for y in (0.0, 1.0):
            d_y = make_data(data.X, np.full(data.n_samples, y), data.gate_X, fit_intercept=False)
            logp = mirror.complete_data_log_density(family, d_y, params)  # (n, Z)
            T = mirror.sufficient_statistics(family, d_y, 2)  # (n, Z, D)
            expected = expected + np.einsum("iz,izd->id", np.exp(logp), T)
    np.testing.assert_allclose(mean, expected, rtol=0, atol=1e-12)


def test_loss_gradient_is_finite_difference_of_incomplete_nll():
    """grad_{theta_x} L_x with L_x = A_x - log sum_z h exp<T, theta_x>, at a non-realised point."""
    family, data, params = make_instance("binomial", 5, n=15)
    rng = np.random.default_rng(5)
    theta = mirror.natural_parameters(family, data, params)
    theta = theta + 0.2 * rng.standard_normal(theta.shape)

    def nll(th):
        logp = mirror.complete_data_log_density(family, data, th)
        top = logp.max(axis=1)
        return -(top + np.log(np.sum(np.exp(logp - top[:, None]), axis=1)))

    grad = mirror.loss_gradient(family, data, theta)
    h = 1e-6
    for j in range(theta.shape[1]):
        e = np.zeros_like(theta)
        e[:, j] = h
        np.testing.assert_allclose(
            grad[:, j], (nll(theta + e) - nll(theta - e)) / (2 * h), rtol=0, atol=1e-8
        )


@pytest.mark.parametrize("case", list(CASES))
def test_chain_rule_gives_the_likelihood_gradient(case):
    """sum_x J_x^T grad L_x = -grad loglik (moe_lib.algorithms.objective_gradient, alpha=0)."""
    family, data, params = make_instance(case, 6)
    g_nat = mirror.loss_gradient(family, data, params)
    ours = mirror.free_gradient_from_natural(family, data, params, g_nat)
    theirs = objective_gradient(family, data, params)[0]
    np.testing.assert_allclose(ours, -theirs, rtol=1e-10, atol=1e-9)


# --------------------------------------------------------------------------------------------
# Bregman divergence = KL divergence
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_bregman_divergence_equals_complete_data_kl(case):
    """KL(p_theta || p_phi) = D_A(phi, theta), each computed its own way, to 1e-10 relative."""
    family, data, theta = make_instance(case, 7)
    phi = other_params(family, theta, np.random.default_rng(7))
    kl = mirror.complete_data_kl(family, data, theta, phi, per_sample=True)
    breg = mirror.bregman_divergence(family, data, phi, theta, per_sample=True)
    assert np.all(kl > 0)
    np.testing.assert_allclose(breg, kl, rtol=1e-10, atol=1e-13)
    total = mirror.complete_data_kl(family, data, theta, phi)
    assert abs(mirror.bregman_divergence(family, data, phi, theta) - total) <= 1e-10 * total


@settings(max_examples=14, deadline=None, derandomize=True)
@given(case=st.sampled_from(list(CASES)), seed=st.integers(0, 10_000))
def test_bregman_nonnegative_and_zero_on_the_diagonal(case, seed):
    family, data, theta = make_instance(case, seed, n=40)
    phi = other_params(family, theta, np.random.default_rng(seed), size=1.0)
    assert mirror.bregman_divergence(family, data, theta, theta) == 0.0
    d = mirror.bregman_divergence(family, data, phi, theta, per_sample=True)
    assert np.all(d >= -1e-13)
    assert np.sum(d) > 0
    # Redundancy of the statistics: shifting every eta_k by c leaves D unchanged (general).
    if case in GENERAL:
        K = CASES[case][1]
        a = mirror.natural_parameters(family, data, phi)
        b = mirror.natural_parameters(family, data, theta)
        a[:, :K] += 0.7
        d_shift = mirror.bregman_divergence(family, data, a, b, per_sample=True)
        np.testing.assert_allclose(d_shift, d, rtol=1e-9, atol=1e-12)


def test_gaussian_complete_data_kl_by_quadrature():
    """The chain-rule KL of linear experts against sum_z of a numerical integral over y."""
    family, data, p = make_instance("linear-K2", 8, n=3)
    q = other_params(family, p, np.random.default_rng(8))
    kl = mirror.complete_data_kl(family, data, p, q, per_sample=True)

    def log_joint(par, i, y, k):
        u = data.gate_X[i] @ par.gate.T
        log_pi = u[k] - (u.max() + np.log(np.sum(np.exp(u - u.max()))))
        mu, s = data.X[i] @ par.coef[k], par.sigma[k]
        return log_pi - 0.5 * ((y - mu) / s) ** 2 - np.log(s) - 0.5 * np.log(2 * np.pi)

    for i in range(3):
        total = 0.0
        for k in range(2):
            mu, s = data.X[i] @ p.coef[k], p.sigma[k]

            def f(y, i=i, k=k):
                lp, lq = log_joint(p, i, y, k), log_joint(q, i, y, k)
                return np.exp(lp) * (lp - lq)

            total += integrate.quad(f, mu - 15 * s, mu + 15 * s, epsabs=1e-13, epsrel=1e-12)[0]
        assert abs(total - kl[i]) < 1e-9


# --------------------------------------------------------------------------------------------
# The mirror-descent model
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["linear-K3", "binomial", "multinomial-C3", "sym-logistic"])
@pytest.mark.parametrize("alpha,step_size", [(0.0, 1.0), (0.5, 0.4)])
def test_md_objective_gradient_by_finite_differences(case, alpha, step_size):
    family, data, params_t = make_instance(case, 9, n=60)
    params = other_params(family, params_t, np.random.default_rng(9), size=0.3)
    v = to_free(family, params)
    g = mirror.md_objective_gradient(family, data, params, params_t, alpha, step_size)
    h = 1e-6
    fd = np.empty_like(v)
    for j in range(v.size):
        e = np.zeros_like(v)
        e[j] = h
        fp = mirror.md_objective(
            family, data, from_free(family, v + e, params), params_t, alpha, step_size
        )
        fm = mirror.md_objective(
            family, data, from_free(family, v - e, params), params_t, alpha, step_size
        )
        fd[j] = (fp - fm) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)


def _total_q(family, data, params, params_t):
    """Q(theta | theta_t) = sum_i sum_k r_ik log p(y_i, z=k | x_i; theta), from moe_lib.model."""
    resp = e_step(family, data, params_t)[0]
    return float(np.sum(resp * joint_log_prob(family, data, params)))


@pytest.mark.parametrize("case", list(CASES))
def test_md_objective_is_the_q_difference_and_the_exact_decrease(case):
    """Digest 4.3: md(theta) = Q(theta_t|theta_t) - Q(theta|theta_t) (+ penalty), and 2.6/4.5:
    L(theta) = L(theta_t) + md(theta) - sum_x KL(post_t || post_theta) <= L(theta_t) + md(theta)."""
    family, data, params_t = make_instance(case, 10)
    rng = np.random.default_rng(10)
    for size in (0.2, 1.0):
        params = other_params(family, params_t, rng, size=size)
        md = mirror.md_objective(family, data, params, params_t)
        q_t = _total_q(family, data, params_t, params_t)
        q_diff = q_t - _total_q(family, data, params, params_t)
        assert abs(md - q_diff) <= 1e-9 * max(1.0, abs(q_diff))
        md_pen = mirror.md_objective(family, data, params, params_t, alpha=0.5)
        assert abs(md_pen - md - penalty(family, data, params, 0.5)) <= 1e-9 * max(1.0, abs(md))
        r_t = e_step(family, data, params_t)[0]
        r = e_step(family, data, params)[0]
        kl_post = float(np.sum(r_t * (np.log(r_t) - np.log(r))))
        nll, nll_t = -log_likelihood(family, data, params), -log_likelihood(family, data, params_t)
        assert abs(nll - (nll_t + md - kl_post)) <= 1e-9 * max(1.0, abs(nll))
        assert nll <= nll_t + md + 1e-9


# --------------------------------------------------------------------------------------------
# EM step = unit mirror-descent step
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("case", list(CASES))
def test_unit_mirror_descent_step_equals_em_step(case, alpha):
    family, data, params = make_instance(case, 11)
    md, res = mirror.mirror_descent_step(family, data, params, alpha, 1.0, return_result=True)
    em = em_step(family, data, params, alpha)
    diff = max_param_diff(md, em)
    assert diff <= 1e-8, f"{case}, alpha={alpha}: max |MD - EM| over parameters = {diff:.2e}"
    assert res.grad_norm <= 1e-10
    # And the step really moved: it is not the start.
    assert max_param_diff(md, params) > 1e-2


@pytest.mark.parametrize("case", ["linear-K3", "multinomial-C3"])
def test_matrix_free_solver_path_equals_em_step(case, monkeypatch):
    """Above MAX_DENSE_HESSIAN free parameters the step uses trust-ncg with FD products."""
    monkeypatch.setattr(mirror, "MAX_DENSE_HESSIAN", 0)
    family, data, params = make_instance(case, 15)
    md, res = mirror.mirror_descent_step(family, data, params, 0.5, 1.0, return_result=True)
    diff = max_param_diff(md, em_step(family, data, params, 0.5))
    assert diff <= 1e-8, f"{case} (matrix-free): max |MD - EM| over parameters = {diff:.2e}"
    assert res.grad_norm <= 1e-10


@pytest.mark.parametrize("case", ["linear-K3", "binomial", "multinomial-C3", "sym-linear"])
def test_small_steps_differ_from_em_and_still_descend(case):
    """eta < 1: L is 1-smooth relative to A, so any eta <= 1 decreases the penalised loss."""
    family, data, params = make_instance(case, 12, n=100)
    em = em_step(family, data, params, 0.5)
    start = objective(family, data, params, 0.5)
    previous = None
    for eta in (0.7, 0.3):
        md = mirror.mirror_descent_step(family, data, params, 0.5, eta)
        assert max_param_diff(md, em) > 1e-3
        gain = objective(family, data, md, 0.5) - start
        assert gain > 0, f"eta={eta}: the penalised log-likelihood fell by {-gain:.3g}"
        # The step minimises its own model: no random neighbour does better.
        val = mirror.md_objective(family, data, md, params, 0.5, eta)
        rng = np.random.default_rng(0)
        for _ in range(5):
            nb = other_params(family, md, rng, size=1e-3)
            assert mirror.md_objective(family, data, nb, params, 0.5, eta) >= val - 1e-10
        # Smaller steps move less (in Bregman divergence from the start).
        dist = mirror.bregman_divergence(family, data, md, params)
        if previous is not None:
            assert dist < previous
        previous = dist


@pytest.mark.parametrize("case", SYMMETRIC)
@pytest.mark.parametrize("eta", [1.0, 0.5])
def test_dual_form_of_the_symmetric_step(case, eta):
    """grad A(theta_{t+1}) = grad A(theta_t) - eta grad L(theta_t), L the mean NLL (Thm 5.1)."""
    family, data, params = make_instance(case, 13)
    new = mirror.mirror_descent_step(family, data, params, 0.0, eta)
    lhs = mirror.mirror_map_gradient(family, data, new)
    grad_mean_nll = -objective_gradient(family, data, params)[0] / data.n_samples
    rhs = mirror.mirror_map_gradient(family, data, params) - eta * grad_mean_nll
    np.testing.assert_allclose(lhs, rhs, rtol=0, atol=1e-12)
    # The closed forms of the digest: mean sig(u) g and mean a x (or sig(a) x).
    u, a = data.gate_X @ params.gate[1], data.X @ params.coef[1]
    second = a if case == "sym-linear" else expit(a)
    expected = np.concatenate([expit(u) @ data.gate_X, second @ data.X]) / data.n_samples
    np.testing.assert_allclose(
        mirror.mirror_map_gradient(family, data, params), expected, atol=1e-15
    )


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------
def test_invalid_inputs_raise_clear_errors():
    family, data, params = make_instance("linear-K2", 14, n=20)
    with pytest.raises(ValueError, match="step_size"):
        mirror.mirror_descent_step(family, data, params, step_size=0.0)
    with pytest.raises(ValueError, match="alpha"):
        mirror.md_objective(family, data, params, params, alpha=-1.0)
    with pytest.raises(ValueError, match="params.gate"):
        mirror.natural_parameters(family, data, params.replace(gate=np.zeros((2, 7))))
    with pytest.raises(ValueError, match="params.sigma"):
        mirror.natural_parameters(family, data, params.replace(sigma=np.array([1.0, -1.0])))
    with pytest.raises(TypeError, match="family"):
        mirror.log_partition("linear", data, params)
    with pytest.raises(TypeError, match="mirror_map_gradient"):
        mirror.mirror_map_gradient(family, data, params)
    theta = mirror.natural_parameters(family, data, params)
    bad = theta.copy()
    bad[:, 4:] = 1.0  # xi > 0
    with pytest.raises(ValueError, match="xi"):
        mirror.log_partition(family, data, bad)
    with pytest.raises(ValueError, match="natural parameters"):
        mirror.log_partition(family, data, theta[:, :5])
    sym, sdata, sparams = make_instance("sym-linear", 14, n=20)
    with pytest.raises(ValueError, match="tied"):
        mirror.natural_parameters(sym, sdata, sparams.replace(coef=np.ones_like(sparams.coef)))


def test_step_without_minimiser_raises():
    """Over-relaxed step (step_size 1.9) whose expert subproblem is unbounded: a clear error."""
    from moe_lib.experts import LinearExperts
    from moe_lib.model import add_intercept

    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 1))
    lin = LinearExperts()
    true = MoEParams(np.array([[0.0, 0.0], [0.0, 1.0]]), np.array([[0.5, 1.0], [-0.5, -1.0]]),
                     np.array([1.0, 1.0]))
    y, _ = sample(lin, true, add_intercept(x), add_intercept(x), rng)
    start = MoEParams(np.array([[0.0, 0.0], [0.3, 0.2]]), np.array([[1.0, 0.5], [-1.0, -0.5]]),
                      np.array([1.5, 1.5]))
    data = make_data(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="no minimiser"):
            mirror.mirror_descent_step(lin, data, start, 0.0, step_size=1.9)
        # The same start with a step that exists is fine.
        ok = mirror.mirror_descent_step(lin, data, start, 0.0, step_size=1.5)
    assert np.all(np.isfinite(ok.coef)) and np.max(np.abs(ok.coef)) < 1e3
