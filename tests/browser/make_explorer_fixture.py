"""Write tests/browser/explorer_fixture.html: the explorer runtime on a small payload.

The page loads the book's runtime (book/_static/moe-explorer.js) and stylesheet by relative
paths, so it works when the repository root is served over HTTP, which is what
tests/test_browser.py does. Its payload has the shape chapter 6 will use: a model toggle
(SymMoLinE, SymMoLogE) and sliders over an SNR grid, a dimension grid and a GD step grid, with
three series (EM, gradient EM, gradient descent), each a median line and a quantile band.

The curves are synthetic (geometric decay whose rate depends on the settings, with a
multiplicative band): the page tests the runtime, not the mathematics.
Run ``python tests/browser/make_explorer_fixture.py`` after changing moe_lib/explorer.py;
tests/test_explorer.py checks that the committed page is what this script writes.
"""

import itertools
import sys
from pathlib import Path

import numpy as np

from moe_lib.explorer import curve_key, explorer_html

OUT = Path(__file__).resolve().parent / "explorer_fixture.html"

CONTROLS = [
    {"name": "model", "label": "model", "kind": "toggle", "values": ["SymMoLinE", "SymMoLogE"]},
    {"name": "snr", "label": "SNR", "kind": "slider", "values": [0.5, 1.0, 2.0, 4.0],
     "default": 2.0},
    {"name": "d", "label": "dimension d", "kind": "slider", "values": [2, 10]},
    {"name": "step", "label": "GD step", "kind": "slider", "values": [0.5, 2.0]},
]
SERIES = [{"name": "EM"}, {"name": "GEM", "label": "gradient EM"}, {"name": "GD"}]
T = 30


def payload() -> dict:
    """The fixture's payload (plain Python data, validated by ``explorer_html``).

    Returns
    -------
    dict
        Title, axes, the four controls, three series and the curves of all 32 settings, to
        four significant digits (which keeps the page small).
    """
    t = np.arange(T, dtype=float)
    curves = {}
    for model, snr, d, step in itertools.product(*(c["values"] for c in CONTROLS)):
        slow = 1.0 if model == "SymMoLinE" else 1.6
        em_rate = 1.0 - 0.5 * snr / (snr + slow) / (1 + 0.02 * d)
        rates = {"EM": em_rate,
                 "GEM": 1.0 - 0.6 * (1.0 - em_rate),
                 "GD": 1.0 - min(0.9, 0.35 * (1.0 - em_rate) * step)}
        series = {}
        for name, rate in rates.items():
            median = 0.8 * rate**t
            spread = 1.0 + 0.05 * np.sqrt(t) * (1 + 2 / snr)
            band = {"median": median, "lower": median / spread, "upper": median * spread}
            series[name] = {k: [float(f"{v:.4g}") for v in arr] for k, arr in band.items()}
        curves[curve_key(CONTROLS, [model, snr, d, step])] = {"x": t, "series": series}
    return {
        "title": "Parameter error over iterations (synthetic fixture)",
        "x": {"label": "iteration t", "log": False},
        "y": {"label": "relative parameter error", "log": True},
        "band_label": "bands: 10%-90% of instances",
        "controls": CONTROLS,
        "series": SERIES,
        "curves": curves,
    }


def page() -> str:
    """The fixture page: the runtime, the book's stylesheet and one explorer.

    Returns
    -------
    str
        A complete HTML document.
    """
    figure = explorer_html(payload(), element_id="fixture-explorer").data
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<title>moe-explorer fixture</title>\n"
        "<link rel=\"icon\" href=\"../../book/_extra/favicon.ico\">\n"
        "<link rel=\"stylesheet\" href=\"../../book/_static/book.css\">\n"
        "<script defer src=\"../../book/_static/moe-explorer.js\"></script>\n"
        "</head>\n<body style=\"font-family: sans-serif; max-width: 48rem; margin: 1rem auto; "
        "padding: 0 0.5rem\">\n"
        "<h1>moe-explorer fixture</h1>\n"
        "<p>Written by tests/browser/make_explorer_fixture.py for tests/test_browser.py.</p>\n"
        f"{figure}\n</body>\n</html>\n"
    )


def main() -> int:
    """Write the fixture page.

    Returns
    -------
    int
        Exit status (0).
    """
    OUT.write_text(page(), encoding="utf-8")
    print(f"make_explorer_fixture: wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
