"""SymPy as referee: state an identity, simplify the difference of its sides, show the result.

A chapter writes ``check_identity("name", lhs, rhs)``; the helper prints ``name: lhs - rhs = 0``
when SymPy proves it and raises :class:`IdentityError` otherwise, so that a wrong identity fails
the notebook (and nbval, and CI) instead of printing a non-zero difference that nobody reads.
Only simplifications valid under the symbols' declared assumptions are used.

Identities between matrices of symbolic size (``sympy.MatrixSymbol`` algebra) are closed too:
their difference must reduce to a ``ZeroMatrix``. Where SymPy cannot close an identity (a sigmoid
inside a Gaussian integral), :func:`check_numerically` evaluates both sides at many random points
and says so in its output: a numerical check, labelled as such, not a proof.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy as sp

#: Simplification strategies tried in order; cheap ones first. Each is valid for every value the
#: symbols' declared assumptions allow: ``expand_log`` without ``force`` splits ``log(a b)`` only
#: when ``a`` and ``b`` are known positive (``force=True`` would "prove" identities that fail
#: where a logarithm's argument is negative), so an identity that needs positivity needs symbols
#: declared ``positive=True``.
_STRATEGIES: tuple[Callable[[sp.Expr], sp.Expr], ...] = (
    sp.expand,
    sp.simplify,
    lambda e: sp.simplify(sp.expand(sp.expand_log(e))),
    lambda e: sp.simplify(e.rewrite(sp.exp)),
)


def _is_zero(e) -> bool:
    """0, or a zero matrix of symbolic size (which does not compare equal to 0)."""
    return bool(e == 0) or bool(getattr(e, "is_ZeroMatrix", False))


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
    >>> A = sp.MatrixSymbol("A", sp.Symbol("n"), sp.Symbol("n"))
    >>> difference(A * A.I * A, A)
    0
    """
    diff = sp.sympify(lhs) - sp.sympify(rhs)
    if isinstance(diff, sp.MatrixBase):
        return diff.applyfunc(lambda e: difference(e, 0))
    symbolic_size = isinstance(diff, sp.MatrixExpr)
    result = diff
    for strategy in _STRATEGIES:
        try:
            result = strategy(diff)
            # products such as A A^{-1} cancel only when the expression is evaluated
            result = result.doit() if symbolic_size else result
        except (AttributeError, TypeError):
            continue
        if _is_zero(result):
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
    zero = all(e == 0 for e in d) if isinstance(d, sp.MatrixBase) else _is_zero(d)
    if not zero:
        raise IdentityError(f"{name}: lhs - rhs simplifies to {d}, not 0")
    if not quiet:
        is_matrix = isinstance(d, sp.MatrixBase)
        shown = f"zero {d.shape[0]}x{d.shape[1]} matrix" if is_matrix else "0"
        print(f"{name}: lhs - rhs = {shown}")
    return d


def check_numerically(
    name: str,
    lhs: Callable[..., np.ndarray],
    rhs: Callable[..., np.ndarray],
    draw: Callable[[np.random.Generator], tuple],
    *,
    n_points: int = 200,
    rtol: float = 1e-9,
    seed: int = 0,
    quiet: bool = False,
) -> float:
    """Check ``lhs(*args) == rhs(*args)`` at ``n_points`` random points; print or raise.

    Parameters
    ----------
    name : str
        What the identity says.
    lhs, rhs : callable
        The two sides, evaluated on the same arguments (numbers or arrays).
    draw : callable
        ``rng -> args``: one random point (a tuple of arguments).
    n_points : int
        How many points.
    rtol : float
        Largest allowed ``|lhs - rhs| / (1 + |lhs|)``.
    seed : int
        Seed of the points.
    quiet : bool
        Do not print on success.

    Returns
    -------
    float
        The largest relative difference found.

    Raises
    ------
    IdentityError
        When a point breaks the identity; the message gives the point.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.special import expit
    >>> _ = check_numerically("symmetry", lambda u: expit(-u), lambda u: 1 - expit(u),
    ...                       lambda rng: (rng.normal(scale=5.0),), rtol=1e-12)
    symmetry: checked numerically at 200 random points (not a proof);
        largest relative difference below 1e-12
    """
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(n_points):
        args = draw(rng)
        a = np.asarray(lhs(*args), dtype=float)
        b = np.asarray(rhs(*args), dtype=float)
        rel = float(np.max(np.abs(a - b) / (1.0 + np.abs(a))))
        if not rel <= rtol:
            raise IdentityError(
                f"{name}: fails numerically at {args}: lhs = {a}, rhs = {b} (relative "
                f"difference {rel:.3g} > {rtol:g})"
            )
        worst = max(worst, rel)
    if not quiet:
        print(
            f"{name}: checked numerically at {n_points} random points (not a proof);\n"
            f"    largest relative difference below {rtol:g}"
        )
    return worst
