"""The cost in passes over the data that every run reports (``FitResult.passes``,
``BatchPaths.passes``, ``EMStepper.passes``), against counts made independently."""

import numpy as np
import pytest

from moe_lib import LinearExperts, LogisticExperts, make_data, random_resp, run
from moe_lib import symmetric as sym
from moe_lib.regression import LogisticRegressions, SoftmaxRegression
from moe_lib.solvers import maximize


def _logistic_data(n=400, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, d - 1))])
    y = (X @ rng.normal(size=d) + rng.logistic(size=n) > 0).astype(float)
    return X, y


@pytest.mark.parametrize("K", [1, 3])
def test_logistic_problem_passes_follow_its_evaluations_and_hessians(K):
    X, y = _logistic_data()
    p = X.shape[1]
    problem = LogisticRegressions(X, y, np.ones(len(y)), np.ones((len(y), K)), 0.0, np.ones(p))
    _, info = maximize(problem, np.zeros(K * p))
    assert info.n_evaluations > 1 and info.n_hessians >= 1
    expected = 2 * K * info.n_evaluations + K * (p + 1) / 2 * info.n_hessians
    assert info.passes == pytest.approx(expected)


def test_softmax_hessian_counts_each_distinct_gram_block_once():
    X, y = _logistic_data()
    n, p = X.shape
    C = 4
    targets = np.random.default_rng(1).dirichlet(np.ones(C), size=n)
    problem = SoftmaxRegression(X, targets, np.ones(n), 0.0, np.ones(p))
    v = np.zeros((C - 1) * p)
    problem.neg_hessian(v)
    # One evaluation (2 (C - 1) passes) and a 3 x 3 grid of Gram blocks, 6 of them distinct.
    assert problem.passes == pytest.approx(2 * (C - 1) + 6 * (p + 1) / 2)


def test_gradient_steps_cost_the_scores_and_as_many_products_back():
    X, y = _logistic_data()
    data = make_data(X[:, 1:], y)
    resp = random_resp(len(y), 3, np.random.default_rng(0))
    result = run(LogisticExperts(), data, init_resp=resp, algorithm="gd", max_iter=5,
                 step_size=1e-3, tol=None)
    # Iteration 1 is the exact M-step from the responsibilities, then gradient steps: 3 gate
    # rows and 3 expert vectors, forward and back.
    assert np.all(result.passes[1:] == 2 * (3 + 3))
    # The E-step's scores plus at least one evaluation of each inner solve (the gate's two
    # non-reference scores, the three experts' scores), forward and back.
    assert result.passes[0] >= 6 + 2 * 2 + 2 * 3


def test_linear_em_iteration_adds_closed_forms_to_the_gate_solve():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(500, 2))
    y = np.where(X[:, 0] > 0, X[:, 1], -X[:, 1]) + 0.1 * rng.normal(size=500)
    data = make_data(X, y)
    result = run(LinearExperts(), data, init_resp=random_resp(500, 2, rng), max_iter=4,
                 tol=None)
    p = data.X.shape[1]
    closed = 2 * ((p + 1) / 2 + 2)  # per expert: Gram matrix, X^T r y, residuals
    # The gate's solve: binary softmax, 2 passes per evaluation, one Gram block per Hessian.
    gate = 2 * result.evaluations + (p + 1) / 2 * result.hessians
    np.testing.assert_allclose(result.passes, (2 + 2) + closed + gate)


@pytest.mark.parametrize("kind", ["linear", "logistic"])
@pytest.mark.parametrize("algorithm", ["em", "gd"])
def test_batched_and_single_runs_count_the_same_passes(kind, algorithm):
    batch = sym.make_batch(kind, [3, 4], d=3, n=300)
    paths = sym.run_batch(batch, algorithm, 6)
    for b in range(2):
        single = sym.run(kind, batch.X[b], batch.y[b], batch.w0[b], batch.beta0[b], algorithm,
                         max_iter=6)
        np.testing.assert_allclose(paths.passes[b, 1:], np.cumsum(single.passes))
    if algorithm == "gd":
        assert np.all(np.diff(paths.passes, axis=1) == 4.0)
    else:
        # At least the E-step and one evaluation of the inner solve per step.
        assert np.all(np.diff(paths.passes, axis=1) >= 2.0 + 2.0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_reports_passes_per_iteration():
    from moe_lib import MixtureOfLogisticExperts

    X, y = _logistic_data(seed=3)
    est = MixtureOfLogisticExperts(n_experts=2, alpha=0.1, max_iter=5, random_state=0)
    est.fit(X[:, 1:], y)
    assert est.passes_.shape == (est.n_iter_,)
    assert np.all(est.passes_ > 2 * 2)
