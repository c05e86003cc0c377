"""SymPy as referee: state an identity, simplify the difference of its sides, show the result.

A chapter writes ``check_identity("name", lhs, rhs)``; the helper prints ``name: lhs - rhs = 0``
when SymPy proves it and raises :class:`IdentityError` otherwise, so that a wrong identity fails
the notebook (and nbval, and CI) instead of printing a non-zero difference that nobody reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sympy as sp

#: Simplification strategies tried in order; cheap ones first.
_STRATEGIES: tuple[Callable[[sp.Expr], sp.Expr], ...] = (
    sp.expand,
    sp.simplify,
    lambda e: sp.simplify(sp.expand(sp.expand_log(e, force=True))),
    lambda e: sp.simplify(e.rewrite(sp.exp)),
)


class IdentityError(AssertionError):
    """SymPy could not reduce ``lhs - rhs`` to zero."""


def difference(lhs, rhs) -> sp.Expr | sp.Matrix:
    """``lhs - rhs`` simplified by the first strategy that reaches 0 (or the last attempt)."""
    diff = sp.sympify(lhs) - sp.sympify(rhs)
    if isinstance(diff, sp.MatrixBase):
        return diff.applyfunc(lambda e: difference(e, 0))
    result = diff
    for strategy in _STRATEGIES:
        try:
            result = strategy(diff)
        except (AttributeError, TypeError):
            continue
        if result == 0:
            return sp.Integer(0)
    return result


def is_zero(expr) -> bool:
    """True when ``expr`` (scalar or matrix) simplifies to 0."""
    d = difference(expr, 0)
    if isinstance(d, sp.MatrixBase):
        return all(e == 0 for e in d)
    return d == 0


def check_identity(name: str, lhs, rhs, *, quiet: bool = False) -> sp.Expr | sp.Matrix:
    """Check ``lhs == rhs`` symbolically; print ``name: lhs - rhs = 0`` or raise.

    Parameters
    ----------
    name : str
        What the identity says, printed with the result.
    lhs, rhs : sympy expressions or matrices (or anything ``sympify`` accepts)
    quiet : bool
        Do not print on success.

    Returns
    -------
    The simplified difference (0, or a zero matrix).

    Raises
    ------
    IdentityError
        When the difference does not simplify to 0; the message shows what is left.
    """
    d = difference(lhs, rhs)
    zero = all(e == 0 for e in d) if isinstance(d, sp.MatrixBase) else d == 0
    if not zero:
        raise IdentityError(f"{name}: lhs - rhs simplifies to {d}, not 0")
    if not quiet:
        is_matrix = isinstance(d, sp.MatrixBase)
        shown = f"zero {d.shape[0]}x{d.shape[1]} matrix" if is_matrix else "0"
        print(f"{name}: lhs - rhs = {shown}")
    return d


def check_identities(items: Iterable[tuple[str, object, object]]) -> None:
    """:func:`check_identity` on each ``(name, lhs, rhs)``."""
    for name, lhs, rhs in items:
        check_identity(name, lhs, rhs)
