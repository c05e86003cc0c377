"""Tests of moe_lib.mirror.expfam: the complete data as an exponential family.

Every property is checked against a computation that shares no code with the one under test: the
E-step and joint densities of moe_lib.model, the gradient of moe_lib.steps, closed-form moments,
enumeration of the outcomes and finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from _mirror_cases import CASES, GENERAL, make_instance

from moe_lib import e_step, joint_log_prob, make_data, mirror, objective_gradient


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
    """A_x = lse_k(g^T w_k) (general families); sp(u) + a^2/2 or sp(u) + sp(a) (symmetric)."""
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
def test_layout_tiles_the_natural_parameters(case):
    """The blocks of natural_layout are contiguous, in order, and cover theta_x exactly."""
    family, data, params = make_instance(case, 2, n=10)
    K = CASES[case][1]
    layout = mirror.natural_layout(family, data, K)
    start = 0
    for block, shape in layout.values():
        assert block.start == start and block.stop - block.start == int(np.prod(shape))
        start = block.stop
    assert start == mirror.natural_parameters(family, data, params).shape[1]
    assert mirror.sufficient_statistics(family, data, K).shape == (data.n_samples, K, start)


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
    """sum_x J_x^T grad L_x = -grad loglik (moe_lib.steps.objective_gradient, alpha=0)."""
    family, data, params = make_instance(case, 6)
    g_nat = mirror.loss_gradient(family, data, params)
    ours = mirror.free_gradient_from_natural(family, data, params, g_nat)
    theirs = objective_gradient(family, data, params)[0]
    np.testing.assert_allclose(ours, -theirs, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("case", GENERAL)
def test_any_gate_row_zero_is_accepted(case):
    """Natural parameters exist for every gate; shifting all gate rows by one vector is invisible
    to the law, so the complete-data density does not change."""
    family, data, params = make_instance(case, 16, n=25)
    shift = np.random.default_rng(16).standard_normal(params.gate.shape[1])
    shifted = params.replace(gate=params.gate + shift)
    np.testing.assert_allclose(
        mirror.complete_data_log_density(family, data, shifted),
        mirror.complete_data_log_density(family, data, params),
        rtol=0,
        atol=1e-12,
    )


def test_invalid_inputs_raise_clear_errors():
    family, data, params = make_instance("linear-K2", 14, n=20)
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


def test_layout_and_gradient_arguments_are_checked():
    family, data, params = make_instance("bernoulli", 14, n=20)
    with pytest.raises(ValueError, match="n_experts"):
        mirror.natural_layout(family, data, 0)
    with pytest.raises(TypeError, match="n_experts"):
        mirror.sufficient_statistics(family, data, 2.0)
    sym, sdata, _ = make_instance("sym-logistic", 14, n=20)
    with pytest.raises(ValueError, match="exactly 2 experts"):
        mirror.natural_layout(sym, sdata, 3)
    with pytest.raises(ValueError, match="grad_natural"):
        mirror.free_gradient_from_natural(family, data, params, np.zeros((20, 3)))
    with pytest.raises(TypeError, match="params must be a MoEParams"):
        mirror.natural_parameters(family, data, {"gate": params.gate})
    with pytest.raises(ValueError, match="finite natural parameters"):
        mirror.mean_parameters(family, data, np.full((20, 4), np.nan))
