"""Tests of moe_lib.mirror.step: the mirror-descent step, solved numerically.

The unit step is checked against the EM step of moe_lib.steps (its own M-step solvers, which the
mirror package never imports), the dual form against the closed-form gradient of the symmetric
mirror map and moe_lib.steps.objective_gradient.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _mirror_cases import CASES, SYMMETRIC, make_instance, max_param_diff, other_params
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning

from moe_lib import (
    LinearExperts,
    MoEParams,
    add_intercept,
    em_step,
    make_data,
    mirror,
    objective,
    objective_gradient,
    sample,
    to_free,
)
from moe_lib import solvers as _solvers
from moe_lib.mirror.objective import MirrorDescentModel
from moe_lib.mirror.registry import view_of
from moe_lib.mirror.step import MirrorStepProblem


@pytest.mark.parametrize("seed", [11, 21, 31])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("case", list(CASES))
def test_unit_mirror_descent_step_equals_em_step(case, alpha, seed):
    family, data, params = make_instance(case, seed)
    md, res = mirror.mirror_descent_step(family, data, params, alpha, 1.0, return_result=True)
    em = em_step(family, data, params, alpha)
    diff = max_param_diff(md, em)
    assert diff <= 1e-8, f"{case}, alpha={alpha}: max |MD - EM| over parameters = {diff:.2e}"
    assert res.grad_norm <= 1e-10
    assert res.converged and res.dense_hessian
    # res.x is the free vector of the step (up to the rounding of log(exp(log sigma))).
    np.testing.assert_allclose(res.x, to_free(family, md), rtol=1e-14, atol=1e-15)
    # And the step really moved: it is not the start.
    assert max_param_diff(md, params) > 1e-2


@pytest.mark.parametrize("case", ["linear-K3", "multinomial-C3"])
def test_matrix_free_solver_path_equals_em_step(case, monkeypatch):
    """Above MAX_NEWTON_DIM free parameters the step uses Newton-CG with FD products."""
    family, data, params = make_instance(case, 15)
    # EM first: its own M-steps switch to Newton-CG at the same threshold.
    em = em_step(family, data, params, 0.5)
    monkeypatch.setattr(_solvers, "MAX_NEWTON_DIM", 0)
    md, res = mirror.mirror_descent_step(family, data, params, 0.5, 1.0, return_result=True)
    diff = max_param_diff(md, em)
    assert diff <= 1e-8, f"{case} (matrix-free): max |MD - EM| over parameters = {diff:.2e}"
    assert res.grad_norm <= 1e-10
    assert not res.dense_hessian


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
    # The closed forms of chapter 4: mean sig(u) g and mean a x (or sig(a) x).
    u, a = data.gate_X @ params.gate[1], data.X @ params.coef[1]
    second = a if case == "sym-linear" else expit(a)
    expected = np.concatenate([expit(u) @ data.gate_X, second @ data.X]) / data.n_samples
    np.testing.assert_allclose(
        mirror.mirror_map_gradient(family, data, params), expected, atol=1e-15
    )


def _overrelaxed_instance():
    """Two linear experts and a start from which the step with step_size 1.9 has no minimiser."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 1))
    lin = LinearExperts()
    true = MoEParams(np.array([[0.0, 0.0], [0.0, 1.0]]), np.array([[0.5, 1.0], [-0.5, -1.0]]),
                     np.array([1.0, 1.0]))
    y, _ = sample(lin, true, add_intercept(x), add_intercept(x), rng)
    start = MoEParams(np.array([[0.0, 0.0], [0.3, 0.2]]), np.array([[1.0, 0.5], [-1.0, -0.5]]),
                      np.array([1.5, 1.5]))
    return lin, make_data(x, y), start


def test_step_without_minimiser_raises():
    """Over-relaxed step (step_size 1.9) whose expert subproblem is unbounded: a clear error."""
    lin, data, start = _overrelaxed_instance()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="no minimiser"):
            mirror.mirror_descent_step(lin, data, start, 0.0, step_size=1.9)
        # The same start with a step that exists is fine.
        ok = mirror.mirror_descent_step(lin, data, start, 0.0, step_size=1.5)
    assert np.all(np.isfinite(ok.coef)) and np.max(np.abs(ok.coef)) < 1e3


def test_unfinished_solve_warns_and_reports_it():
    """Stopped by max_iter on its way down the unbounded subproblem: a warning, not a result
    that claims convergence."""
    lin, data, start = _overrelaxed_instance()
    with pytest.warns(ConvergenceWarning, match="gradient of"):
        _, res = mirror.mirror_descent_step(
            lin, data, start, 0.0, 1.9, max_iter=20, return_result=True
        )
    assert not res.converged and res.grad_norm > 100 * 1e-12 and res.n_iter == 20
    # Looser tolerances are honoured: the gradient per sample is within tol.
    family, data, params = make_instance("binomial", 18)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, res = mirror.mirror_descent_step(family, data, params, tol=1e-6, return_result=True)
    assert res.converged and res.grad_norm <= 1e-6


def test_finite_difference_hessian_keeps_the_cache():
    """The FD Hessian evaluates gradients elsewhere without replacing the cached point."""
    family, data, params = make_instance("linear-K2", 19, n=40)
    problem = MirrorStepProblem(
        family, data, MirrorDescentModel(view_of(family, data), params, 0.0, 1.0), params
    )
    calls = []
    evaluate = problem._evaluate
    problem._evaluate = lambda x: calls.append(1) or evaluate(x)
    v = to_free(family, params) + 0.1
    value, grad = problem.value(v), problem.gradient(v).copy()
    neg_h = problem.neg_hessian(v)
    hv = problem.neg_hessp(v, np.ones(v.size))
    assert len(calls) == 1
    assert problem.value(v) == value
    np.testing.assert_array_equal(problem.gradient(v), grad)
    assert len(calls) == 1
    np.testing.assert_allclose(neg_h, neg_h.T, rtol=0, atol=0)
    np.testing.assert_allclose(hv, neg_h @ np.ones(v.size), rtol=1e-6, atol=1e-8)
    # The curvature is that of the minimised model: positive definite near its minimiser.
    assert np.linalg.eigvalsh(neg_h)[0] > 0


def test_step_arguments_are_checked():
    family, data, params = make_instance("linear-K2", 14, n=20)
    with pytest.raises(ValueError, match="step_size"):
        mirror.mirror_descent_step(family, data, params, step_size=0.0)
    with pytest.raises(ValueError, match="tol"):
        mirror.mirror_descent_step(family, data, params, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        mirror.mirror_descent_step(family, data, params, max_iter=0)
    with pytest.raises(TypeError, match="return_result"):
        mirror.mirror_descent_step(family, data, params, return_result="yes")
    with pytest.raises(TypeError, match="family"):
        mirror.mirror_descent_step(object(), data, params)
