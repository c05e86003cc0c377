"""Tests for moe_lib.symmetric.run: the iterates are those of the steps, the result is the general
FitResult (total log-likelihood, stopping rule of moe_lib.fit, responsibilities, path), EM and
gradient EM never increase L, and a diverging step size stops the run with a message."""

from __future__ import annotations

import numpy as np
import pytest
from _symmetric_helpers import KINDS, instance, split

from moe_lib import symmetric as S
from moe_lib.fit import ALGORITHMS, FitResult, has_converged


@pytest.mark.parametrize("kind", KINDS)
def test_em_and_gradient_em_never_increase_loss(kind):
    for seed in range(4):
        X, y, w, beta, ws, bs = instance(kind, seed, n=400)
        n, d = X.shape
        w0, b0 = S.initial_point(ws, bs, seed)
        for algorithm in ALGORITHMS:
            result = S.run(kind, X, y, w0, b0, algorithm, max_iter=25)
            assert isinstance(result, FitResult)
            assert result.path.shape == (26, 2 * d)
            assert result.loglik_history.shape == (25,) and result.n_iter == 25
            np.testing.assert_array_equal(result.path[0], np.concatenate([w0, b0]))
            loss = np.array([S.neg_loglik(kind, X, y, *split(t)) for t in result.path])
            assert np.all(np.diff(loss) <= 1e-13 * (1 + np.abs(loss[1:])))
            # the history is the total log-likelihood -n L at the iterates after the start (the run
            # computes it fused with the posterior and the gradient: equal to rounding)
            np.testing.assert_allclose(result.loglik_history, -n * loss[1:], rtol=1e-14, atol=0)
            np.testing.assert_array_equal(result.objective_history, result.loglik_history)
        # the path is the iteration of em_step, and the history is neg_loglik along it
        result = S.run(kind, X, y, w0, b0, "em", max_iter=3)
        w1, b1 = S.em_step(kind, X, y, w0, b0)
        np.testing.assert_array_equal(result.path[1], np.concatenate([w1, b1]))
        assert result.loglik_history[0] == pytest.approx(
            -n * S.neg_loglik(kind, X, y, w1, b1), rel=1e-14
        )
        # params are the last iterate
        w_last, b_last = S.from_moe_params(result.params)
        np.testing.assert_array_equal(np.concatenate([w_last, b_last]), result.path[-1])
        # EM makes more progress than gradient EM in the same number of steps here
        em = S.run(kind, X, y, w0, b0, "em", max_iter=10).loglik
        gem = S.run(kind, X, y, w0, b0, "gradient_em", max_iter=10).loglik
        assert em >= gem - 1e-12 * n


@pytest.mark.parametrize("kind", KINDS)
def test_paths_are_the_iterated_steps(kind):
    X, y, w, beta, *_ = instance(kind, 1)
    for algorithm, step, step_size in [
        ("gradient_em", S.gradient_em_step, 1.5),
        ("gd", S.gd_step, 2.0),
        ("gd", S.gd_step, None),
    ]:
        result = S.run(kind, X, y, w, beta, algorithm, max_iter=4, step_size=step_size)
        v, b = w, beta
        for t in range(1, 5):
            v, b = step(kind, X, y, v, b, step_size)
            np.testing.assert_array_equal(result.path[t], np.concatenate([v, b]))


@pytest.mark.parametrize("kind", KINDS)
def test_result_fields(kind):
    X, y, w, beta, *_ = instance(kind, 2)
    result = S.run(kind, X, y, w, beta, "em", max_iter=500, tol=1e-10)
    assert result.converged and result.n_iter < 500
    n = X.shape[0]
    assert has_converged(list(result.loglik_history), 1e-10, n)
    assert not has_converged(list(result.loglik_history[:-1]), 1e-10, n)
    p = S.posterior(kind, X, y, *S.from_moe_params(result.params))
    np.testing.assert_allclose(result.resp, np.column_stack([1 - p, p]), rtol=1e-13, atol=1e-15)
    assert result.messages == []
    assert result.loglik == result.loglik_history[-1]
    # without tol: exactly max_iter steps, never "converged"
    result = S.run(kind, X, y, w, beta, "em", max_iter=7)
    assert result.n_iter == 7 and not result.converged


def test_divergent_gd_stops_at_the_last_finite_iterate():
    X, y, w, beta, *_ = instance("linear", 1, d=2)
    with np.errstate(all="ignore"):
        result = S.run("linear", X, y, w, beta, "gd", max_iter=400, step_size=1e3)
    assert result.n_iter < 400 and not result.converged
    assert any("non-finite" in m and "step_size" in m for m in result.messages)
    assert result.path.shape == (result.n_iter + 1, 4)
    assert np.all(np.isfinite(result.path)) and np.all(np.isfinite(result.loglik_history))
    assert result.loglik < -X.shape[0] * S.neg_loglik("linear", X, y, w, beta)  # it diverged
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="step_size"):
        S.run("linear", X, y, w, beta, "gd", max_iter=5, step_size=1e300)


def test_argument_validation():
    X, y, w, beta, *_ = instance("linear", 0, d=2)
    with pytest.raises(ValueError, match="algorithm"):
        S.run("linear", X, y, w, beta, "newton", max_iter=3)
    with pytest.raises(ValueError, match="max_iter"):
        S.run("linear", X, y, w, beta, "em", max_iter=-1)
    with pytest.raises(ValueError, match="step_size"):
        S.run("linear", X, y, w, beta, "gradient_em", max_iter=3, step_size=0.0)
    with pytest.raises(ValueError, match="tol"):
        S.run("linear", X, y, w, beta, "em", max_iter=3, tol=-1.0)
    with pytest.raises(ValueError, match="w must have shape"):
        S.run("linear", X, y, np.zeros(3), beta)
    X_rank1 = np.column_stack([X[:, 0], 2 * X[:, 0]])
    with pytest.raises(ValueError, match="full column rank"):
        S.run("linear", X_rank1, y, w, beta, "em", max_iter=3)
