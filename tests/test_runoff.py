"""The run-off rules of exact EM (moe_lib.runoff): a drift that does not slow down stops EM."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

import moe_lib.runoff as runoff
from moe_lib import MixtureOfLogisticExperts
from moe_lib._problem import SolveInfo
from moe_lib.runoff import DRIFT_LOGODDS, DRIFT_MIN_GROWTH, DRIFT_WINDOW, RunoffWatch, drifting
from moe_lib.steps import MStepInfo

SPAN = 2 * DRIFT_WINDOW + 1  # log-odds of this many iterations are judged


@settings(max_examples=200, deadline=None)
@given(
    limit=st.floats(DRIFT_LOGODDS, 1e4),
    gap=st.floats(0.0, 1e4),
    rate=st.floats(0.0, 0.999),
    length=st.integers(SPAN, 300),
)
def test_log_odds_that_converge_geometrically_never_count_as_a_drift(limit, gap, rate, length):
    """EM converging linearly: increments shrink by rate**DRIFT_WINDOW per window, however slow."""
    sizes = [limit - gap * rate**t for t in range(length)]
    assert not any(drifting(sizes[:t]) for t in range(SPAN, length + 1))


@settings(max_examples=200, deadline=None)
@given(
    start=st.floats(DRIFT_LOGODDS, 400.0),
    slope=st.floats(DRIFT_MIN_GROWTH / DRIFT_WINDOW, 10.0),
    curve=st.floats(0.0, 1.0),
)
def test_growth_at_least_linear_above_the_bar_is_a_drift(start, slope, curve):
    sizes = [start + slope * t + curve * t**2 for t in range(SPAN)]
    assert drifting(sizes)
    # ...but not one iteration sooner, nor with one dip anywhere in the span, nor from below.
    assert not drifting(sizes[1:])
    for t in range(1, SPAN):
        dipped = sizes.copy()
        dipped[t] = dipped[t - 1] - 1e-9
        if t + 1 < SPAN:
            dipped[t + 1:] = [s + dipped[t] - sizes[t] for s in sizes[t + 1:]]
        assert not drifting(dipped)
    assert not drifting([s - sizes[0] + DRIFT_LOGODDS * 0.99 for s in sizes])


def test_growth_that_slows_down_is_not_a_drift():
    w = DRIFT_WINDOW
    sizes = [30.0 + 0.2 * t for t in range(w + 1)] + [32.0 + 0.19 * t for t in range(1, w + 1)]
    assert not drifting(sizes)  # 1.9 in the second window after 2.0 in the first
    sizes[-1] += 0.1 + 1e-9
    assert drifting(sizes)


def _info(*sizes):
    return MStepInfo(None, [SolveInfo(3, 1e-12, True, False, score_size=s) for s in sizes])


def test_the_watch_names_the_drifting_block_and_restarts_when_experts_vanish():
    watch = RunoffWatch(alpha=0.0)
    grow = [25.0 + 0.5 * t for t in range(SPAN)]
    for t in range(SPAN - 1):
        assert watch.update(_info(3.0, grow[t]), t + 1) is None
    msg = watch.update(_info(3.0, grow[-1]), SPAN)
    assert msg.startswith(f"EM stopped at iteration {SPAN}: expert 2 (index 1)'s log-odds grew")
    assert msg.endswith("use alpha > 0 or fewer experts")
    # An expert vanished: the solves are renumbered, so the histories start again.
    watch = RunoffWatch(alpha=0.0)
    for t in range(SPAN - 1):
        watch.update(_info(3.0, grow[t]), t + 1)
    assert watch.update(_info(grow[-1]), SPAN) is None
    assert watch.sizes == {"expert 1 (index 0)": [grow[-1]]}
    # A penalised fit: every penalised coefficient has a finite maximiser; rule 3 stays out.
    watch = RunoffWatch(alpha=0.5)
    assert all(watch.update(_info(3.0, s), t + 1) is None for t, s in enumerate(grow))


def test_an_overspecified_multinomial_fit_to_noise_stops_when_its_drift_shows():
    """Labels independent of the features, four multinomial experts: the likelihood has no finite
    maximiser, and an expert's log-odds grow steadily for hundreds of iterations; rule 3 stops
    EM well before rule 2 (log-odds 500) or max_iter would, at a point EM reached anyway."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((1000, 2)), rng.integers(0, 5, size=1000)
    with pytest.warns(ConvergenceWarning, match="without slowing down") as caught:
        est = MixtureOfLogisticExperts(4, random_state=0).fit(X, y)
    assert any("use alpha > 0 or fewer experts" in str(w.message) for w in caught)
    assert not est.converged_ and np.all(np.isfinite(est.coef_))
    assert np.all(np.diff(est.objective_history_) >= -1e-9 * abs(est.objective_history_[-1]))
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        patch.setattr(runoff, "drifting", lambda sizes: False)
        longer = MixtureOfLogisticExperts(4, random_state=0).fit(X, y)
    assert longer.n_iter_ > 1.4 * est.n_iter_
    # Same path: the stopped fit is the longer run's iterate at the same iteration.
    np.testing.assert_allclose(
        longer.objective_history_[: len(est.objective_history_)], est.objective_history_,
        rtol=1e-12,
    )
