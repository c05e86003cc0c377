"""SymPy as referee: state an identity, simplify the difference of its sides, show the result.

A chapter writes ``check_identity("name", lhs, rhs)``; the helper prints ``name: lhs - rhs = 0``
when SymPy proves it and raises :class:`IdentityError` otherwise, so that a wrong identity fails
the notebook (and nbval, and CI) instead of printing a non-zero difference that nobody reads.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

#: Simplification strategies tried in order; cheap ones first.
_STRATEGIES: tuple[Callable[[sp.Expr], sp.Expr], ...] = (
    sp.expand,
    sp.simplify,
    lambda e: sp.simplify(sp.expand(sp.expand_log(e, force=True))),
    lambda e: sp.simplify(e.rewrite(sp.exp)),
)


class IdentityError(AssertionError):
    """SymPy could not reduce ``lhs - rhs`` to zero.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> check_identity("wrong", (x + 1) ** 2, x**2 + 1)
    Traceback (most recent call last):
    ...
    moe_lib.symbolic.IdentityError: wrong: lhs - rhs simplifies to 2*x, not 0
    """


def difference(lhs, rhs) -> sp.Expr | sp.Matrix:
    """``lhs - rhs`` simplified by the first strategy that reaches 0 (or the last attempt).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> difference(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1)
    0
    """
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

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> _ = check_identity("binomial square", (x + 1) ** 2, x**2 + 2 * x + 1)
    binomial square: lhs - rhs = 0
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
