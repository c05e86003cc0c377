"""When exact EM stops because coefficients run off: the two run-off rules of the driver.

Where the likelihood has no finite maximiser (separable data, an overspecified mixture fitting
noise), exact EM raises it towards a supremum that no finite parameter attains: some gate or
expert coefficients grow from one iteration to the next, and each M-step needs ever more work.
:class:`RunoffWatch` reads every M-step's inner solves (``moe_lib.steps.MStepInfo``) and stops
EM, with a message that names the block, when

1. the same block's solve failed on :data:`FAILED_SOLVES_TO_STOP` consecutive iterations;
2. a block's log-odds (its largest score against the reference class, rows beyond
   :data:`RUNOFF_OUTLYING_IQRS` interquartile ranges left out) exceed :data:`RUNOFF_LOGODDS`.

Both rules judge the end of a run-off, where no finite maximum can be near. An earlier stop, on
log-odds that have grown steadily for a while, was tried and withdrawn: well-specified
multinomial mixtures, whose EM converges to a finite maximum, also have log-odds of 20 to 80 that
grow by the same amount per iteration for twenty or more iterations before they settle (such a
rule stopped 11 of 37 converging fits early; ``tests/test_runoff.py`` keeps one of them).
"""

from __future__ import annotations

from moe_lib._problem import OUTLYING_IQRS, RUNOFF_SCORE
from moe_lib.diagnostics import expert_name

__all__ = ["FAILED_SOLVES_TO_STOP", "RUNOFF_LOGODDS", "RUNOFF_OUTLYING_IQRS", "RunoffWatch"]

#: EM stops when the same block's inner solve failed on this many consecutive iterations. Its
#: M-step then has no usable maximiser (it diverges), and more iterations only chase coefficients
#: to infinity.
FAILED_SOLVES_TO_STOP = 3

#: EM stops when an inner regression's log-odds exceed this. Its probabilities are then within
#: e^-500 of 0 or 1, a hard switch, and its coefficients grow without bound from one iteration
#: to the next. Well-posed fits stay far below it. The inner solve itself stops there
#: (:data:`moe_lib._problem.RUNOFF_SCORE`).
RUNOFF_LOGODDS = RUNOFF_SCORE
#: Rule 2 judges the rows within this many interquartile ranges of every column's median
#: (``moe_lib._problem.outlying_rows``), since at a finite maximiser a row further out (a gross
#: outlier, the far tail of a heavy-tailed feature) can have log-odds of any size.
RUNOFF_OUTLYING_IQRS = OUTLYING_IQRS


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

    @staticmethod
    def blocks(info) -> dict:
        """An M-step's inner solves, named as the messages name them (the gate, expert k+1)."""
        return {"the gate": info.gate} | {expert_name(k): s for k, s in enumerate(info.experts)}

    def update(self, info, iteration: int) -> str | None:
        """Record the M-step of ``iteration`` (counted from 1); the message if EM must stop."""
        blocks = {b: s for b, s in self.blocks(info).items() if s is not None}
        for block, solve in blocks.items():
            self.failures[block] = self.failures.get(block, 0) + 1 if solve.hit_bound else 0
        head = f"EM stopped at iteration {iteration}: "
        supremum = "the likelihood keeps rising towards a supremum that no finite parameter attains"
        for block, count in self.failures.items():
            if count >= FAILED_SOLVES_TO_STOP:
                return (
                    f"{head}{block}'s M-step failed to reach its tolerance on "
                    f"{FAILED_SOLVES_TO_STOP} consecutive iterations (its coefficients run off: "
                    f"{supremum})" + ("; use alpha > 0" if self.alpha == 0 else "")
                )
        for block, solve in blocks.items():
            if solve.score_size > RUNOFF_LOGODDS:
                return (
                    f"{head}{block}'s log-odds reach {solve.score_size:.3g} (> "
                    f"{RUNOFF_LOGODDS:g}): its coefficients run off (its data look separable: "
                    f"{supremum})" + ("; use alpha > 0" if self.alpha == 0 else "; increase alpha")
                )
        return None
