"""Tests for moe_lib.symmetric.information: hess A and I_{z|x,y} against finite differences, the
Missing Information Matrix against the Jacobian of the EM map, and the predicted rate against the
measured contraction of EM (chapter 5 of the book)."""

from __future__ import annotations

import numpy as np
import pytest
from _symmetric_helpers import (
    KINDS,
    fd_gradient,
    fd_jacobian,
    fitted_optimum,
    grad_A,
    grad_theta,
    instance,
    log_partition,
    split,
)
from scipy import linalg

from moe_lib import symmetric as S


@pytest.mark.parametrize("kind", KINDS)
def test_hessian_identity(kind):
    for seed in range(4):
        X, y, w, beta, *_ = instance(kind, seed)
        theta = np.concatenate([w, beta])
        H_A = S.complete_fisher(kind, X, w, beta)
        I_miss = S.missing_information(kind, X, y, w, beta)
        # hess A against finite differences of the independent grad A
        H_A_fd = fd_jacobian(lambda t, X=X: grad_A(kind, X, *split(t)), theta)
        np.testing.assert_allclose(H_A, H_A_fd, rtol=0, atol=1e-7 * np.abs(H_A).max())
        # hess L = hess A - I_{z|x,y} against finite differences of the analytic gradient
        H_L_fd = fd_jacobian(grad_theta(kind, X, y), theta)
        scale = np.abs(H_A).max()
        np.testing.assert_allclose(H_A - I_miss, H_L_fd, rtol=0, atol=1e-5 * scale)
        # relative smoothness: I_{z|x,y} = hess A - hess L is PSD; hess A is PD
        assert linalg.eigvalsh(I_miss)[0] > -1e-12 * scale
        assert linalg.eigvalsh(H_A)[0] > 0


def test_complete_fisher_is_hessian_of_log_partition():
    for kind in KINDS:
        X, y, w, beta, *_ = instance(kind, 7, d=2)
        theta = np.concatenate([w, beta])
        H_fd = fd_jacobian(
            lambda t, kind=kind, X=X: fd_gradient(
                lambda s: log_partition(kind, X, *split(s)), t, h=1e-4
            ),
            theta,
            h=1e-4,
        )
        np.testing.assert_allclose(S.complete_fisher(kind, X, w, beta), H_fd, atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_mim_is_jacobian_of_em_map_at_fixed_point(kind):
    X, y, _, _, ws, bs = instance(kind, 11, n=1000, d=2)
    theta_hat = fitted_optimum(kind, X, y, ws, bs)
    M = S.mim(kind, X, y, *split(theta_hat))

    def em_map(t):
        return np.concatenate(S.em_step(kind, X, y, *split(t)))

    J = fd_jacobian(em_map, theta_hat, h=1e-5)
    np.testing.assert_allclose(J, M, rtol=0, atol=1e-6)
    # predicted_rate = the largest (real) eigenvalue of M
    rho = S.predicted_rate(kind, X, y, *split(theta_hat))
    eig = np.linalg.eigvals(M)
    assert np.max(np.abs(eig.imag)) < 1e-10
    assert rho == pytest.approx(np.max(eig.real), abs=1e-10)
    assert 0 < rho < 1


def test_contraction_matches_predicted_rate(capsys):
    """Successive EM error ratios ||theta_t - theta_hat|| converge to lambda_max(M(theta_hat)).

    Run with ``pytest -s`` to see the numbers.
    """
    cases = [
        ("linear", 1.0, 1.0, 3, 3000),
        ("linear", 2.0, 1.0, 2, 3000),
        ("logistic", 8.0, 4.0, 2, 3000),
    ]
    lines = []
    for kind, snr, w_norm, d, n in cases:
        rng = np.random.default_rng(2024)
        ws, bs = S.random_instance(kind, d, snr, w_norm=w_norm, rng=rng)
        X, y, _ = S.sample(kind, ws, bs, n, rng)
        w0, b0 = S.initial_point(ws, bs, rng)
        # theta_hat from theta* (a few EM steps, then Newton on L), independent of the path
        theta_hat = fitted_optimum(kind, X, y, ws, bs, n_em=20)
        result = S.run(kind, X, y, w0, b0, "em", max_iter=120)
        rho = S.predicted_rate(kind, X, y, *split(theta_hat))
        err = np.linalg.norm(result.path - theta_hat, axis=1)
        assert err[-1] < 1e-12  # EM converges to rounding level (no stall at the inner tol)
        window = (err[:-1] < 1e-3) & (err[1:] > 1e-10)
        ratios = err[1:][window] / err[:-1][window]
        assert ratios.size >= 5
        measured = float(np.median(ratios[-5:]))
        lines.append(
            f"{kind} ||beta*||={snr} ||w*||={w_norm} d={d} n={n}: predicted {rho:.4f}, "
            f"measured {measured:.4f} (rel. diff {abs(measured / rho - 1):.2%}), "
            f"rho(theta*)={S.predicted_rate(kind, X, y, ws, bs):.4f}"
        )
        assert measured == pytest.approx(rho, rel=0.05)
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_predicted_rate_decreases_with_snr():
    for kind, snrs, w_norm in [("linear", [0.5, 1, 2, 4], 1.0), ("logistic", [1, 2, 4, 8], 4.0)]:
        rates = []
        for snr in snrs:
            ws, bs = S.random_instance(kind, 3, snr, w_norm=w_norm, rng=0)
            X, y, _ = S.sample(kind, ws, bs, 20000, rng=1)
            assert S.snr(kind, bs) == pytest.approx(snr)
            rates.append(S.predicted_rate(kind, X, y, ws, bs))
        assert np.all(np.diff(rates) < 0), (kind, rates)
        assert 0 < rates[-1] < rates[0] < 1


def test_logistic_beta_unidentified_without_gate():
    """SymMoLogE with w = 0 has P(y=1|x) = 1/2: the beta block of M has eigenvalue exactly 1."""
    X, y, _, beta, *_ = instance("logistic", 4, d=3)
    z = np.zeros(3)
    assert S.predicted_rate("logistic", X, y, z, beta) >= 1 - 1e-12
    assert S.neg_loglik("logistic", X, y, z, beta) == pytest.approx(np.log(2), rel=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_rate_in_ball(kind):
    X, y, w, beta, *_ = instance(kind, 8, n=500)
    rho = S.predicted_rate(kind, X, y, w, beta)
    assert S.rate_in_ball(kind, X, y, w, beta, 0.0, 5, rng=0) == pytest.approx(rho, rel=1e-12)
    sup = S.rate_in_ball(kind, X, y, w, beta, 0.3, 30, rng=0)
    assert sup >= rho
    # reproducible, and (same seed: the first points are shared) non-decreasing in n_points
    assert S.rate_in_ball(kind, X, y, w, beta, 0.3, 10, rng=0) <= sup
    assert S.rate_in_ball(kind, X, y, w, beta, 0.3, 30, rng=0) == sup  # reproducible


def test_argument_validation():
    X, y, w, beta, *_ = instance("linear", 0, d=2)
    with pytest.raises(ValueError, match="kind"):
        S.complete_fisher("poisson", X, w, beta)
    X_rank1 = np.column_stack([X[:, 0], 2 * X[:, 0]])
    with pytest.raises(ValueError, match="full column rank"):
        S.predicted_rate("linear", X_rank1, y, w, beta)
    with pytest.raises(ValueError, match="full column rank"):
        S.mim("linear", X_rank1, y, w, beta)
    with pytest.raises(ValueError, match="radius"):
        S.rate_in_ball("linear", X, y, w, beta, -1.0, 3)
    # a non-integer count is a TypeError (moe_lib._validation's convention), naming the argument
    with pytest.raises(TypeError, match="n_points"):
        S.rate_in_ball("linear", X, y, w, beta, 0.1, 2.5)
    with pytest.raises(ValueError, match="n_points"):
        S.rate_in_ball("linear", X, y, w, beta, 0.1, -1)
    with pytest.raises(ValueError, match="beta must have shape"):
        S.complete_fisher("linear", X, w, np.zeros(3))
