"""The curvature a Newton solve leaves for the next solve of a nearby problem; when to renew it.

Consecutive EM iterations pose nearly the same M-step problems, so a solve starts from the
factorised negated Hessian the previous one left (:class:`Curvature`) and takes quasi-Newton steps
on it (:func:`moe_lib.solvers.newton`). As EM moves on, that factor goes stale: each step still
shrinks the gradient, but by less, and a solve needs more of them (on a ten-class gate, from three
steps right after a Hessian to eleven or more some twenty EM iterations later). Each step is worth
keeping when judged alone, so a per-step rule never renews the factor; the cost adds up over the
solves instead.

The rule here is the rent-or-buy rule: a factor records how many evaluations per decade of gradient
contraction its own solve needed right after it was formed (``per_decade``), and every later solve
on it adds the evaluations it spent beyond that rate (``excess``). Once the excess reaches the cost
of a Hessian, counted in evaluations by the problem's pass model, the next solve forms a fresh
Hessian first. Renewing never changes what a solve returns (every solve still stops at its
tolerance), only what it costs; in its cost model it spends at most twice what the best renewal
schedule in hindsight would have.

A curvature also remembers where its solve started and ended: the next solve, if it continues
from that end (as consecutive EM iterations do), starts where the last two moves predict the
maximiser (:func:`with_prediction`), which again changes the cost of a solve, not its result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

#: A fresh factor's rate is measured only over a solve that took the gradient down by at least
#: this many decades after forming it (fewer: the rate of the factor before is kept).
MIN_DECADES = 1.0


@dataclass(frozen=True)
class Curvature:
    """The curvature a Newton solve leaves for the next solve of a nearby problem.

    A Cholesky factor of a negated Hessian, and the secant pairs ``(s, y, s.y)`` (``y`` the
    gradient's decrease along the step ``s``) gathered by quasi-Newton steps since. Both stay
    valid across the M-steps of consecutive EM iterations: a soft-label regression's Hessian does
    not depend on its labels, only on the point (and, for weighted regressions, on the weights,
    which change little near convergence). ``per_decade`` and ``excess`` decide when it is worth
    renewing (:meth:`worth_renewing`).

    Attributes
    ----------
    factor : tuple
        ``scipy.linalg.cho_factor``'s ``(c, lower)``.
    pairs : tuple
        Secant pairs, oldest first.
    per_decade : float
        Evaluations per decade of gradient contraction the solve that formed ``factor`` took
        after forming it (``inf``: not measured).
    excess : float
        Evaluations the solves since have spent beyond that rate.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import linalg
    >>> c = Curvature(linalg.cho_factor(np.eye(2)), ())
    >>> c.size, len(c.pairs), c.worth_renewing(hessian_cost=3.0)
    (2, 0, False)
    """

    factor: tuple
    pairs: tuple = ()
    per_decade: float = np.inf
    excess: float = 0.0
    end: np.ndarray | None = field(default=None, repr=False)
    displacement: np.ndarray | None = field(default=None, repr=False)
    ahead: np.ndarray | None = field(default=None, repr=False)
    end_size: float = 0.0

    @property
    def size(self) -> int:
        """The number of unknowns it is for."""
        return self.factor[0].shape[0]

    def worth_renewing(self, hessian_cost: float) -> bool:
        """Whether the stale factor has cost, in extra evaluations, a Hessian's worth already.

        ``hessian_cost``: a Hessian's cost in evaluations
        (:meth:`moe_lib._problem.Problem.hessian_cost`).
        """
        return self.excess >= hessian_cost

    def ended_at(self, x: np.ndarray) -> bool:
        """Whether the solve that left this curvature returned exactly ``x`` (so that a solve
        from ``x`` continues it, as consecutive EM iterations do)."""
        end = self.end
        return end is not None and end.shape == x.shape and bool((end == x).all())

    def predicted_start(self, x0: np.ndarray) -> np.ndarray | None:
        """Where the next maximiser is predicted to be, when the solve from ``x0`` continues this
        one (:meth:`ended_at`); None otherwise, or when no move is predicted."""
        return x0 + self.ahead if self.ahead is not None and self.ended_at(x0) else None


def kept_curvature(
    previous: Curvature | None,
    factor: tuple,
    pairs: list,
    formed: tuple[int, float] | None,
    gnorms: tuple[float, float],
    evaluations: int,
    path: tuple[np.ndarray, np.ndarray, float] | None = None,
) -> Curvature:
    """The :class:`Curvature` a solve leaves, with its renewal record brought up to date and,
    given ``path``, the move predicted for the next solve (:func:`with_prediction`).

    Parameters
    ----------
    previous : Curvature or None
        What the solve started from (None: it had none, or another problem's).
    factor, pairs
        The factor and secant pairs at the solve's end.
    formed : (int, float) or None
        Evaluations made and largest gradient entry when the solve formed ``factor`` (None: it
        reused ``previous.factor`` throughout).
    gnorms : (float, float)
        Largest gradient entry at the solve's start and end.
    evaluations : int
        Evaluations the solve made (its first, at the start, included).
    path : (ndarray, ndarray, float), optional
        The caller's start, the point returned and its largest score.

    Returns
    -------
    Curvature

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import linalg
    >>> f = linalg.cho_factor(np.eye(2))
    >>> fresh = kept_curvature(None, f, [], (2, 1e-2), (1e-1, 1e-12), 7)  # 5 evaluations, 10 dec.
    >>> fresh.per_decade, fresh.excess
    (0.5, 0.0)
    >>> later = kept_curvature(fresh, f, [], None, (1e-3, 1e-11), 9)  # 8 beyond the 1st, 8 dec.
    >>> later.per_decade, later.excess
    (0.5, 4.0)
    """
    tiny = float(np.finfo(float).tiny)
    start_gnorm, end_gnorm = gnorms
    per_decade = previous.per_decade if previous is not None else np.inf
    excess = previous.excess if previous is not None else 0.0
    if formed is not None:
        decades = math.log10(formed[1] / max(end_gnorm, tiny))
        if decades >= MIN_DECADES:
            per_decade = (evaluations - formed[0]) / decades
        excess = 0.0
    elif np.isfinite(per_decade):
        # The start's evaluation is needed whatever the factor; the others are the factor's cost.
        decades = max(math.log10(start_gnorm / max(end_gnorm, tiny)), 0.0)
        excess += max(evaluations - 1 - per_decade * decades, 0.0)
    kept = Curvature(factor, tuple(pairs), per_decade, excess)
    return kept if path is None else with_prediction(kept, previous, *path)


def with_prediction(
    kept: Curvature, previous: Curvature | None, start: np.ndarray, end: np.ndarray,
    end_size: float,
) -> Curvature:
    """``kept`` with the move its solve made and the move predicted for the next solve.

    EM's iterates approach their limit along a slowly turning direction, each move about ``rho``
    times the one before (``rho`` the rate of its linear convergence; close to 1 where EM is
    slow), and so do the maximisers of consecutive M-steps. The next solve is predicted to move
    by ``rho_hat`` times this solve's move, ``rho_hat`` the projection of this move on the one
    before, clipped to ``[0, 1]`` (no prediction where the direction turned back, or where this
    solve did not continue the one before). Only the start depends on it, never the maximiser.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import linalg
    >>> f = linalg.cho_factor(np.eye(2))
    >>> first = with_prediction(Curvature(f), None, np.zeros(2), np.array([1.0, 0.0]), 0.0)
    >>> first.ahead is None  # one move: no rate yet
    True
    >>> second = with_prediction(Curvature(f), first, first.end, np.array([1.8, 0.0]), 0.0)
    >>> second.ahead, second.predicted_start(second.end)  # moves 1, then 0.8: next 0.64
    (array([0.64, 0.  ]), array([2.44, 0.  ]))
    """
    move = end - start
    last = previous.displacement if previous is not None and previous.ended_at(start) else None
    ahead = None
    if last is not None and (norm2 := float(last @ last)) > 0:
        rho = min(max(float(move @ last) / norm2, 0.0), 1.0)
        ahead = rho * move if rho > 0 else None
    return replace(kept, end=end.copy(), displacement=move, ahead=ahead, end_size=end_size)
