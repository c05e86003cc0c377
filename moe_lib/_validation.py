"""The argument checks every public function of ``moe_lib`` shares.

Each check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, wrong value)
with a message that names the argument and says what was expected, as scikit-learn's
:func:`sklearn.utils.check_scalar` does; the estimators use scikit-learn's
``_parameter_constraints`` for their hyper-parameters and these checks for everything else.
Booleans are rejected where a number is expected (``True`` is an ``int`` to Python, never a
sensible number of experts).
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence

import numpy as np


def check_int(
    value: object, name: str, *, min_value: int | None = None, max_value: int | None = None
) -> int:
    """An integer (not a bool) in ``[min_value, max_value]`` (either bound may be omitted).

    Examples
    --------
    >>> check_int(3, "n_experts", min_value=1)
    3
    >>> check_int(0, "n_experts", min_value=1)
    Traceback (most recent call last):
    ...
    ValueError: n_experts must be an integer >= 1, got 0
    >>> check_int(11, "n_classes", min_value=2, max_value=10)
    Traceback (most recent call last):
    ...
    ValueError: n_classes must be an integer >= 2 and <= 10, got 11
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    out = int(value)
    too_low = min_value is not None and out < min_value
    too_high = max_value is not None and out > max_value
    if too_low or too_high:
        bounds = [f"{op} {bound}" for op, bound in ((">=", min_value), ("<=", max_value))
                  if bound is not None]
        raise ValueError(f"{name} must be an integer {' and '.join(bounds)}, got {out}")
    return out


def check_real(
    value: object,
    name: str,
    *,
    min_value: float | None = None,
    strict: bool = False,
    max_value: float | None = None,
) -> float:
    """A finite real number (not a bool) in ``[min_value, max_value]`` (``> min_value`` if strict).

    Examples
    --------
    >>> check_real(0.5, "alpha", min_value=0.0)
    0.5
    >>> check_real(-1.0, "alpha", min_value=0.0)
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a finite number >= 0, got -1.0
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    low_ok = min_value is None or (out > min_value if strict else out >= min_value)
    high_ok = max_value is None or out <= max_value
    if not (np.isfinite(out) and low_ok and high_ok):
        bounds = []
        if min_value is not None:
            bounds.append(f"{'>' if strict else '>='} {min_value:g}")
        if max_value is not None:
            bounds.append(f"<= {max_value:g}")
        raise ValueError(f"{name} must be a finite number {' and '.join(bounds)}, got {value!r}")
    return out


def check_bool(value: object, name: str) -> bool:
    """``True`` or ``False`` (numpy booleans included)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(value: object, name: str, options: Sequence[str]) -> str:
    """One of the strings ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {tuple(options)}, got {value!r}")
    return value


def check_rng(value: object, name: str = "random_state") -> np.random.Generator:
    """A numpy ``Generator`` from ``None``, a seed ``>= 0``, a ``Generator`` or a ``RandomState``.

    A ``RandomState`` seeds a new ``Generator`` with one draw (scikit-learn's convention of
    accepting legacy generators).
    """
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, np.random.RandomState):
        return np.random.default_rng(value.randint(0, 2**31 - 1))
    if value is None:
        return np.random.default_rng()
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be None, an integer >= 0, a numpy Generator or a RandomState, "
            f"got {type(value).__name__} {value!r}"
        )
    if value < 0:
        raise ValueError(
            f"{name} must be None, an integer >= 0, a numpy Generator or a RandomState, "
            f"got {value!r}"
        )
    return np.random.default_rng(int(value))


def check_array(
    value: object,
    name: str,
    *,
    ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = True,
) -> np.ndarray:
    """A float array with the given number of dimensions / shape (``None`` matches any length).

    Examples
    --------
    >>> check_array([[1.0, 2.0]], "X", ndim=2).shape
    (1, 2)
    >>> check_array([1.0, np.nan], "y", ndim=1)
    Traceback (most recent call last):
    ...
    ValueError: y must hold finite values; it contains NaN or infinity
    """
    if isinstance(value, str | bytes):
        raise TypeError(f"{name} must be a numeric array, got a string")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from exc
    if shape is not None:
        ndim = len(shape)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if shape is not None and any(
        want is not None and got != want for want, got in zip(shape, arr.shape, strict=True)
    ):
        want_txt = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want_txt}, got {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite values; it contains NaN or infinity")
    return arr


def check_not_subnormal(arr: np.ndarray, name: str) -> None:
    """Raise a ``ValueError`` naming ``name`` when a column of ``arr`` (or a 1-D ``arr``) is not
    all zero but no larger than the smallest normal float (~2.2e-308): subnormal values carry
    too few digits, and their scale's reciprocal overflows.

    Examples
    --------
    >>> check_not_subnormal(np.array([[1.0, 0.0], [2.0, 0.0]]), "X")  # a zero column is legal
    >>> check_not_subnormal(np.array([[1e-310], [-2e-310]]), "X")
    Traceback (most recent call last):
    ...
    ValueError: X column 0 holds only subnormal values (largest |value| 2e-310, below ...
    """
    tiny = np.finfo(float).tiny
    largest = np.max(np.abs(arr), axis=0, initial=0.0)
    bad = np.flatnonzero(np.atleast_1d((largest > 0) & (largest < tiny)))
    if bad.size:
        where = f"{name} column {int(bad[0])}" if arr.ndim == 2 else name
        size = float(np.atleast_1d(largest)[bad[0]])
        raise ValueError(
            f"{where} holds only subnormal values (largest |value| {size:.3g}, below "
            f"{tiny:.3g}, the smallest normal float): they carry too few digits to fit; "
            "rescale it (multiply by a power of ten)"
        )


#: Characters of a library's message kept when it is raised again with a name in front (some
#: quote the whole array).
QUOTED_CHARS = 200


def renamed(err: Exception, name: str) -> Exception:
    """``err`` again, of the same type, its text (cut to :data:`QUOTED_CHARS`) after
    ``"{name} is not valid input: "``."""
    text = str(err)
    if len(text) > QUOTED_CHARS:
        text = text[:QUOTED_CHARS] + " ..."
    return type(err)(f"{name} is not valid input: {text}")


def named(check, name: str):
    """Call ``check()``; a ``ValueError``/``TypeError`` whose message does not name ``name`` is
    raised again with it in front (:func:`renamed`: numpy's and scikit-learn's conversion errors
    do not name their input).

    Examples
    --------
    >>> try:
    ...     named(lambda: np.asarray([["a"]], dtype=float), "gate_X")
    ... except ValueError as err:
    ...     print(str(err)[:33])
    gate_X is not valid input: could
    """
    try:
        return check()
    except (ValueError, TypeError) as err:
        if re.search(rf"\b{re.escape(name)}\b", str(err)):
            raise
        raise renamed(err, name) from err
