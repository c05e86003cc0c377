"""Figure helpers shared by the chapters: convergence curves over many instances.

An experiment in the book runs each method on many random instances and records one number per
iteration (a loss gap, a relative parameter error, ...), giving an array ``curves`` of shape
``(n_instances, T)``. The helpers here draw such arrays the same way everywhere:

- :func:`median_band` draws, on one axis, the median over instances as a line and a quantile band
  (by default the 10% and 90% quantiles) as a shaded area. Missing values (``nan``: a diverged
  run, an iteration not recorded) are ignored instance by instance.
- :func:`convergence_figure` draws several panels side by side, one per quantity, with one
  :func:`median_band` per method and the same colour for a method in every panel.

Only :mod:`matplotlib` is used; nothing here chooses a backend.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

#: The default quantile band, the 10% and 90% quantiles over instances.
DEFAULT_QUANTILES = (0.1, 0.9)

#: Y-axis scales accepted by :func:`convergence_figure`.
YSCALES = ("linear", "log", "symlog")


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------
def _check_curves(curves: np.ndarray, name: str = "curves") -> np.ndarray:
    try:
        arr = np.asarray(curves, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n_instances, T)") from exc
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must be a non-empty 2-dimensional array (n_instances, T), "
            f"got shape {arr.shape}"
        )
    if np.any(np.isinf(arr)):
        raise ValueError(f"{name} must not contain infinite values (use nan for missing values)")
    return arr


def _check_x(x: np.ndarray | None, T: int) -> np.ndarray:
    if x is None:
        return np.arange(T, dtype=float)
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError("x must be a numeric array of shape (T,)") from exc
    if arr.shape != (T,):
        raise ValueError(f"x must have shape ({T},) to match curves, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("x must be finite")
    return arr


def _check_quantiles(quantiles: Sequence[float] | None) -> tuple[float, float] | None:
    if quantiles is None:
        return None
    try:
        lo, hi = (float(q) for q in quantiles)
    except (TypeError, ValueError) as exc:
        msg = f"quantiles must be a pair (low, high) or None, got {quantiles!r}"
        raise ValueError(msg) from exc
    if not (0.0 <= lo < hi <= 1.0):
        raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got {quantiles!r}")
    return lo, hi


def _check_yscale(yscale: str, name: str = "yscale") -> str:
    if not isinstance(yscale, str) or yscale not in YSCALES:
        raise ValueError(f"{name} must be one of {YSCALES}, got {yscale!r}")
    return yscale


# --------------------------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------------------------
def band_statistics(
    curves: np.ndarray, quantiles: Sequence[float] | None = DEFAULT_QUANTILES
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Median and quantiles over instances, column by column, ignoring ``nan``.

    Parameters
    ----------
    curves : array_like of shape (n_instances, T)
        One row per instance; ``nan`` marks a missing value. Infinite values are rejected.
    quantiles : pair of float or None
        ``(low, high)`` with ``0 <= low < high <= 1``; ``None`` computes no band.

    Returns
    -------
    median : ndarray of shape (T,)
        ``nanmedian`` of each column; ``nan`` where a column has no value.
    low, high : ndarray of shape (T,) or None
        The ``low`` and ``high`` quantiles of each column (linear interpolation, as
        :func:`numpy.nanquantile`); ``None`` when ``quantiles`` is ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> median, low, high = band_statistics(np.array([[1.0, 2.0], [3.0, np.nan]]), (0.0, 1.0))
    >>> median, low, high
    (array([2., 2.]), array([1., 2.]), array([3., 2.]))
    """
    arr = _check_curves(curves)
    qs = _check_quantiles(quantiles)
    with warnings.catch_warnings():
        # A column without any value gives nan, which is what we want; numpy warns about it.
        warnings.simplefilter("ignore", RuntimeWarning)
        median = np.nanmedian(arr, axis=0)
        if qs is None:
            return median, None, None
        low, high = np.nanquantile(arr, qs, axis=0)
    return median, low, high


# --------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------
def median_band(
    ax: Axes,
    x: np.ndarray | None,
    curves: np.ndarray,
    label: str | None = None,
    quantiles: Sequence[float] | None = DEFAULT_QUANTILES,
    color: str | tuple | None = None,
    log: bool = False,
    *,
    band_alpha: float = 0.2,
    **line_kwargs,
) -> tuple[Line2D, PolyCollection | None]:
    """Draw the median over instances as a line and a quantile band as a shaded area.

    Parameters
    ----------
    ax : matplotlib Axes
    x : array_like of shape (T,) or None
        Abscissae (iterations, SNR values, ...); ``None`` means ``0, 1, ..., T - 1``.
    curves : array_like of shape (n_instances, T)
        One row per instance. ``nan`` entries are ignored column by column (see
        :func:`band_statistics`); a column without values leaves a gap in the line and band.
    label : str, optional
        Legend label of the line.
    quantiles : pair of float or None
        Quantile levels of the band, ``0 <= low < high <= 1``; ``None`` draws no band.
    color : matplotlib colour, optional
        Colour of line and band; default: the axis' next colour.
    log : bool
        If true, set a logarithmic y-axis and drop (set to ``nan``) the non-positive values of the
        median and of the quantiles, which a log axis cannot show. The instances themselves are
        not altered: the statistics are computed first, then masked.
    band_alpha : float
        Opacity of the band, in ``[0, 1]``.
    **line_kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` (e.g. ``linestyle``, ``marker``).

    Returns
    -------
    line : matplotlib Line2D
        Its y-data is the (masked) median, shape (T,).
    band : matplotlib PolyCollection or None
        The filled area between the (masked) low and high quantiles; ``None`` if
        ``quantiles`` is ``None``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> fig, ax = plt.subplots()
    >>> line, band = median_band(ax, None, np.array([[1.0, 0.5], [3.0, 1.5]]), label="EM")
    >>> line.get_ydata().tolist(), band is not None
    ([2.0, 1.0], True)
    >>> plt.close(fig)
    """
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    arr = _check_curves(curves)
    xs = _check_x(x, arr.shape[1])
    if label is not None and not isinstance(label, str):
        raise TypeError(f"label must be a str or None, got {type(label).__name__}")
    if not isinstance(log, bool | np.bool_):
        raise TypeError(f"log must be a bool, got {type(log).__name__}")
    if not (np.isscalar(band_alpha) and 0.0 <= float(band_alpha) <= 1.0):
        raise ValueError(f"band_alpha must be a number in [0, 1], got {band_alpha!r}")
    median, low, high = band_statistics(arr, quantiles)
    if log:
        ax.set_yscale("log")
        median = np.where(median > 0, median, np.nan)
        if low is not None:
            low = np.where(low > 0, low, np.nan)
            high = np.where(high > 0, high, np.nan)
    kwargs = dict(line_kwargs)
    if color is not None:
        kwargs["color"] = color
    (line,) = ax.plot(xs, median, label=label, **kwargs)
    band = None
    if low is not None:
        band = ax.fill_between(
            xs, low, high, color=line.get_color(), alpha=float(band_alpha), linewidth=0
        )
    return line, band


def _per_panel(value, panels: Sequence[str], name: str) -> dict:
    """Broadcast a scalar option, or check a mapping panel -> option covers every panel."""
    if isinstance(value, Mapping):
        missing = [p for p in panels if p not in value]
        if missing:
            raise ValueError(f"{name} has no entry for panel(s) {missing}")
        return {p: value[p] for p in panels}
    return {p: value for p in panels}


def convergence_figure(
    panels: Mapping[str, Mapping[str, np.ndarray]],
    *,
    x: np.ndarray | None = None,
    yscale: str | Mapping[str, str] = "log",
    linthresh: float | Mapping[str, float] = 1e-4,
    ylabels: Mapping[str, str] | None = None,
    quantiles: Sequence[float] | None = DEFAULT_QUANTILES,
    colors: Mapping[str, str] | None = None,
    linestyles: Mapping[str, str] | None = None,
    xlabel: str = "iteration $t$",
    ncols: int | None = None,
    panel_size: tuple[float, float] = (4.6, 3.4),
    legend_panel: int | None = 0,
    title: str | None = None,
) -> tuple[Figure, np.ndarray]:
    """Several panels side by side, each with one median line and quantile band per method.

    Parameters
    ----------
    panels : mapping str -> (mapping str -> array_like of shape (n_instances, T))
        ``{panel title: {method label: curves}}``. Within a panel every method must have the same
        ``T`` (the number of instances may differ).
    x : array_like of shape (T,), optional
        Common abscissae; default ``0, ..., T - 1`` for each panel.
    yscale : {"linear", "log", "symlog"} or mapping panel title -> scale
        ``"log"`` uses :func:`median_band` with ``log=True`` (non-positive statistics are not
        drawn); ``"symlog"`` shows signed values, linear within ``[-linthresh, linthresh]``.
    linthresh : float or mapping panel title -> float
        Half-width of the linear region of ``"symlog"`` panels (> 0).
    ylabels : mapping panel title -> str, optional
        Y-axis labels.
    quantiles : pair of float or None
        Quantile band of every :func:`median_band`.
    colors : mapping method label -> colour, optional
        Default: matplotlib's colour cycle, in the order methods first appear.
    linestyles : mapping method label -> linestyle, optional
    xlabel : str
    ncols : int, optional
        Panels per row (default: all in one row).
    panel_size : (float, float)
        Width and height of one panel in inches.
    legend_panel : int or None
        Index of the panel that gets the legend; ``None`` for no legend.
    title : str, optional
        Figure title (``suptitle``).

    Returns
    -------
    fig : matplotlib Figure
    axes : ndarray of Axes, shape (n_panels,)
        In the order of ``panels``; unused grid cells are removed from the figure.

    Examples
    --------
    >>> import numpy as np
    >>> curves = np.exp(-np.arange(10.0))[None, :] * np.array([[1.0], [2.0], [3.0]])
    >>> fig, axes = convergence_figure({"error": {"EM": curves, "GD": 2 * curves}})
    >>> axes.shape, [t.get_text() for t in axes[0].get_legend().get_texts()]
    ((1,), ['EM', 'GD'])
    """
    if not isinstance(panels, Mapping) or len(panels) == 0:
        raise ValueError("panels must be a non-empty mapping {panel title: {method: curves}}")
    names = list(panels)
    for p in names:
        if not isinstance(panels[p], Mapping) or len(panels[p]) == 0:
            raise ValueError(f"panels[{p!r}] must be a non-empty mapping {{method: curves}}")
    scales = {
        p: _check_yscale(s, f"yscale[{p!r}]")
        for p, s in _per_panel(yscale, names, "yscale").items()
    }
    threshs = _per_panel(linthresh, names, "linthresh")
    for p, lt in threshs.items():
        if not (np.isscalar(lt) and np.isfinite(lt) and float(lt) > 0):
            raise ValueError(f"linthresh for panel {p!r} must be a finite number > 0, got {lt!r}")
    _check_quantiles(quantiles)
    n_panels = len(names)
    if ncols is None:
        ncols = n_panels
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1, got {ncols!r}")
    ncols = min(int(ncols), n_panels)
    if legend_panel is not None and not (0 <= legend_panel < n_panels):
        raise ValueError(f"legend_panel must be None or in [0, {n_panels}), got {legend_panel!r}")

    # Check every array (and T within each panel) before drawing anything.
    checked: dict[str, dict[str, np.ndarray]] = {}
    for p in names:
        checked[p] = {m: _check_curves(c, f"panels[{p!r}][{m!r}]") for m, c in panels[p].items()}
        lengths = {c.shape[1] for c in checked[p].values()}
        if len(lengths) != 1:
            raise ValueError(f"the methods of panel {p!r} have different lengths T: {lengths}")
        if x is not None:
            _check_x(x, lengths.pop())

    methods: list[str] = []
    for p in names:
        methods.extend(m for m in checked[p] if m not in methods)
    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    palette = {m: cycle[i % len(cycle)] for i, m in enumerate(methods)}
    if colors is not None:
        palette.update(colors)
    styles = dict(linestyles or {})

    nrows = -(-n_panels // ncols)
    fig, grid = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
        squeeze=False,
        constrained_layout=True,
    )
    flat = grid.ravel()
    for ax in flat[n_panels:]:
        ax.remove()
    axes = flat[:n_panels]
    for ax, p in zip(axes, names, strict=True):
        scale = scales[p]
        for m, c in checked[p].items():
            kwargs = {"linestyle": styles[m]} if m in styles else {}
            median_band(
                ax,
                x,
                c,
                label=m,
                quantiles=quantiles,
                color=palette[m],
                log=(scale == "log"),
                **kwargs,
            )
        if scale == "symlog":
            ax.set_yscale("symlog", linthresh=float(threshs[p]))
            ax.axhline(0.0, color="0.5", linewidth=0.8)
        ax.set_title(p)
        ax.set_xlabel(xlabel)
        if ylabels is not None and p in ylabels:
            ax.set_ylabel(ylabels[p])
        ax.grid(True, which="major", alpha=0.3)
    if legend_panel is not None:
        axes[legend_panel].legend()
    if title is not None:
        fig.suptitle(title)
    return fig, np.asarray(axes, dtype=object)
