"""Tests for moe_lib.symmetric: the closed forms of SymMoLinE / SymMoLogE against the generic
machinery, finite differences, the exponential-family identities and the measured EM rates."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from scipy import linalg
from scipy.special import expit, log_expit

from moe_lib import symmetric as S
from moe_lib.algorithms import em_step, gd_step, gradient_em_step, objective_gradient
from moe_lib.experts import SymmetricLinearExperts, SymmetricLogisticExperts
from moe_lib.model import MoEParams, e_step, log_likelihood, make_data

KINDS = ("linear", "logistic")
FAMILIES = {"linear": SymmetricLinearExperts(), "logistic": SymmetricLogisticExperts()}
#: A moderate SNR for each kind, and a gate norm that makes SymMoLogE identifiable enough.
SNR = {"linear": 1.5, "logistic": 4.0}
W_NORM = {"linear": 1.0, "logistic": 3.0}


def instance(kind: str, seed: int, n: int = 300, d: int | None = None):
    """Data from theta* and a generic point (w, beta) at relative distance ~0.5 from theta*."""
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 5)) if d is None else d
    ws, bs = S.random_instance(kind, d, SNR[kind], w_norm=W_NORM[kind], rng=rng)
    X, y, _ = S.sample(kind, ws, bs, n, rng)
    w, beta = S.initial_point(ws, bs, rng, radius=0.5)
    return X, y, w, beta, ws, bs


def generic(kind, X, y, w, beta):
    return FAMILIES[kind], make_data(X, y, fit_intercept=False), S.to_moe_params(w, beta)


def fd_gradient(f, x, h=1e-5):
    out = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        out[j] = (f(x + e) - f(x - e)) / (2 * h)
    return out


def fd_jacobian(F, x, h=1e-5):
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        cols.append((F(x + e) - F(x - e)) / (2 * h))
    return np.column_stack(cols)


def split(theta):
    d = theta.size // 2
    return theta[:d], theta[d:]


def loss_theta(kind, X, y):
    return lambda t: S.neg_loglik(kind, X, y, *split(t))


def grad_theta(kind, X, y):
    return lambda t: np.concatenate(S.gradient(kind, X, y, *split(t)))


def fitted_optimum(kind, X, y, w0, beta0, n_em=300):
    """theta_hat: EM from (w0, beta0), polished by Newton on L with hess L = hess A - I."""
    w, beta = w0, beta0
    for _ in range(n_em):
        w, beta = S.em_update(kind, X, y, w, beta)
    theta = np.concatenate([w, beta])
    for _ in range(20):
        g = grad_theta(kind, X, y)(theta)
        if np.max(np.abs(g)) < 1e-15:
            break
        hess = S.complete_fisher(kind, X, *split(theta)) - S.missing_information(
            kind, X, y, *split(theta)
        )
        theta = theta - linalg.solve(hess, g, assume_a="pos")
    assert np.max(np.abs(grad_theta(kind, X, y)(theta))) < 1e-13
    return theta


# Independent pieces of the complete-data exponential family (digest §1.4), for the identities.
def grad_A(kind, X, w, beta):
    n = X.shape[0]
    gw = X.T @ expit(X @ w) / n
    gb = X.T @ (X @ beta) / n if kind == "linear" else X.T @ expit(X @ beta) / n
    return np.concatenate([gw, gb])


def log_partition(kind, X, w, beta):
    u, a = X @ w, X @ beta
    sp = -log_expit(-u)
    return float(np.mean(sp + (0.5 * a**2 if kind == "linear" else -log_expit(-a))))


def q_function(kind, X, y, theta, theta_t):
    """Q(theta | theta_t) = -E E_{z ~ post(theta_t)} log p(y, z | x; theta), written directly."""
    w, beta = split(theta)
    p = S.posterior(kind, X, y, *split(theta_t))
    u, a = X @ w, X @ beta
    if kind == "linear":
        log_f1 = -0.5 * np.log(2 * np.pi) - 0.5 * (y - a) ** 2
        log_f2 = -0.5 * np.log(2 * np.pi) - 0.5 * (y + a) ** 2
    else:
        log_f1 = y * log_expit(a) + (1 - y) * log_expit(-a)
        log_f2 = y * log_expit(-a) + (1 - y) * log_expit(a)
    ll = p * (log_expit(u) + log_f1) + (1 - p) * (log_expit(-u) + log_f2)
    return float(-np.mean(ll))


# --------------------------------------------------------------------------------------------
# Against the generic machinery
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_em_update_equals_generic_em_step(kind):
    for seed in range(10):
        X, y, w, beta, *_ = instance(kind, seed)
        w_new, beta_new = S.em_update(kind, X, y, w, beta)
        fam, data, params = generic(kind, X, y, w, beta)
        gw, gb = S.from_moe_params(em_step(fam, data, params))
        np.testing.assert_allclose(w_new, gw, rtol=0, atol=1e-8)
        np.testing.assert_allclose(beta_new, gb, rtol=0, atol=1e-8)
        # the step actually moved, so the comparison is not vacuous
        assert np.max(np.abs(beta_new - beta)) > 1e-3


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_steps_equal_generic_steps(kind):
    for seed in range(5):
        X, y, w, beta, *_ = instance(kind, seed)
        fam, data, params = generic(kind, X, y, w, beta)
        expected = S.from_moe_params(gradient_em_step(fam, data, params))
        np.testing.assert_allclose(
            np.concatenate(S.gradient_em_update(kind, X, y, w, beta)),
            np.concatenate(expected),
            rtol=1e-10,
            atol=1e-12,
        )
        for step, gstep in [(None, None), (0.3, 0.3)]:
            expected = S.from_moe_params(gd_step(fam, data, params, step_size=gstep))
            np.testing.assert_allclose(
                np.concatenate(S.gd_update(kind, X, y, w, beta, step)),
                np.concatenate(expected),
                rtol=1e-10,
                atol=1e-12,
            )


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


# --------------------------------------------------------------------------------------------
# Calculus: finite differences and the exponential-family identities
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_gradient_matches_finite_differences(kind):
    for seed in range(6):
        X, y, w, beta, *_ = instance(kind, seed)
        theta = np.concatenate([w, beta])
        g = grad_theta(kind, X, y)(theta)
        g_fd = fd_gradient(loss_theta(kind, X, y), theta)
        assert np.linalg.norm(g - g_fd) <= 1e-6 * np.linalg.norm(g)


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
        w_new, b_new = S.em_update(kind, X, y, w, beta)
        np.testing.assert_allclose(
            grad_A(kind, X, w_new, b_new), grad_A(kind, X, w, beta) - g, rtol=0, atol=1e-11
        )
        # ... i.e. theta+ is the stationary point of Q(. | theta_t)
        g_q_new = fd_gradient(
            partial(q_function, kind, X, y, theta_t=theta_t), np.concatenate([w_new, b_new])
        )
        assert np.max(np.abs(g_q_new)) < 1e-8


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
        return np.concatenate(S.em_update(kind, X, y, *split(t)))

    J = fd_jacobian(em_map, theta_hat, h=1e-5)
    np.testing.assert_allclose(J, M, rtol=0, atol=1e-6)
    # predicted_rate = the largest (real) eigenvalue of M
    rho = S.predicted_rate(kind, X, y, *split(theta_hat))
    eig = np.linalg.eigvals(M)
    assert np.max(np.abs(eig.imag)) < 1e-10
    assert rho == pytest.approx(np.max(eig.real), abs=1e-10)
    assert 0 < rho < 1


# --------------------------------------------------------------------------------------------
# Behaviour of the methods
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_em_and_gradient_em_never_increase_loss(kind):
    for seed in range(4):
        X, y, w, beta, ws, bs = instance(kind, seed, n=400)
        w0, b0 = S.initial_point(ws, bs, seed)
        for method in ("em", "gradient_em", "gd"):
            path = S.run_method(kind, X, y, w0, b0, method, 25)
            assert path.w.shape == (26, X.shape[1]) == path.beta.shape
            assert path.loss.shape == (26,)
            assert np.all(np.diff(path.loss) <= 1e-13 * (1 + np.abs(path.loss[1:])))
        # the path is the iteration of em_update, and loss is neg_loglik along it
        path = S.run_method(kind, X, y, w0, b0, "em", 3)
        w1, b1 = S.em_update(kind, X, y, w0, b0)
        np.testing.assert_array_equal(path.w[1], w1)
        np.testing.assert_array_equal(path.beta[1], b1)
        assert path.loss[1] == S.neg_loglik(kind, X, y, w1, b1)
        np.testing.assert_array_equal(path.theta[:, : X.shape[1]], path.w)
        # EM makes more progress than gradient EM in the same number of steps here
        em = S.run_method(kind, X, y, w0, b0, "em", 10).loss[-1]
        gem = S.run_method(kind, X, y, w0, b0, "gradient_em", 10).loss[-1]
        assert em <= gem + 1e-12


@pytest.mark.parametrize("kind", KINDS)
def test_zero_is_a_fixed_point(kind):
    X, y, *_ = instance(kind, 5)
    z = np.zeros(X.shape[1])
    np.testing.assert_array_equal(S.posterior(kind, X, y, z, z), 0.5)
    for g in S.gradient(kind, X, y, z, z):
        np.testing.assert_allclose(g, 0.0, atol=1e-15)
    for update in (S.em_update, S.gradient_em_update, S.gd_update):
        for part in update(kind, X, y, z, z):
            np.testing.assert_allclose(part, 0.0, atol=1e-15)
    with pytest.raises(ValueError, match="fixed point"):
        S.initial_point(z, z, 0)


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
        w1, b1 = S.em_update(kind, X, y, w, beta)
        w2, b2 = S.em_update(kind, X, y, -w, -beta)
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
        path = S.run_method(kind, X, y, w0, b0, "em", 120)
        rho = S.predicted_rate(kind, X, y, *split(theta_hat))
        err = np.linalg.norm(path.theta - theta_hat, axis=1)
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


# --------------------------------------------------------------------------------------------
# Sampling and instances
# --------------------------------------------------------------------------------------------
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


# --------------------------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------------------------
def test_argument_validation():
    X, y, w, beta, *_ = instance("linear", 0, d=2)
    yb = (y > 0).astype(float)
    with pytest.raises(ValueError, match="kind"):
        S.posterior("probit", X, y, w, beta)
    with pytest.raises(ValueError, match="kind"):
        S.random_instance("Linear", 2, 1.0)
    with pytest.raises(ValueError, match="kind"):
        S.complete_fisher("poisson", X, w, beta)
    with pytest.raises(ValueError, match="binary"):
        S.neg_loglik("logistic", X, y, w, beta)
    with pytest.raises(ValueError, match="y must have shape"):
        S.gradient("linear", X, y[:-1], w, beta)
    with pytest.raises(ValueError, match="w must have shape"):
        S.em_update("logistic", X, yb, np.zeros(3), beta)
    with pytest.raises(ValueError, match="beta must have shape"):
        S.to_moe_params(w, np.zeros(3))
    with pytest.raises(ValueError, match="X must be"):
        S.posterior("linear", X[:, 0], y, w, beta)
    with pytest.raises(ValueError, match="finite"):
        S.posterior("linear", X, y, np.array([np.nan, 0.0]), beta)
    X_rank1 = np.column_stack([X[:, 0], 2 * X[:, 0]])
    with pytest.raises(ValueError, match="full column rank"):
        S.em_update("linear", X_rank1, y, w, beta)
    with pytest.raises(ValueError, match="full column rank"):
        S.em_update("logistic", X_rank1, yb, w, beta)
    with pytest.raises(ValueError, match="full column rank"):
        S.predicted_rate("linear", X_rank1, y, w, beta)
    with pytest.raises(ValueError, match="method"):
        S.run_method("linear", X, y, w, beta, "newton", 3)
    with pytest.raises(ValueError, match="n_iter"):
        S.run_method("linear", X, y, w, beta, "em", -1)
    with pytest.raises(ValueError, match="step"):
        S.gd_update("linear", X, y, w, beta, -0.1)
    with pytest.raises(ValueError, match="step"):
        S.run_method("linear", X, y, w, beta, "gradient_em", 3, step=0.0)
    with pytest.raises(ValueError, match="tol"):
        S.em_update("linear", X, y, w, beta, tol=0.0)
    with pytest.raises(ValueError, match="radius"):
        S.rate_in_ball("linear", X, y, w, beta, -1.0, 3)
    with pytest.raises(ValueError, match="n_points"):
        S.rate_in_ball("linear", X, y, w, beta, 0.1, 2.5)
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
    with pytest.raises(ValueError, match="symmetric pair"):
        S.from_moe_params(MoEParams(np.vstack([0 * w, w]), np.vstack([beta, beta])))
    with pytest.raises(ValueError, match="reference"):
        S.from_moe_params(MoEParams(np.vstack([w, w]), np.vstack([-beta, beta])))
    with pytest.raises(ValueError, match=r"\(2, d\)"):
        S.from_moe_params(MoEParams(np.zeros((3, 2)), np.zeros((3, 2))))
    with pytest.raises(TypeError, match="MoEParams"):
        S.from_moe_params((w, beta))


def test_divergent_gd_warns_and_pads_with_nan():
    X, y, w, beta, *_ = instance("linear", 1, d=2)
    with pytest.warns(RuntimeWarning, match="non-finite"), np.errstate(all="ignore"):
        path = S.run_method("linear", X, y, w, beta, "gd", 400, step=1e3)
    assert np.isnan(path.loss[-1]) and np.isfinite(path.loss[0])


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
