"""The SymPy referee: it must accept true identities and refuse false ones.

A referee that accepts everything would make every "lhs - rhs = 0" in the book worthless, so
each acceptance below is paired with a refusal of a nearby false statement.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from moe_lib.symbolic import IdentityError, check_identity, check_numerically, difference

x, a = sp.symbols("x a")


@settings(max_examples=25, deadline=None)
@given(c=st.integers(-20, 20), wrong_by=st.integers(1, 5))
def test_polynomial_identities_accepted_and_perturbations_refused(c, wrong_by):
    check_identity("square", (x + c) ** 2, x**2 + 2 * c * x + c**2, quiet=True)
    with pytest.raises(IdentityError, match="simplifies to"):
        check_identity("square", (x + c) ** 2, x**2 + 2 * c * x + c**2 + wrong_by * x, quiet=True)


def test_log_of_a_product_needs_declared_positivity():
    """log(uv) = log u + log v fails for negative u, v: it is proved only for positive symbols."""
    u, v = sp.symbols("u v", real=True)
    with pytest.raises(IdentityError):
        check_identity("log product", sp.log(u * v), sp.log(u) + sp.log(v), quiet=True)
    up, vp = sp.symbols("u v", positive=True)
    check_identity("log product", sp.log(up * vp), sp.log(up) + sp.log(vp), quiet=True)


def test_matrices_of_explicit_and_symbolic_size(capsys):
    M = sp.Matrix([[a, 1], [0, a]])
    check_identity("inverse", M * M.inv(), sp.eye(2))
    assert "zero 2x2 matrix" in capsys.readouterr().out
    with pytest.raises(IdentityError):
        check_identity("not the inverse", M * M.T, sp.eye(2), quiet=True)

    n, p = sp.symbols("n p", integer=True, positive=True)
    X, W = sp.MatrixSymbol("X", n, p), sp.MatrixSymbol("W", n, n)
    y = sp.MatrixSymbol("y", n, 1)
    beta = (X.T * W * X).I * X.T * W * y  # weighted least squares
    check_identity("normal equations", X.T * W * X * beta, X.T * W * y, quiet=True)
    with pytest.raises(IdentityError):  # the unweighted equations do not hold at beta
        check_identity("unweighted", X.T * X * beta, X.T * y, quiet=True)


def test_difference_returns_what_is_left():
    assert difference(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1) == 0
    assert sp.simplify(difference(x**2, x) - (x**2 - x)) == 0


def test_numerical_checks_say_so_and_catch_errors(capsys):
    worst = check_numerically(
        "log1p", np.log1p, lambda u: np.log(1 + u), lambda rng: (rng.uniform(0, 10),)
    )
    out = capsys.readouterr().out
    assert "not a proof" in out and max(len(line) for line in out.splitlines()) <= 88
    assert 0 <= worst <= 1e-9
    with pytest.raises(IdentityError, match="fails numerically"):
        check_numerically(
            "off", np.exp, lambda u: np.exp(u) * (1 + 1e-6), lambda rng: (rng.normal(),), quiet=True
        )
