"""Tests for moe_lib.symmetric.batch and batch_analysis: the batched runs of chapter 6 of the book
against the single-instance functions, instance by instance (the chapter's own check of its
engine), the vectorised alignment against align_sign, EM's limit, first hitting times and bad
inputs."""

from __future__ import annotations

import numpy as np
import pytest

from moe_lib import symmetric as S

#: Chapter 6's two main settings: (kind, ||w*||, ||beta*||).
SETTINGS = (("linear", 1.0, 2.0), ("logistic", 4.0, 4.0))


@pytest.mark.parametrize(("kind", "w_norm", "snr"), SETTINGS)
def test_run_batch_equals_run_instance_by_instance(kind, w_norm, snr):
    batch = S.make_batch(kind, [0, 1], snr=snr, w_norm=w_norm)
    n = batch.X.shape[1]
    for algorithm, step_size in (("em", None), ("gradient_em", 1.5), ("gd", 2.0)):
        paths = S.run_batch(batch, algorithm, 30, step_size)
        assert paths.w.shape == paths.beta.shape == (2, 31, 10) and paths.loss.shape == (2, 31)
        for i in range(2):
            ref = S.run(kind, batch.X[i], batch.y[i], batch.w0[i], batch.beta0[i], algorithm,
                        max_iter=30, step_size=step_size)
            theta = np.hstack([paths.w[i], paths.beta[i]])
            assert np.max(np.abs(ref.path - theta)) < 1e-9
            assert np.max(np.abs(-ref.loglik_history / n - paths.loss[i, 1:])) < 1e-9
            start = S.neg_loglik(kind, batch.X[i], batch.y[i], batch.w0[i], batch.beta0[i])
            assert abs(paths.loss[i, 0] - start) < 1e-12
            assert paths.loss[i, -1] < paths.loss[i, 0] - 1e-3  # the runs moved


@pytest.mark.parametrize(("kind", "w_norm", "snr"), SETTINGS)
def test_batch_pieces_equal_the_single_instance_functions(kind, w_norm, snr):
    batch = S.make_batch(kind, [3, 4, 5], d=3, snr=snr, w_norm=w_norm, n=300)
    loss, g_w, g_beta = S.batch_loss_and_gradient(batch, batch.w0, batch.beta0)
    w1, b1 = S.batch_em_step(batch, batch.w0, batch.beta0)
    L_w, L_beta = S.batch_curvature_bounds(batch)
    for i in range(3):
        args = (kind, batch.X[i], batch.y[i], batch.w0[i], batch.beta0[i])
        assert loss[i] == pytest.approx(S.neg_loglik(*args), rel=1e-13)
        gw, gb = S.gradient(*args)
        np.testing.assert_allclose(g_w[i], gw, rtol=0, atol=1e-13)
        np.testing.assert_allclose(g_beta[i], gb, rtol=0, atol=1e-13)
        ew, eb = S.em_step(*args)
        np.testing.assert_allclose(w1[i], ew, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b1[i], eb, rtol=0, atol=1e-12)
        lw, lb = S.curvature_bounds(kind, batch.X[i])
        assert L_w[i] == pytest.approx(lw, rel=1e-12) and L_beta[i] == pytest.approx(lb, rel=1e-12)
    # a row that is not finite stays nan and leaves the others alone
    w_bad = batch.w0.copy()
    w_bad[1] = np.nan
    w2, b2 = S.batch_em_step(batch, w_bad, batch.beta0)
    assert np.all(np.isnan(w2[1])) and np.all(np.isnan(b2[1]))
    np.testing.assert_array_equal(w2[[0, 2]], w1[[0, 2]])


def test_make_batch_stacks_the_single_instance_draws():
    batch = S.make_batch("logistic", [7, 2], d=3, snr=4.0, w_norm=2.0, n=40)
    for i, seed in enumerate([7, 2]):
        rng = np.random.default_rng(seed)
        ws, bs = S.random_instance("logistic", 3, 4.0, w_norm=2.0, rng=rng)
        X, y, _ = S.sample("logistic", ws, bs, 40, rng)
        w0, b0 = S.initial_point(ws, bs, rng)
        for got, want in zip(
            (batch.X[i], batch.y[i], batch.w_star[i], batch.beta_star[i], batch.w0[i],
             batch.beta0[i]),
            (X, y, ws, bs, w0, b0),
            strict=True,
        ):
            np.testing.assert_array_equal(got, want)
    sub = batch.take([1, 1, 0])
    np.testing.assert_array_equal(sub.X[2], batch.X[0])
    np.testing.assert_array_equal(sub.w0[:2], batch.w0[[1, 1]])


@pytest.mark.parametrize(("kind", "w_norm", "snr"), SETTINGS)
def test_closest_image_equals_align_sign_on_the_four_images(kind, w_norm, snr):
    batch = S.make_batch(kind, [0, 1], snr=snr, w_norm=w_norm)
    p = S.run_batch(batch, "gd", 10)
    n_swapped = 0
    for w_im, beta_im in ((p.w, p.beta), (-p.w, -p.beta), (p.beta, p.w), (-p.beta, -p.w)):
        image = S.BatchPaths(w_im, beta_im, p.loss)
        err_b, err_w = S.relative_errors(batch, image)
        w_al_all, b_al_all, which = S.closest_image(batch, image)
        n_swapped += int(np.sum(which >= 2))
        for i in range(2):
            for t in range(11):
                w_al, b_al = S.align_sign(w_im[i, t], beta_im[i, t], batch.w_star[i],
                                          batch.beta_star[i], kind=kind)
                np.testing.assert_array_equal(w_al_all[i, t], w_al)
                np.testing.assert_array_equal(b_al_all[i, t], b_al)
                want_b = np.linalg.norm(b_al - batch.beta_star[i]) / np.linalg.norm(
                    batch.beta_star[i])
                want_w = np.linalg.norm(w_al - batch.w_star[i]) / np.linalg.norm(batch.w_star[i])
                assert err_b[i, t] == pytest.approx(want_b, rel=1e-12)
                assert err_w[i, t] == pytest.approx(want_w, rel=1e-12)
    # the gate/expert swap exists only for SymMoLogE (the chapter: 44 of 88 iterates realigned)
    assert n_swapped == (44 if kind == "logistic" else 0)
    # swap=False: the label swap only, also for SymMoLogE
    assert np.all(S.closest_image(batch, p, swap=False)[2] <= 1)


@pytest.mark.parametrize(("kind", "w_norm", "snr"), SETTINGS)
def test_em_limit_reaches_the_gradient_tolerance(kind, w_norm, snr):
    batch = S.make_batch(kind, [0, 1], d=2, snr=snr, w_norm=w_norm, n=1000)
    em = S.run_batch(batch, "em", 5)
    w_hat, b_hat, n_extra, converged = S.em_limit(batch, em.w[:, -1], em.beta[:, -1], tol=1e-10)
    assert converged.all() and np.all(n_extra > 0)
    for i in range(2):
        args = (kind, batch.X[i], batch.y[i])
        g = np.concatenate(S.gradient(*args, w_hat[i], b_hat[i]))
        assert np.max(np.abs(g)) <= 1e-10
        # the limit is the EM iteration continued: n_extra more steps from the last iterate
        ref = S.run(*args, em.w[i, -1], em.beta[i, -1], "em", max_iter=int(n_extra[i]))
        np.testing.assert_allclose(ref.path[-1], np.r_[w_hat[i], b_hat[i]], rtol=0, atol=1e-9)
        g_prev = np.concatenate(S.gradient(*args, *np.split(ref.path[-2], 2)))
        assert np.max(np.abs(g_prev)) > 1e-10  # it stopped at the first iterate within tol
    # already converged: no step; no step allowed: not converged
    again = S.em_limit(batch, w_hat, b_hat, tol=1e-10)
    assert np.all(again[2] == 0) and again[3].all()
    np.testing.assert_array_equal(again[0], w_hat)
    none = S.em_limit(batch, batch.w0, batch.beta0, max_iter=0)
    assert not none[3].any() and np.all(none[2] == 0)


def test_first_hit_on_a_hand_example():
    values = np.array([[5.0, 3.0, 1.0, 0.5], [2.0, 2.0, 2.0, 2.0], [np.nan, 0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(S.first_hit(values, 1.0, 99), [2, 99, 1])
    np.testing.assert_array_equal(S.first_hit(values, 0.0, -1), [-1, -1, 1])
    np.testing.assert_array_equal(S.first_hit(values[None], 1.0, 99), [[2, 99, 1]])
    assert int(S.first_hit(np.array([3.0, 2.0]), 2.0, 5)) == 1


def test_diverging_runs_are_nan_from_then_on():
    batch = S.make_batch("linear", [0, 1], d=2, n=100)
    paths = S.run_batch(batch, "gd", 40, np.array([1.0, 50.0]))
    assert np.all(np.isfinite(paths.loss[0]))  # a safe step on instance 0
    bad = np.isnan(paths.loss[1])
    t0 = int(np.argmax(bad))
    assert 0 < t0 and bad[t0:].all() and np.all(np.isfinite(paths.loss[1, :t0]))
    assert np.all(np.isnan(paths.w[1, t0:])) and np.all(np.isnan(paths.beta[1, t0:]))
    assert np.all(paths.loss[1, :t0] < S.batch.DIVERGED_LOSS)


def test_bad_inputs_name_the_argument():
    batch = S.make_batch("linear", [0, 1], d=2, n=20)
    with pytest.raises(ValueError, match="kind"):
        S.Batch("poisson", batch.X, batch.y, batch.w_star, batch.beta_star, batch.w0, batch.beta0)
    with pytest.raises(ValueError, match="y must have shape"):
        S.Batch("linear", batch.X, batch.y[:, :-1], batch.w_star, batch.beta_star, batch.w0,
                batch.beta0)
    with pytest.raises(ValueError, match="binary"):
        S.Batch("logistic", batch.X, batch.y, batch.w_star, batch.beta_star, batch.w0,
                batch.beta0)
    with pytest.raises(ValueError, match="X must be 3-dimensional"):
        S.Batch("linear", batch.X[0], batch.y, batch.w_star, batch.beta_star, batch.w0,
                batch.beta0)
    with pytest.raises(ValueError, match="beta0 must have shape"):
        S.Batch("linear", batch.X, batch.y, batch.w_star, batch.beta_star, batch.w0,
                batch.beta0[:, :1])
    with pytest.raises(ValueError, match="loss must have shape"):
        S.BatchPaths(np.zeros((2, 3, 2)), np.zeros((2, 3, 2)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="seeds"):
        S.make_batch("linear", [])
    with pytest.raises(ValueError, match="seeds"):
        S.make_batch("linear", [-1])
    with pytest.raises(TypeError, match="batch"):
        S.run_batch(batch.X, "em", 3)
    with pytest.raises(ValueError, match="algorithm"):
        S.run_batch(batch, "newton", 3)
    with pytest.raises(ValueError, match="n_iter"):
        S.run_batch(batch, "em", -1)
    with pytest.raises(ValueError, match="step_size"):
        S.run_batch(batch, "gd", 3, 0.0)
    with pytest.raises(ValueError, match="step_size"):
        S.run_batch(batch, "gd", 3, np.ones(3))
    with pytest.raises(ValueError, match="w must have shape"):
        S.batch_loss_and_gradient(batch, batch.w0[:1], batch.beta0)
    with pytest.raises(ValueError, match="w must hold finite"):
        S.em_limit(batch, np.full((2, 2), np.nan), batch.beta0)
    with pytest.raises(ValueError, match="tol"):
        S.em_limit(batch, batch.w0, batch.beta0, tol=0.0)
    with pytest.raises(TypeError, match="paths"):
        S.relative_errors(batch, (batch.w0, batch.beta0))
    with pytest.raises(ValueError, match="paths must hold"):
        S.closest_image(batch, S.BatchPaths(np.zeros((3, 2, 2)), np.zeros((3, 2, 2)),
                                            np.zeros((3, 2))))
    with pytest.raises(TypeError, match="swap"):
        S.closest_image(batch, S.run_batch(batch, "gd", 1), swap="yes")
    with pytest.raises(ValueError, match="values"):
        S.first_hit(np.float64(1.0), 0.5, 3)
    with pytest.raises(TypeError, match="never"):
        S.first_hit(np.ones(3), 0.5, 3.5)
