"""Tests for moe_lib.symmetric.model: sampling and instances, the closed-form posterior,
log-likelihood and gradient against the generic machinery and finite differences, the symmetries
of the two models and the bridges to the generic parameters."""

from __future__ import annotations

import numpy as np
import pytest
from _symmetric_helpers import (
    FAMILIES,
    KINDS,
    fd_gradient,
    generic,
    grad_theta,
    instance,
    loss_theta,
)
from scipy.special import expit

from moe_lib import symmetric as S
from moe_lib.model import e_step, log_likelihood
from moe_lib.params import MoEParams
from moe_lib.steps import objective_gradient


@pytest.mark.parametrize("kind", KINDS)
def test_posterior_loglik_gradient_equal_generic(kind):
    for seed in range(5):
        X, y, w, beta, *_ = instance(kind, seed)
        fam, data, params = generic(kind, X, y, w, beta)
        n = X.shape[0]
        resp, ll = e_step(fam, data, params)
        np.testing.assert_allclose(S.posterior(kind, X, y, w, beta), resp[:, 1], atol=1e-13)
        assert S.neg_loglik(kind, X, y, w, beta) == pytest.approx(-ll / n, rel=1e-12)
        assert S.neg_loglik(kind, X, y, w, beta) == pytest.approx(
            -log_likelihood(fam, data, params) / n, rel=1e-12
        )
        g_free, _ = objective_gradient(fam, data, params)
        np.testing.assert_allclose(
            np.concatenate(S.gradient(kind, X, y, w, beta)), -g_free / n, rtol=1e-10, atol=1e-13
        )


@pytest.mark.parametrize("kind", KINDS)
def test_moe_params_round_trip(kind):
    X, y, w, beta, *_ = instance(kind, 3)
    params = S.to_moe_params(w, beta)
    assert isinstance(params, MoEParams)
    np.testing.assert_array_equal(params.gate[0], 0.0)
    np.testing.assert_array_equal(params.coef[0], -params.coef[1])
    assert params.sigma is None
    w2, b2 = S.from_moe_params(params)
    np.testing.assert_array_equal(w2, w)
    np.testing.assert_array_equal(b2, beta)
    # expert 1 of the generic code is the +beta expert with gate sig(x^T w)
    mean_plus = FAMILIES[kind].expert_mean(X, params.coef)[:, 1]
    np.testing.assert_allclose(mean_plus, X @ beta if kind == "linear" else expit(X @ beta))


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_matches_finite_differences(kind):
    for seed in range(6):
        X, y, w, beta, *_ = instance(kind, seed)
        theta = np.concatenate([w, beta])
        g = grad_theta(kind, X, y)(theta)
        g_fd = fd_gradient(loss_theta(kind, X, y), theta)
        assert np.linalg.norm(g - g_fd) <= 1e-6 * np.linalg.norm(g)


@pytest.mark.parametrize("kind", KINDS)
def test_label_swap_symmetry(kind):
    for seed in range(3):
        X, y, w, beta, ws, bs = instance(kind, seed)
        assert S.neg_loglik(kind, X, y, -w, -beta) == pytest.approx(
            S.neg_loglik(kind, X, y, w, beta), rel=1e-13
        )
        np.testing.assert_allclose(
            S.posterior(kind, X, y, -w, -beta), 1 - S.posterior(kind, X, y, w, beta), atol=1e-14
        )
        w1, b1 = S.em_step(kind, X, y, w, beta)
        w2, b2 = S.em_step(kind, X, y, -w, -beta)
        np.testing.assert_allclose(w2, -w1, atol=1e-10)
        np.testing.assert_allclose(b2, -b1, atol=1e-10)
        assert S.predicted_rate(kind, X, y, -w, -beta) == pytest.approx(
            S.predicted_rate(kind, X, y, w, beta), rel=1e-10
        )
        # align_sign picks the representative closer to theta*
        a_w, a_b = S.align_sign(-w, -beta, ws, bs)
        np.testing.assert_array_equal(a_w, w)
        np.testing.assert_array_equal(a_b, beta)
        a_w, a_b = S.align_sign(w, beta, ws, bs)
        np.testing.assert_array_equal(a_w, w)


def test_logistic_swaps_gate_and_experts():
    """SymMoLogE's observed law is symmetric in (w, beta): y is the XNOR of two logistic draws."""
    rng = np.random.default_rng(5)
    w, beta = rng.standard_normal(3), 2 * rng.standard_normal(3)
    X, y, _ = S.sample("logistic", w, beta, 500, rng)
    assert S.neg_loglik("logistic", X, y, w, beta) == pytest.approx(
        S.neg_loglik("logistic", X, y, beta, w), rel=1e-13
    )
    # SymMoLinE has no such symmetry.
    Xl, yl, _ = S.sample("linear", w, beta, 500, rng)
    swapped = S.neg_loglik("linear", Xl, yl, beta, w)
    assert abs(S.neg_loglik("linear", Xl, yl, w, beta) - swapped) > 1e-3


def test_align_sign_resolves_all_images_for_logistic():
    rng = np.random.default_rng(6)
    w, beta = rng.standard_normal(4), rng.standard_normal(4)
    noise = 1e-3 * rng.standard_normal((2, 4))
    for a, b in [(w, beta), (-w, -beta), (beta, w), (-beta, -w)]:
        got_w, got_beta = S.align_sign(a + noise[0], b + noise[1], w, beta, kind="logistic")
        assert np.max(np.abs(got_w - w)) < 1e-2 and np.max(np.abs(got_beta - beta)) < 1e-2
    # The linear model only identifies the sign flip: the swapped image stays swapped.
    got_w, _ = S.align_sign(beta, w, w, beta, kind="linear")
    assert np.allclose(np.abs(got_w), np.abs(beta))
    with pytest.raises(ValueError, match="kind"):
        S.align_sign(w, beta, w, beta, kind="poisson")


@pytest.mark.parametrize("kind", KINDS)
def test_sample_follows_the_model(kind):
    ws, bs = S.random_instance(kind, 2, 2.0, w_norm=1.5, rng=0)
    assert np.linalg.norm(bs) == pytest.approx(2.0)
    assert np.linalg.norm(ws) == pytest.approx(1.5)
    n = 40000
    X, y, z = S.sample(kind, ws, bs, n, rng=1)
    assert X.shape == (n, 2) and y.shape == (n,) and z.shape == (n,)
    assert set(np.unique(z)) == {1, 2}
    se = 4.5 / np.sqrt(n)
    # gate: P(z = 1 | x) = sig(x^T w)
    assert abs(np.mean((z == 1) - expit(X @ ws))) < se
    s = np.where(z == 1, 1.0, -1.0)
    a = s * (X @ bs)
    if kind == "linear":
        resid = y - a
        assert abs(resid.mean()) < se and abs(resid.var() - 1) < 3 * se
        assert abs(np.mean(resid * X[:, 0])) < 1.5 * se
    else:
        assert set(np.unique(y)) <= {0.0, 1.0}
        assert abs(np.mean(y - expit(a))) < se
        assert abs(np.mean((y - expit(a)) * X[:, 0])) < se
    # same seed, same draw
    X2, y2, z2 = S.sample(kind, ws, bs, n, rng=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_random_instance_directions_and_initial_point():
    rng = np.random.default_rng(0)
    dirs = np.array([S.random_instance("linear", 3, 1.0, rng=rng)[1] for _ in range(2000)])
    np.testing.assert_allclose(np.linalg.norm(dirs, axis=1), 1.0)
    assert np.max(np.abs(dirs.mean(axis=0))) < 0.08  # uniform on the sphere: mean ~ 0
    np.testing.assert_allclose(dirs.T @ dirs / 2000, np.eye(3) / 3, atol=0.04)
    ws, bs = S.random_instance("logistic", 4, 3.0, w_norm=2.0, rng=1)
    w0, b0 = S.initial_point(ws, bs, rng=2)
    assert np.linalg.norm(w0 - ws) == pytest.approx(2.0)
    assert np.linalg.norm(b0 - bs) == pytest.approx(3.0)
    w0, b0 = S.initial_point(ws, bs, rng=2, radius=0.1)
    assert np.linalg.norm(b0 - bs) == pytest.approx(0.3)


def test_snr_is_the_norm_of_beta():
    assert S.snr("logistic", np.array([3.0, 0.0, 4.0])) == 5.0
    with pytest.raises(ValueError, match="kind"):
        S.snr("probit", np.ones(2))


def test_argument_validation():
    X, y, w, beta, *_ = instance("linear", 0, d=2)
    with pytest.raises(ValueError, match="kind"):
        S.posterior("probit", X, y, w, beta)
    with pytest.raises(ValueError, match="kind"):
        S.random_instance("Linear", 2, 1.0)
    with pytest.raises(ValueError, match="binary"):
        S.neg_loglik("logistic", X, y, w, beta)
    with pytest.raises(ValueError, match="y must have shape"):
        S.gradient("linear", X, y[:-1], w, beta)
    with pytest.raises(ValueError, match="beta must have shape"):
        S.to_moe_params(w, np.zeros(3))
    with pytest.raises(ValueError, match="X must be"):
        S.posterior("linear", X[:, 0], y, w, beta)
    with pytest.raises(ValueError, match="finite"):
        S.posterior("linear", X, y, np.array([np.nan, 0.0]), beta)
    with pytest.raises(ValueError, match="snr"):
        S.random_instance("linear", 2, 0.0)
    with pytest.raises(ValueError, match="d must"):
        S.random_instance("linear", 0, 1.0)
    with pytest.raises(ValueError, match="w_norm"):
        S.random_instance("linear", 2, 1.0, w_norm=-1.0)
    with pytest.raises(ValueError, match="n must"):
        S.sample("linear", w, beta, 0, rng=0)
    with pytest.raises(TypeError, match="rng"):
        S.sample("linear", w, beta, 5, rng="seed")
    with pytest.raises(ValueError, match="radius"):
        S.initial_point(w, beta, rng=0, radius=-1.0)
    with pytest.raises(ValueError, match="w_star must have shape"):
        S.align_sign(w, beta, np.zeros(3), beta)
    with pytest.raises(ValueError, match="symmetric pair"):
        S.from_moe_params(MoEParams(np.vstack([0 * w, w]), np.vstack([beta, beta])))
    with pytest.raises(ValueError, match="reference"):
        S.from_moe_params(MoEParams(np.vstack([w, w]), np.vstack([-beta, beta])))
    with pytest.raises(ValueError, match=r"\(2, d\)"):
        S.from_moe_params(MoEParams(np.zeros((3, 2)), np.zeros((3, 2))))
    with pytest.raises(TypeError, match="MoEParams"):
        S.from_moe_params((w, beta))
