"""The tone perception data (Cohen, 1980), shipped as ``moe_lib/data/tonedata.csv``.

A classic two-regime example for mixtures of linear regressions and of experts; the book fits it
in chapters 1, 2, 7 and 8.
"""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from moe_lib._validation import check_bool

if TYPE_CHECKING:
    from sklearn.utils import Bunch

TONEDATA_DESCR = """\
Tone perception data (Cohen, 1980)
==================================

150 trials of a music-perception experiment with a single trained musician. A pure fundamental
tone was played together with electronically generated overtones whose spacing was stretched by
the factor ``stretchratio`` (2.0 is the ordinary harmonic pattern of pitched instruments). The
musician tuned an adjustable tone to the octave above the fundamental; ``tuned`` is the ratio of
that tone to the fundamental (2.0 is the correct octave whatever the stretch).

The responses follow two regimes -- tuning by the fundamental (``tuned`` close to 2) or by the
stretched overtones (``tuned`` following ``stretchratio``) -- which makes the data a classic
example for mixtures of linear regressions and mixtures of experts.

:Number of instances: 150
:Number of attributes: 1 input (``stretchratio``), 1 response (``tuned``)
:Missing values: none

Source: Cohen, E. A. (1980), "The influence of nonharmonic partials on tone perception", Ph.D.
thesis, Stanford University (cited in the R packages fpc and mixtools as "Inharmonic tone
perception"). Distributed with the R package mixtools as ``tonedata`` (copied there from the R
package fpc by C. Hennig).

References: de Veaux, R. D. (1989), Mixtures of linear regressions, Computational Statistics &
Data Analysis 8, 227-245. Viele, K. and Tong, B. (2002), Modeling with mixtures of linear
regressions, Statistics and Computing 12, 315-330.
"""


def _read_packaged_text(name: str) -> str:
    """Read ``moe_lib/data/<name>`` through :mod:`importlib.resources`.

    Falls back to the ``data`` folder beside this package only when Python 3.10/3.11's resource
    reader fails on a namespace-package path entry that is not a directory (as left by an
    editable install made before ``moe_lib/__init__.py`` existed); never relative to the working
    directory.
    """
    try:
        resource = resources.files("moe_lib") / "data" / name
    except NotADirectoryError:  # pragma: no cover - depends on how moe_lib was installed
        return (Path(__file__).resolve().parents[1] / "data" / name).read_text(encoding="utf-8")
    return resource.read_text(encoding="utf-8")


def load_tonedata(return_X_y: bool = False) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the tone perception data (Cohen, 1980) shipped with ``moe_lib``.

    The CSV file is read through :mod:`importlib.resources`, so this works from any working
    directory and from an installed package.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        With fields

        - ``data`` : ndarray of shape (150, 1), float64 -- ``stretchratio``;
        - ``target`` : ndarray of shape (150,), float64 -- ``tuned``;
        - ``feature_names`` : ``["stretchratio"]``;
        - ``target_name`` : ``"tuned"``;
        - ``DESCR`` : str, description and provenance;
        - ``frame`` : None.
    (X, y) : tuple of ndarray of shapes (150, 1) and (150,)
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    TypeError
        If ``return_X_y`` is not a bool.

    Examples
    --------
    >>> X, y = load_tonedata(return_X_y=True)
    >>> X.shape, y.shape
    ((150, 1), (150,))
    >>> float(X[0, 0]), float(y[0])
    (1.35, 1.461)
    >>> load_tonedata().feature_names
    ['stretchratio']
    """
    return_X_y = check_bool(return_X_y, "return_X_y")
    text = _read_packaged_text("tonedata.csv")
    header, _, body = text.partition("\n")
    columns = [c.strip().strip('"') for c in header.split(",")]
    if columns != ["stretchratio", "tuned"]:  # pragma: no cover - guards the packaged file
        raise ValueError(f"Packaged tonedata.csv has unexpected header {header!r}.")
    table = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2)
    X = np.ascontiguousarray(table[:, :1])
    y = np.ascontiguousarray(table[:, 1])
    if return_X_y:
        return X, y

    from sklearn.utils import Bunch

    return Bunch(
        data=X,
        target=y,
        feature_names=["stretchratio"],
        target_name="tuned",
        DESCR=TONEDATA_DESCR,
        frame=None,
    )
