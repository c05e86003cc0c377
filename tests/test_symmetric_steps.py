"""Tests for moe_lib.symmetric.steps: the closed-form EM, gradient-EM and GD steps against the
generic steps of moe_lib (SymmetricLinearExperts / SymmetricLogisticExperts), the Fisher identity
and the mirror-descent form of the EM step (chapter 4 of the book)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from _symmetric_helpers import (
    KINDS,
    fd_gradient,
    generic,
    grad_A,
    grad_theta,
    instance,
    q_function,
)

import moe_lib
from moe_lib import symmetric as S


@pytest.mark.parametrize("kind", KINDS)
def test_em_step_equals_generic_em_step(kind):
    for seed in range(10):
        X, y, w, beta, *_ = instance(kind, seed)
        w_new, beta_new = S.em_step(kind, X, y, w, beta)
        fam, data, params = generic(kind, X, y, w, beta)
        gw, gb = S.from_moe_params(moe_lib.em_step(fam, data, params))
        np.testing.assert_allclose(w_new, gw, rtol=0, atol=1e-8)
        np.testing.assert_allclose(beta_new, gb, rtol=0, atol=1e-8)
        # the step actually moved, so the comparison is not vacuous
        assert np.max(np.abs(beta_new - beta)) > 1e-3


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_steps_equal_generic_steps(kind):
    for seed in range(5):
        X, y, w, beta, *_ = instance(kind, seed)
        fam, data, params = generic(kind, X, y, w, beta)
        expected = S.from_moe_params(moe_lib.gradient_em_step(fam, data, params))
        np.testing.assert_allclose(
            np.concatenate(S.gradient_em_step(kind, X, y, w, beta)),
            np.concatenate(expected),
            rtol=1e-10,
            atol=1e-12,
        )
        for step_size, generic_step in [(None, None), (0.3, 0.3)]:
            expected = S.from_moe_params(moe_lib.gd_step(fam, data, params, step_size=generic_step))
            np.testing.assert_allclose(
                np.concatenate(S.gd_step(kind, X, y, w, beta, step_size)),
                np.concatenate(expected),
                rtol=1e-10,
                atol=1e-12,
            )


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_em_step_size_multiplies_the_block_steps(kind):
    X, y, w, beta, *_ = instance(kind, 2)
    l_w, l_beta = S.curvature_bounds(kind, X)
    g_w, g_beta = S.gradient(kind, X, y, w, beta)
    w1, b1 = S.gradient_em_step(kind, X, y, w, beta, step_size=1.5)
    np.testing.assert_allclose(w1, w - 1.5 / l_w * g_w, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(b1, beta - 1.5 / l_beta * g_beta, rtol=1e-14, atol=1e-15)
    # the bounds: lambda_max(X^T X / n) / 4, and lambda_max itself for the linear experts
    lam = np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1]
    assert l_w == pytest.approx(lam / 4, rel=1e-12)
    assert l_beta == pytest.approx(lam if kind == "linear" else lam / 4, rel=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_fisher_identity_and_mirror_form_of_em(kind):
    for seed in range(4):
        X, y, w, beta, *_ = instance(kind, seed)
        theta_t = np.concatenate([w, beta])
        g = grad_theta(kind, X, y)(theta_t)
        # Fisher: grad_theta Q(theta | theta_t) at theta = theta_t equals grad L(theta_t)
        g_q = fd_gradient(partial(q_function, kind, X, y, theta_t=theta_t), theta_t)
        np.testing.assert_allclose(g_q, g, rtol=1e-6, atol=1e-9)
        # grad L = grad A - T_bar; the EM step solves grad A(theta+) = grad A(theta_t) - grad L
        w_new, b_new = S.em_step(kind, X, y, w, beta)
        np.testing.assert_allclose(
            grad_A(kind, X, w_new, b_new), grad_A(kind, X, w, beta) - g, rtol=0, atol=1e-11
        )
        # ... i.e. theta+ is the stationary point of Q(. | theta_t)
        g_q_new = fd_gradient(
            partial(q_function, kind, X, y, theta_t=theta_t), np.concatenate([w_new, b_new])
        )
        assert np.max(np.abs(g_q_new)) < 1e-8


@pytest.mark.parametrize("kind", KINDS)
def test_zero_is_a_fixed_point(kind):
    X, y, *_ = instance(kind, 5)
    z = np.zeros(X.shape[1])
    np.testing.assert_array_equal(S.posterior(kind, X, y, z, z), 0.5)
    for g in S.gradient(kind, X, y, z, z):
        np.testing.assert_allclose(g, 0.0, atol=1e-15)
    for step in (S.em_step, S.gradient_em_step, S.gd_step):
        for part in step(kind, X, y, z, z):
            np.testing.assert_allclose(part, 0.0, atol=1e-15)
    with pytest.raises(ValueError, match="fixed point"):
        S.initial_point(z, z, 0)


def test_argument_validation():
    X, y, w, beta, *_ = instance("linear", 0, d=2)
    yb = (y > 0).astype(float)
    with pytest.raises(ValueError, match="w must have shape"):
        S.em_step("logistic", X, yb, np.zeros(3), beta)
    X_rank1 = np.column_stack([X[:, 0], 2 * X[:, 0]])
    with pytest.raises(ValueError, match="full column rank"):
        S.em_step("linear", X_rank1, y, w, beta)
    with pytest.raises(ValueError, match="full column rank"):
        S.em_step("logistic", X_rank1, yb, w, beta)
    with pytest.raises(ValueError, match="step_size"):
        S.gd_step("linear", X, y, w, beta, -0.1)
    with pytest.raises(ValueError, match="step_size"):
        S.gradient_em_step("linear", X, y, w, beta, step_size=np.inf)
    with pytest.raises(ValueError, match="tol"):
        S.em_step("linear", X, y, w, beta, tol=0.0)
    with pytest.raises(ValueError, match="kind"):
        S.curvature_bounds("poisson", X)
