"""Static interactive figures: precomputed curves explored with sliders, without a kernel.

:func:`explorer_html` embeds a *payload* of precomputed curves in HTML that the book's runtime,
``book/_static/moe-explorer.js`` (loaded on every page of the book), turns into sliders, toggle
buttons and an SVG plot. Everything is computed beforehand, so the figure works on the static page.

A payload is a mapping (made JSON-ready by :func:`validate_payload`)::

    {"title": "...",                                 # optional
     "x": {"label": "iteration", "log": False},      # optional "range": [lo, hi]
     "y": {"label": "error", "log": True},           # "log" defaults to True for y
     "band_label": "bands: 10%-90% of 50 runs",      # optional
     "controls": [{"name": "model", "kind": "toggle", "values": ["SymMoLinE", "SymMoLogE"]},
                  {"name": "snr", "kind": "slider", "values": [0.5, 1.0, 2.0], "default": 1.0}],
     "series": [{"name": "EM"}, {"name": "GD", "color": "#e15759"}],
     "curves": {"0|1": {"x": [0, 1, 2],
                        "series": {"EM": {"median": [...], "lower": [...], "upper": [...]},
                                   "GD": {"median": [...]}}},
                ...}}

``curves`` holds every combination of control values, keyed by the index of each value joined
by ``"|"`` (:func:`curve_key`). A series is a median line and, optionally, a band (``lower`` and
``upper``): :func:`summarize` computes them from many runs. ``None``/``nan`` values leave gaps.
"""

import html
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from moe_lib.plotting import DEFAULT_QUANTILES, band_statistics

if TYPE_CHECKING:
    from IPython.display import HTML

#: Kinds of control: a slider over a numeric grid, or a row of toggle buttons.
CONTROL_KINDS = ("slider", "toggle")


def _number(value: Any, where: str, *, positive: bool, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{where} must be a number, got {value!r}")
    if math.isnan(value := float(value)) and allow_none:
        return None
    if not math.isfinite(value) or (positive and value <= 0):
        need = "a positive finite number (log axis)" if positive else "a finite number"
        raise ValueError(f"{where} must be {need}, got {value!r}")
    return value


def _numbers(values: Any, where: str, n: int | None, *, positive: bool) -> list[float | None]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{where} must be a sequence of numbers")
    if n is not None and len(values) != n:
        raise ValueError(f"{where} must have {n} values (one per x), got {len(values)}")
    return [_number(v, f"{where}[{i}]", positive=positive) for i, v in enumerate(values)]


def _axis(spec: Any, where: str, default_log: bool) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise TypeError(f"{where} must be a mapping with 'label' and 'log'")
    out: dict[str, Any] = {"label": str(spec.get("label", ""))}
    out["log"] = bool(spec.get("log", default_log))
    if spec.get("range") is not None:
        lo, hi = _numbers(spec["range"], f"{where}['range']", 2, positive=out["log"])
        if lo is None or hi is None or not lo < hi:
            raise ValueError(f"{where}['range'] must be [lo, hi] with lo < hi")
        out["range"] = [lo, hi]
    return out


def _control(spec: Any, where: str) -> dict[str, Any]:
    if not isinstance(spec, Mapping):
        raise TypeError(f"{where} must be a mapping with 'name', 'kind' and 'values'")
    name, kind, values = spec.get("name"), spec.get("kind"), spec.get("values")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}['name'] must be a non-empty string")
    if kind not in CONTROL_KINDS:
        raise ValueError(f"{where}['kind'] must be one of {CONTROL_KINDS}, got {kind!r}")
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray) or not len(values):
        raise ValueError(f"{where}['values'] must be a non-empty sequence")
    if kind == "slider":
        values = [_number(v, f"{where}['values'][{i}]", positive=False, allow_none=False)
                  for i, v in enumerate(values)]
        if any(b <= a for a, b in itertools.pairwise(values)):
            raise ValueError(f"{where}['values'] of a slider must be strictly increasing")
    else:
        values = [v.item() if isinstance(v, np.generic) else v for v in values]
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            raise TypeError(f"{where}['values'] of a toggle must be strings or numbers")
        if len(set(values)) != len(values):
            raise ValueError(f"{where}['values'] must not repeat a value")
    default = spec.get("default", values[0])
    if default not in values:
        raise ValueError(f"{where}['default'] = {default!r} is not one of its values")
    return {"name": name, "label": str(spec.get("label", name)), "kind": kind,
            "values": values, "default": values[values.index(default)]}


def validate_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Check an explorer payload and return a JSON-ready copy of it.

    Parameters
    ----------
    payload : Mapping
        The payload described in the module docstring. NumPy arrays and scalars are accepted
        wherever lists and numbers are; ``nan`` marks a missing value.

    Returns
    -------
    dict
        A new payload of plain lists, floats and strings (``nan`` replaced by ``None``), with
        every optional field filled in (labels, ``default``, ``log``).

    Raises
    ------
    TypeError, ValueError
        If a part has the wrong type, or a wrong value (a repeated name, a missing combination of
        control values, a value <= 0 on a log axis); the message names the part, as in
        ``payload['curves']['0|1']['x']``.

    Examples
    --------
    >>> p = validate_payload({"series": [{"name": "EM"}],
    ...     "controls": [{"name": "snr", "kind": "slider", "values": [1, 2]}],
    ...     "curves": {"0": {"x": [0, 1], "series": {"EM": {"median": [1.0, 0.1]}}},
    ...                "1": {"x": [0, 1], "series": {"EM": {"median": [1.0, float("nan")]}}}}})
    >>> p["controls"][0]["default"], p["curves"]["1"]["series"]["EM"]["median"]
    (1.0, [1.0, None])
    """
    if not isinstance(payload, Mapping):
        raise TypeError(f"payload must be a mapping, got {type(payload).__name__}")
    out: dict[str, Any] = {"title": str(payload.get("title", ""))}
    out["x"] = _axis(payload.get("x", {}), "payload['x']", default_log=False)
    out["y"] = _axis(payload.get("y", {}), "payload['y']", default_log=True)
    out["band_label"] = str(payload.get("band_label") or "")
    controls, series = payload.get("controls"), payload.get("series")
    for key, part in (("controls", controls), ("series", series)):  # non-empty lists
        if isinstance(part, str | Mapping) or not isinstance(part, Sequence) or not part:
            raise ValueError(f"payload['{key}'] must be a non-empty list")
    out["controls"] = [_control(c, f"payload['controls'][{i}]") for i, c in enumerate(controls)]
    out["series"] = []
    for i, s in enumerate(series):
        if not isinstance(s, Mapping) or not isinstance(s.get("name"), str) or not s["name"]:
            raise TypeError(f"payload['series'][{i}] must be a mapping with a non-empty 'name'")
        out["series"].append({k: str(v) for k, v in s.items() if k in ("name", "label", "color")})
    for key, part in (("controls", out["controls"]), ("series", out["series"])):
        names = [p["name"] for p in part]
        if len(set(names)) != len(names):
            raise ValueError(f"payload['{key}'] repeats a name: {names}")

    curves = payload.get("curves")
    if not isinstance(curves, Mapping):
        raise TypeError("payload['curves'] must be a mapping from keys such as '0|1' to curves")
    grid = itertools.product(*(range(len(c["values"])) for c in out["controls"]))
    wanted = ["|".join(map(str, idx)) for idx in grid]  # every combination of control values
    extra = sorted(set(curves) - set(wanted))
    if extra:
        raise ValueError(f"payload['curves'] has keys that match no control values: {extra[:5]}")
    out["curves"] = {}
    for key in wanted:
        where = f"payload['curves']['{key}']"
        if (entry := curves.get(key)) is None:
            raise ValueError(f"{where} is missing: every combination of control values needs one")
        if not isinstance(entry, Mapping) or not isinstance(entry.get("series"), Mapping):
            raise TypeError(f"{where} must be a mapping with 'x' and 'series'")
        x = _numbers(entry.get("x"), f"{where}['x']", None, positive=out["x"]["log"])
        if not x or None in x:
            raise ValueError(f"{where}['x'] must be a non-empty list of numbers")
        lines = {}
        for s in out["series"]:
            w = f"{where}['series']['{s['name']}']"
            line = entry["series"].get(s["name"])
            if not isinstance(line, Mapping) or "median" not in line:
                raise ValueError(f"{w} must be a mapping with a 'median' list")
            if ("lower" in line) != ("upper" in line):
                raise ValueError(f"{w} must have both 'lower' and 'upper', or neither")
            lines[s["name"]] = {part: _numbers(line[part], f"{w}['{part}']", len(x),
                                               positive=out["y"]["log"])
                                for part in ("median", "lower", "upper") if part in line}
        out["curves"][key] = {"x": x, "series": lines}
    return out


def curve_key(controls: Sequence[Mapping[str, Any]], values: Sequence[Any]) -> str:
    """The ``payload['curves']`` key of one combination of control values.

    Parameters
    ----------
    controls : sequence of Mapping
        ``payload['controls']`` (each with its ``'values'``).
    values : sequence
        One value per control, in the same order.

    Returns
    -------
    str
        The index of each value among its control's values, joined by ``"|"``.

    Raises
    ------
    ValueError
        If ``values`` has the wrong length or a value is not one of its control's.

    Examples
    --------
    >>> controls = [{"name": "model", "values": ["lin", "log"]}, {"name": "d", "values": [2, 5]}]
    >>> curve_key(controls, ["log", 2])
    '1|0'
    """
    if len(values) != len(controls):
        raise ValueError(f"values must have one value per control, got {len(values)}")
    try:
        pairs = zip(controls, values, strict=True)
        return "|".join(str(list(c["values"]).index(v)) for c, v in pairs)
    except ValueError:
        raise ValueError(f"values: {values!r} has a value its control does not have") from None


def summarize(curves: Any, quantiles: Sequence[float] = DEFAULT_QUANTILES) -> dict[str, list]:
    """One series of a payload from runs over many instances: median line and quantile band.

    Parameters
    ----------
    curves : array_like of shape (n_instances, T)
        One row per instance; ``nan`` (a diverged run) is ignored column by column.
    quantiles : pair of float
        Lower and upper quantile of the band, ``0 <= low < high <= 1``.

    Returns
    -------
    dict
        ``{"median": [...], "lower": [...], "upper": [...]}``, lists of length ``T``, computed
        as in the book's static figures (:func:`moe_lib.plotting.band_statistics`).

    Examples
    --------
    >>> summarize([[1.0, 4.0], [3.0, 2.0], [2.0, 3.0]], quantiles=(0.0, 1.0))
    {'median': [2.0, 3.0], 'lower': [1.0, 2.0], 'upper': [3.0, 4.0]}
    """
    median, low, high = band_statistics(curves, quantiles)
    return {"median": median.tolist(), "lower": low.tolist(), "upper": high.tolist()}


def explorer_html(payload: Mapping[str, Any], *, element_id: str | None = None) -> "HTML":
    """HTML of a static interactive figure, for the book's runtime ``moe-explorer.js``.

    Parameters
    ----------
    payload : Mapping
        The explorer payload (module docstring); it is checked with :func:`validate_payload`.
    element_id : str, optional
        ``id`` of the figure's ``<div>``; none by default.

    Returns
    -------
    IPython.display.HTML
        A ``<div class="moe-explorer">`` holding the validated payload as JSON in a ``<script
        type="application/json" class="moe-explorer-payload">``, and a line of text for where
        the runtime is not loaded (in Jupyter, say).

    Raises
    ------
    TypeError, ValueError
        If ``payload`` is invalid (:func:`validate_payload`) or ``element_id`` is not an HTML id.

    Examples
    --------
    >>> fig = explorer_html({"series": [{"name": "EM"}],
    ...     "controls": [{"name": "model", "kind": "toggle", "values": ["SymMoLinE", "SymMoLogE"]}],
    ...     "curves": {str(i): {"x": [0, 1], "series": {"EM": {"median": [1.0, 0.5]}}}
    ...                for i in range(2)}})
    >>> fig.data.startswith('<div class="moe-explorer">')
    True
    >>> json.loads(fig.data.split('payload">')[1].split("</script>")[0])["series"]
    [{'name': 'EM'}]
    """
    from IPython.display import HTML  # here, not at the top: IPython is optional

    if element_id is not None and not re.fullmatch(r"[A-Za-z][\w-]*", str(element_id)):
        raise ValueError(f"element_id must be letters, digits, '-' or '_', got {element_id!r}")
    data = json.dumps(validate_payload(payload), separators=(",", ":"), allow_nan=False)
    # No "<", ">" or "&" inside the script element: "</script>" in a label cannot end it early.
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    ident = f' id="{element_id}"' if element_id else ""
    title = html.escape(str(payload.get("title") or "Interactive figure"))
    return HTML(
        f'<div class="moe-explorer"{ident}>'
        f'<script type="application/json" class="moe-explorer-payload">{data}</script>'
        f'<p class="moe-explorer-fallback">{title}: an interactive figure, drawn by the book\'s '
        "moe-explorer.js in the HTML version of the book.</p></div>"
    )

