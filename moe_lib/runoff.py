"""When exact EM stops because coefficients run off: the three run-off rules of the driver.

Where the likelihood has no finite maximiser (separable data, an overspecified mixture fitting
noise), exact EM raises it towards a supremum that no finite parameter attains: some gate or
expert coefficients grow from one iteration to the next, and each M-step needs ever more work.
:class:`RunoffWatch` reads every M-step's inner solves (``moe_lib.steps.MStepInfo``) and stops
EM, with a message that names the block, when

1. the same block's solve failed on :data:`FAILED_SOLVES_TO_STOP` consecutive iterations;
2. a block's log-odds (its largest score against the reference class, rows beyond
   :data:`RUNOFF_OUTLYING_IQRS` interquartile ranges left out) exceed :data:`RUNOFF_LOGODDS`;
3. in an unpenalised fit (``alpha = 0``), a block's log-odds, at least :data:`DRIFT_LOGODDS`
   throughout, grew at every one of the last ``2 * DRIFT_WINDOW`` iterations, by at least
   :data:`DRIFT_MIN_GROWTH` over the first :data:`DRIFT_WINDOW` of them and by no less over the
   second: a drift that does not slow down.

Rule 3 is ours, and a judgement: where EM converges, the log-odds converge too, and their
increments shrink (geometrically once EM converges linearly), so a growth that has not slowed
over ``2 * DRIFT_WINDOW`` iterations at log-odds already that large is a run-off in progress
(log-odds that rise from small values and then settle, as a gate sharpening while the experts
separate, are not judged until they are all above :data:`DRIFT_LOGODDS`). Overspecified
multinomial mixtures fitted to labels that do not depend on the features drift like this for
hundreds of iterations before rule 2 applies (``benchmarks/fit_times.py``). With ``alpha > 0``
every penalised coefficient has a finite maximiser, and a penalised fit's log-odds can climb
steadily for ten or more iterations and then settle (``tests/test_separation.py``): rule 3 leaves
penalised fits to rules 1 and 2 and ``max_iter``.
"""

from __future__ import annotations

from moe_lib._problem import OUTLYING_IQRS, RUNOFF_SCORE
from moe_lib.diagnostics import expert_name

__all__ = [
    "DRIFT_LOGODDS", "DRIFT_MIN_GROWTH", "DRIFT_WINDOW", "FAILED_SOLVES_TO_STOP",
    "RUNOFF_LOGODDS", "RUNOFF_OUTLYING_IQRS", "RunoffWatch",
]

#: EM stops when the same block's inner solve failed on this many consecutive iterations: its
#: M-step has no usable maximiser (it diverges), and more iterations only chase coefficients to
#: infinity.
FAILED_SOLVES_TO_STOP = 3

#: EM stops when an inner regression's log-odds exceed this: its probabilities are then within
#: e^-500 of 0 or 1, a hard switch, and its coefficients grow without bound from one iteration
#: to the next. Well-posed fits stay far below it. The inner solve itself stops there
#: (:data:`moe_lib._problem.RUNOFF_SCORE`).
RUNOFF_LOGODDS = RUNOFF_SCORE
#: Rules 2 and 3 judge the rows within this many interquartile ranges of every column's median
#: (``moe_lib._problem.outlying_rows``): at a finite maximiser a row further out (a gross
#: outlier, the far tail of a heavy-tailed feature) can have log-odds of any size.
RUNOFF_OUTLYING_IQRS = OUTLYING_IQRS

#: Rule 3 applies to log-odds of at least this (probabilities within e^-20 ~ 2e-9 of 0 or 1)...
DRIFT_LOGODDS = 20.0
#: ...that grew over each of the last two windows of this many EM iterations...
DRIFT_WINDOW = 10
#: ...by at least this much, and by no less in the second window than in the first.
DRIFT_MIN_GROWTH = 1.0


def _advice(alpha: float) -> str:
    return "; use alpha > 0" if alpha == 0 else "; increase alpha"


class RunoffWatch:
    """Reads each exact M-step's inner solves; says when and why EM should stop.

    Examples
    --------
    >>> from moe_lib._problem import SolveInfo
    >>> from moe_lib.steps import MStepInfo
    >>> watch = RunoffWatch(alpha=0.0)
    >>> watch.update(MStepInfo(SolveInfo(3, 1e-12, True, False, score_size=2.0)), 1) is None
    True
    >>> info = MStepInfo(SolveInfo(3, 1e-12, True, False, score_size=600.0))
    >>> watch.update(info, 2)[:56]
    "EM stopped at iteration 2: the gate's log-odds reach 600"
    """

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.failures: dict[str, int] = {}
        self.sizes: dict[str, list[float]] = {}

    @staticmethod
    def blocks(info) -> dict:
        """An M-step's inner solves, named as the messages name them (the gate, expert k+1)."""
        return {"the gate": info.gate} | {expert_name(k): s for k, s in enumerate(info.experts)}

    def update(self, info, iteration: int) -> str | None:
        """Record the M-step of ``iteration`` (counted from 1); the message if EM must stop."""
        blocks = {b: s for b, s in self.blocks(info).items() if s is not None}
        if set(blocks) != set(self.sizes):  # (an expert vanished: the solves are renumbered)
            self.sizes = {b: [] for b in blocks}
        for block, solve in blocks.items():
            self.failures[block] = self.failures.get(block, 0) + 1 if solve.hit_bound else 0
            self.sizes[block].append(solve.score_size)
        head = f"EM stopped at iteration {iteration}: "
        supremum = "the likelihood keeps rising towards a supremum that no finite parameter attains"
        for block, count in self.failures.items():
            if count >= FAILED_SOLVES_TO_STOP:
                return (
                    f"{head}{block}'s M-step failed to reach its tolerance on "
                    f"{FAILED_SOLVES_TO_STOP} consecutive iterations (its coefficients run off: "
                    f"{supremum})" + _advice(self.alpha)
                )
        for block, sizes in self.sizes.items():
            if sizes[-1] > RUNOFF_LOGODDS:
                return (
                    f"{head}{block}'s log-odds reach {sizes[-1]:.3g} (> {RUNOFF_LOGODDS:g}): its "
                    f"coefficients run off (its data look separable: {supremum})"
                    + _advice(self.alpha)
                )
        for block, sizes in self.sizes.items():
            if self.alpha == 0 and drifting(sizes):
                w = DRIFT_WINDOW
                return (
                    f"{head}{block}'s log-odds grew from {sizes[-2 * w - 1]:.3g} to "
                    f"{sizes[-1]:.3g} over the last {2 * w} iterations without slowing down, as "
                    f"coefficients that run off do ({supremum}; an overspecified mixture fitting "
                    "noise does this); use alpha > 0 or fewer experts"
                )
        return None


def drifting(sizes: list[float]) -> bool:
    """Rule 3 on one block's log-odds, one per EM iteration so far.

    Examples
    --------
    >>> drifting([20.0 + 0.1 * t for t in range(21)])  # steady growth of 1 per window
    True
    >>> drifting([30.0 - 10.0 * 0.95**t for t in range(21)])  # converging
    False
    """
    w = DRIFT_WINDOW
    if len(sizes) <= 2 * w or not sizes[-2 * w - 1] >= DRIFT_LOGODDS:
        return False
    span = sizes[-2 * w - 1:]
    first, second = span[w] - span[0], span[-1] - span[w]
    # (A maximum over rows can jump about: every step must rise.)
    rising = all(b >= a for a, b in zip(span[:-1], span[1:], strict=True))
    # (Steady growth gives equal increments up to their rounding, relative to the log-odds.)
    return rising and first >= DRIFT_MIN_GROWTH and second >= first - 1e-12 * span[-1]
