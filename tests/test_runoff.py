"""The run-off rules of exact EM (moe_lib.runoff), and why there is no earlier one."""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from moe_lib import MixtureOfLogisticExperts
from moe_lib._problem import SolveInfo
from moe_lib.runoff import FAILED_SOLVES_TO_STOP, RUNOFF_LOGODDS, RunoffWatch
from moe_lib.steps import MStepInfo


def _info(*solves):
    return MStepInfo(solves[0], list(solves[1:]))


def _solve(failed=False, size=1.0):
    return SolveInfo(5, 1e-3 if failed else 1e-12, not failed, failed, score_size=size)


def test_consecutive_failed_solves_of_one_block_stop_em_and_a_success_resets_the_count():
    watch = RunoffWatch(alpha=0.0)
    it = 0
    for failed in [True] * (FAILED_SOLVES_TO_STOP - 1) + [False]:  # one success: count again
        it += 1
        assert watch.update(_info(_solve(), _solve(failed)), it) is None
    for _ in range(FAILED_SOLVES_TO_STOP - 1):
        it += 1
        assert watch.update(_info(_solve(), _solve(True)), it) is None
    msg = watch.update(_info(_solve(), _solve(True)), it + 1)
    assert msg.startswith(f"EM stopped at iteration {it + 1}: expert 1 (index 0)'s M-step failed")
    assert msg.endswith("use alpha > 0")
    # Failures spread over different blocks never add up.
    watch = RunoffWatch(alpha=0.0)
    for t in range(3 * FAILED_SOLVES_TO_STOP):
        flags = [t % 3 == k for k in range(3)]
        assert watch.update(_info(*(_solve(f) for f in flags)), t + 1) is None


def test_log_odds_past_the_bar_stop_em_with_the_advice_for_the_penalty():
    below = _info(_solve(size=RUNOFF_LOGODDS), _solve(size=3.0))
    assert RunoffWatch(alpha=0.0).update(below, 1) is None  # (the bar itself is allowed)
    above = _info(None, _solve(size=3.0), _solve(size=RUNOFF_LOGODDS * 1.01))
    msg = RunoffWatch(alpha=0.0).update(above, 7)
    assert msg.startswith("EM stopped at iteration 7: expert 2 (index 1)'s log-odds reach 505")
    assert msg.endswith("use alpha > 0")
    assert RunoffWatch(alpha=0.1).update(above, 7).endswith("increase alpha")


def test_a_converging_fit_with_large_steadily_growing_log_odds_is_not_stopped():
    """Why the rules wait for the bar: in this well-specified mixture of two multinomial experts
    an expert's log-odds grow by about one every five iterations, from 21 to 28 over iterations
    15-45, then settle near 29; EM converges to a finite maximum (108 iterations). A rule that
    stopped steadily growing log-odds above 20 stopped this fit at iteration 39."""
    rng = np.random.default_rng(2)
    n, d, K, C = 10_000, 4, 2, 4
    X = rng.standard_normal((n, d))
    z = np.argmax(X @ (2.0 * rng.standard_normal((K, d))).T + rng.gumbel(size=(n, K)), axis=1)
    coef = rng.standard_normal((K, C, d))
    y = np.argmax(np.einsum("ip,icp->ic", X, coef[z]) + rng.gumbel(size=(n, C)), axis=1)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = MixtureOfLogisticExperts(K, random_state=0).fit(X, y)
    assert time.perf_counter() - start < 20
    assert est.converged_ and not est.fit_messages_ and est.n_iter_ > 60
    scores = np.einsum("ip,kcp->ikc", X, est.coef_) + est.intercept_[None]
    log_odds = scores - scores[:, :, :1]
    assert np.max(np.abs(log_odds)) > 20  # large, and finite at the maximum
