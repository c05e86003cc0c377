"""The solver layer ``moe_lib.solvers``: Newton's chord steps, the polish, and Newton-CG."""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from moe_lib.solvers import Problem, maximize, newton, newton_cg, polish_steps


class CallableProblem(Problem):
    """A :class:`Problem` from plain callables (value, gradient, Hessian of the maximised f)."""

    def __init__(self, fun, grad, hess):
        super().__init__()
        self.fun, self.grad, self.hess = fun, grad, hess

    def _evaluate(self, x):
        return self.fun(x)

    def _gradient(self):
        return self.grad(self._x)

    def _neg_hessian(self):
        return -self.hess(self._x)

    def _neg_hessp(self, u):
        return -self.hess(self._x) @ u


def newton_maximize(fun, grad, hess, x0, **kwargs):
    return newton(CallableProblem(fun, grad, hess), x0, **kwargs)


def _logistic_problem(seed=0, n=500, p=4):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    y = (rng.random(n) < special.expit(X @ rng.standard_normal(p))).astype(float)
    calls = {"hess": 0}

    def fun(b):
        eta = X @ b
        return float(y @ eta - np.sum(np.logaddexp(0.0, eta))) / n

    def grad(b):
        return X.T @ (y - special.expit(X @ b)) / n

    def hess(b):
        calls["hess"] += 1
        s = special.expit(X @ b)
        return -(X * (s * (1 - s))[:, None]).T @ X / n

    return fun, grad, hess, calls


def test_newton_reuses_its_factor_near_the_optimum():
    """From a start in the quadratic region one Hessian serves the whole solve (chord steps)."""
    fun, grad, hess, calls = _logistic_problem()
    ref = optimize.minimize(
        lambda b: -fun(b),
        np.zeros(4),
        jac=lambda b: -grad(b),
        hess=lambda b: -hess(b),
        method="trust-exact",
        options={"gtol": 1e-14},
    ).x
    calls["hess"] = 0
    x, info = newton_maximize(fun, grad, hess, ref + 1e-3, tol=1e-12)
    assert info.converged and info.grad_norm <= 1e-12
    assert calls["hess"] == 1 and info.n_iter >= 2
    np.testing.assert_allclose(x, ref, atol=1e-9)


def test_newton_recomputes_the_hessian_when_a_chord_step_fails():
    """A strongly curved objective: chord steps from a stale Hessian are refused, and Newton
    still converges to the maximiser of ``-sum(cosh(3 x) - x)``: ``sinh(3 x) = 1/3``."""
    calls = {"hess": 0}

    def hess(x):
        calls["hess"] += 1
        return -np.diag(9 * np.cosh(3 * x))

    x, info = newton_maximize(
        lambda x: float(-np.sum(np.cosh(3 * x) - x)),
        lambda x: -(3 * np.sinh(3 * x) - 1),
        hess,
        np.full(3, 2.0),
        tol=1e-12,
    )
    assert info.converged
    np.testing.assert_allclose(x, np.arcsinh(1 / 3) / 3, rtol=1e-12)
    assert calls["hess"] >= 3  # far from the optimum every step needed a fresh Hessian


def test_problem_caches_each_quantity_once_per_point():
    counts = {"value": 0, "grad": 0, "hess": 0}

    def fun(x):
        counts["value"] += 1
        return -float(x @ x)

    def grad(x):
        counts["grad"] += 1
        return -2 * x

    def hess(x):
        counts["hess"] += 1
        return -2 * np.eye(x.size)

    problem = CallableProblem(fun, grad, hess)
    x = np.ones(3)
    for _ in range(3):
        problem.value(x), problem.gradient(x), problem.neg_hessian(x)
    assert counts == {"value": 1, "grad": 1, "hess": 1}
    problem.value(x + 1)
    problem.gradient(x + 1)
    assert counts == {"value": 2, "grad": 2, "hess": 1}


def test_newton_cg_and_maximize_reach_the_same_maximiser():
    fun, grad, hess, _ = _logistic_problem(seed=2, n=400, p=5)
    x_newton, info_n = maximize(CallableProblem(fun, grad, hess), np.zeros(5), tol=1e-12)
    # Newton-CG works from values and Hessian-vector products: 1e-10 is its (the M-steps') target.
    x_cg, info_cg = newton_cg(CallableProblem(fun, grad, hess), np.zeros(5), tol=1e-10)
    assert info_n.converged and info_cg.converged
    np.testing.assert_allclose(x_cg, x_newton, atol=1e-8)


def test_polish_shrinks_the_gradient_below_the_tolerance():
    """A start within tolerance is returned as is by Newton but polished by ``polish_steps``."""
    fun, grad, hess, _ = _logistic_problem(seed=3)
    problem = CallableProblem(fun, grad, hess)
    ref, _ = newton(problem, np.zeros(4), tol=1e-15)
    start = ref + 1e-8
    same, info = newton(problem, start, tol=1e-6)
    np.testing.assert_array_equal(same, start)
    assert info.n_iter == 0
    polished = polish_steps(problem, start, 2)
    assert np.max(np.abs(grad(polished))) < 1e-3 * np.max(np.abs(grad(start)))
    np.testing.assert_allclose(polished, ref, atol=1e-12)



def _drifting_softmax_solves(n_solves, *, steady=True, without=(), seed=3):
    """A gate-like sequence of nearby problems: ten-class soft labels whose coefficients drift
    from one solve to the next (as the responsibilities do over EM iterations), steadily along
    one direction or by a random walk; each solved from the last one's maximiser and curvature.
    ``without``: rules of ``moe_lib._curvature`` switched off ("renew", "predict"). Returns the
    solves' infos and passes, and the maximisers."""
    from moe_lib import _curvature
    from moe_lib.regression import SoftmaxRegression

    rng = np.random.default_rng(seed)
    n, p, C = 2000, 6, 10
    X = np.column_stack([np.ones(n), rng.standard_normal((n, p - 1))])
    B, drift = rng.standard_normal((C, p)), 0.02 * rng.standard_normal((C, p))
    x, curvature, infos, passes, points = np.zeros((C - 1) * p), None, [], [], []
    saved = {name: getattr(_curvature.Curvature, name)
             for name in ("worth_renewing", "predicted_start")}
    try:
        if "renew" in without:
            _curvature.Curvature.worth_renewing = lambda self, cost: False
        if "predict" in without:
            _curvature.Curvature.predicted_start = lambda self, x0: None
        for _ in range(n_solves):
            T = special.softmax(X @ B.T, axis=1)
            problem = SoftmaxRegression(X, T, np.ones(n), 0.0, np.ones(p))
            x, info = maximize(problem, x, tol=1e-10, curvature=curvature)
            curvature = info.curvature
            infos.append(info)
            passes.append(problem.passes)
            points.append(x)
            B = B + (drift if steady else 0.02 * rng.standard_normal((C, p)))
    finally:
        for name, method in saved.items():
            setattr(_curvature.Curvature, name, method)
    return infos, passes, points


def test_a_stale_factor_is_renewed_once_its_extra_evaluations_cost_a_hessian():
    """The rent-or-buy rule of moe_lib._curvature on problems that drift by a random walk: every
    solve still meets its tolerance at the same maximiser; a solve that starts from a factor
    whose excess reached a Hessian's cost forms one first and starts a new record; renewing
    costs fewer passes over the data than keeping one factor as long as each of its steps is
    worth its evaluation."""
    infos, passes, points = _drifting_softmax_solves(30, steady=False)
    kept, kept_passes, kept_points = _drifting_softmax_solves(30, steady=False, without=["renew"])
    assert all(info.converged and info.grad_norm <= 1e-10 for info in infos + kept)
    np.testing.assert_allclose(points, kept_points, atol=1e-8)
    cost = 45 * 3.5 / 18  # a ten-class softmax Hessian at p = 6, in evaluations (pass model)
    renewed = [j for j in range(1, 30) if infos[j - 1].curvature.excess >= cost]
    assert renewed, "the drift should make the first factor go stale within 30 solves"
    for j in renewed:
        assert infos[j].n_hessians >= 1 and infos[j].curvature.excess < cost
    for j in range(1, 30):
        if j not in renewed and infos[j].n_hessians == 0:  # reused: the excess only grows
            assert infos[j].curvature.excess >= infos[j - 1].curvature.excess
    assert sum(passes) < sum(kept_passes)


def test_a_solve_starts_where_the_last_moves_predict_its_maximiser():
    """On a steady drift the maximisers move by equal steps: from the second solve on, each
    starts at the predicted point (the last move, times its projection on the one before),
    which is nearer its maximiser than the warm start, and the solves cost fewer evaluations;
    the maximisers are the same. On a random walk no move is worth predicting in general, and
    the prediction never moves the start by more than the last move."""
    infos, _, points = _drifting_softmax_solves(20)
    plain, _, plain_points = _drifting_softmax_solves(20, without=["predict"])
    np.testing.assert_allclose(points, plain_points, atol=1e-8)
    moves = np.diff(points, axis=0)
    for j in range(2, 19):
        curvature = infos[j].curvature
        predicted = curvature.predicted_start(points[j])
        assert predicted is not None
        # the rate of a steady drift is 1 up to the solves' tolerance: the full last move
        np.testing.assert_allclose(predicted - points[j], moves[j - 1], rtol=1e-6, atol=1e-9)
        assert np.abs(predicted - points[j + 1]).max() < 1e-3 * np.abs(moves[j]).max()
    assert curvature.predicted_start(points[j] + 1e-12) is None  # not where the solve ended
    cost = sum(i.n_evaluations for i in infos[2:])
    assert cost < 0.5 * sum(i.n_evaluations for i in plain[2:])
    walk, _, walk_points = _drifting_softmax_solves(20, steady=False)
    for j in range(1, 19):
        ahead = walk[j].curvature.ahead
        move = walk_points[j] - walk_points[j - 1]
        assert ahead is None or np.linalg.norm(ahead) <= np.linalg.norm(move) * (1 + 1e-12)
