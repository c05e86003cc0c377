"""The argument checks shared by the modules of :mod:`moe_lib.symmetric`.

They build on :mod:`moe_lib._validation`; each message names the argument. The data checks return
float arrays, so the functions behind them can assume shapes ``X (n, d)``, ``y (n,)`` and
``w, beta (d,)``.
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import linalg

from moe_lib._validation import check_array, check_choice
from moe_lib._validation import check_rng as _check_rng

#: The two models: ``"linear"`` is SymMoLinE, ``"logistic"`` is SymMoLogE.
KINDS = ("linear", "logistic")

RngLike = np.random.Generator | int | None


def check_kind(kind: object) -> str:
    """``kind`` as one of :data:`KINDS`."""
    return check_choice(kind, "kind", KINDS)


def check_rng(rng: object) -> np.random.Generator:
    """A numpy ``Generator`` from a ``Generator``, a seed ``>= 0`` or ``None``.

    Unlike :func:`moe_lib._validation.check_rng` a value of the wrong type (e.g. a string) is a
    ``TypeError``, as it always was in this package.
    """
    ok = rng is None or isinstance(rng, np.random.Generator | np.random.RandomState)
    ok = ok or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool | np.bool_))
    if not ok:
        raise TypeError(
            f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}"
        )
    return _check_rng(rng, "rng")


def check_vector(v: object, name: str, d: int | None = None) -> np.ndarray:
    """A finite 1-d float array, of length ``d`` when given."""
    v = check_array(v, name, ndim=1, finite=False)
    if d is not None and v.shape[0] != d:
        raise ValueError(f"{name} must have shape ({d},) to match X, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite")
    return v


def check_X(X: object) -> np.ndarray:
    """A finite, non-empty design of shape (n, d)."""
    X = check_array(X, "X", ndim=2)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X must be a non-empty 2-dimensional array (n, d), got shape {X.shape}")
    return X


def check_y(kind: str, y: object, n: int) -> np.ndarray:
    """Responses of shape (n,): real (linear) or binary labels in {0, 1} (logistic)."""
    y = np.asarray(check_array(y, "y", finite=False), dtype=float)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite")
    if kind == "logistic" and not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold binary labels in {0, 1} for kind='logistic'")
    return y


def check_data(
    kind: object, X: object, y: object, w: object, beta: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, w, beta)`` checked against each other and against ``kind``."""
    kind = check_kind(kind)
    X = check_X(X)
    n, d = X.shape
    y = check_y(kind, y, n)
    return X, y, check_vector(w, "w", d), check_vector(beta, "beta", d)


def check_theta(w: object, beta: object) -> tuple[np.ndarray, np.ndarray]:
    """A parameter ``(w, beta)``: two finite vectors of the same length."""
    w = check_vector(w, "w")
    return w, check_vector(beta, "beta", w.shape[0])


def check_full_rank(X: np.ndarray) -> tuple[np.ndarray, bool]:
    """Cholesky factor of ``Sigma_hat = X^T X / n``.

    Raises ``ValueError`` if ``X`` is (numerically) rank deficient: the M-steps then have no
    unique solution.
    """
    gram = X.T @ X / X.shape[0]
    try:
        factor = linalg.cho_factor(gram, lower=True)
    except linalg.LinAlgError:
        factor = None
    if factor is None or np.min(np.abs(np.diag(factor[0]))) ** 2 <= 1e-13 * np.max(np.diag(gram)):
        raise ValueError(
            "X must have full column rank (X^T X is singular): the EM step is not unique"
        )
    return factor


def sign_factor(kind: str, y: np.ndarray) -> np.ndarray:
    """``c = 2y`` (linear) or ``2y - 1`` (logistic): the posterior log-odds are ``u + c a``."""
    return 2.0 * y if kind == "linear" else 2.0 * y - 1.0
