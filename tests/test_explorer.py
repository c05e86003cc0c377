"""Tests of moe_lib.explorer: payload validation, the HTML it writes, and the fixture page."""

import copy
import importlib.util
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from moe_lib.explorer import curve_key, explorer_html, summarize, validate_payload

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD_RE = re.compile(
    r'<script type="application/json" class="moe-explorer-payload">(.*?)</script>', re.S
)


def small_payload() -> dict:
    """Two controls (a toggle and a slider) and two series, with NumPy arrays and a nan."""
    controls = [
        {"name": "model", "kind": "toggle", "values": ["SymMoLinE", "SymMoLogE"]},
        {"name": "snr", "label": "SNR", "kind": "slider", "values": np.array([0.5, 1.0, 2.0]),
         "default": 1.0},
    ]
    curves = {}
    for i in range(2):  # model index: SymMoLinE, SymMoLogE
        for j, snr in enumerate([0.5, 1.0, 2.0]):
            x = np.arange(4)
            em = (0.5 + 0.1 * i) ** (snr * x)
            curves[f"{i}|{j}"] = {
                "x": x,
                "series": {"EM": {"median": em, "lower": em / 2, "upper": em * 2},
                           "GD": {"median": [1.0, 0.9, np.nan, 0.7]}},
            }
    return {"title": "Error </script><b>", "y": {"label": "error", "log": True},
            "controls": controls, "series": [{"name": "EM"}, {"name": "GD", "color": "#e15759"}],
            "curves": curves}


def embedded(markup: str) -> dict:
    """The JSON payload inside explorer_html's markup, as the browser's JSON.parse reads it."""
    (match,) = PAYLOAD_RE.findall(markup)
    return json.loads(match)


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
def test_validate_payload_fills_defaults_and_makes_plain_json():
    out = validate_payload(small_payload())
    assert out["x"] == {"label": "", "log": False}
    assert out["y"] == {"label": "error", "log": True}
    assert [c["default"] for c in out["controls"]] == ["SymMoLinE", 1.0]
    assert out["controls"][0]["label"] == "model"  # label defaults to the name
    assert out["controls"][1]["values"] == [0.5, 1.0, 2.0]
    assert out["curves"]["1|2"]["series"]["GD"]["median"] == [1.0, 0.9, None, 0.7]
    assert set(out["curves"]["0|0"]["series"]["GD"]) == {"median"}  # no band given, none added
    json.dumps(out, allow_nan=False)  # plain JSON: no NumPy types, no nan


def test_validate_payload_is_idempotent_and_does_not_modify_its_argument():
    payload = small_payload()
    before = copy.deepcopy(payload)
    out = validate_payload(payload)
    assert validate_payload(out) == out
    np.testing.assert_array_equal(payload["curves"]["0|0"]["x"], before["curves"]["0|0"]["x"])
    assert payload["controls"][0] == before["controls"][0]


def _broken(edit):
    payload = small_payload()
    edit(payload)
    return payload


@pytest.mark.parametrize(
    ("edit", "error", "names"),
    [
        (lambda p: p.pop("curves"), TypeError, "payload['curves']"),
        (lambda p: p["curves"].pop("1|2"), ValueError, "payload['curves']['1|2'] is missing"),
        (lambda p: p["curves"].update({"2|0": p["curves"]["0|0"]}), ValueError, "'2|0'"),
        (lambda p: p.update(controls=[]), ValueError, "payload['controls']"),
        (lambda p: p.update(series=[{"name": "EM"}, {"name": "EM"}]), ValueError,
         "payload['series'] repeats"),
        (lambda p: p["controls"][1].update(kind="dial"), ValueError,
         "payload['controls'][1]['kind']"),
        (lambda p: p["controls"][1].update(values=[2.0, 1.0, 0.5]), ValueError,
         "strictly increasing"),
        (lambda p: p["controls"][1].update(default=3.0), ValueError,
         "payload['controls'][1]['default']"),
        (lambda p: p["controls"][0].update(values=["a", "a"]), ValueError, "repeat"),
        (lambda p: p["curves"]["0|1"]["series"]["EM"].update(median=[1.0, 2.0]), ValueError,
         "payload['curves']['0|1']['series']['EM']['median'] must have 4 values"),
        (lambda p: p["curves"]["0|1"]["series"]["EM"].update(median=[1.0, 0.0, 1.0, 1.0]),
         ValueError, "positive"),
        (lambda p: p["curves"]["0|1"]["series"]["EM"].update(median=[1.0, "a", 1.0, 1.0]),
         TypeError, "payload['curves']['0|1']['series']['EM']['median'][1]"),
        (lambda p: p["curves"]["0|1"]["series"]["EM"].pop("upper"), ValueError,
         "both 'lower' and 'upper'"),
        (lambda p: p["curves"]["0|1"]["series"].pop("GD"), ValueError,
         "payload['curves']['0|1']['series']['GD']"),
        (lambda p: p["curves"]["0|1"].update(x=[0, 1, math.inf, 3]), ValueError,
         "payload['curves']['0|1']['x'][2]"),
        (lambda p: p.update(y={"label": "error", "range": [1.0, 0.1]}), ValueError,
         "payload['y']['range']"),
    ],
)
def test_validate_payload_names_the_faulty_part(edit, error, names):
    with pytest.raises(error, match=re.escape(names)):
        validate_payload(_broken(edit))


def test_validate_payload_rejects_a_non_mapping():
    with pytest.raises(TypeError, match="payload must be a mapping"):
        validate_payload([("controls", [])])


def test_linear_y_axis_accepts_zero_and_negative_values():
    payload = _broken(lambda p: p.update(y={"label": "gap", "log": False}))
    payload["curves"]["0|0"]["series"]["GD"]["median"] = [0.0, -1.0, 2.0, 3.0]
    assert validate_payload(payload)["curves"]["0|0"]["series"]["GD"]["median"][:2] == [0.0, -1.0]


# --------------------------------------------------------------------------------------------
# Keys and summaries
# --------------------------------------------------------------------------------------------
def test_curve_key_indexes_values_in_control_order():
    controls = small_payload()["controls"]
    assert curve_key(controls, ["SymMoLogE", 0.5]) == "1|0"
    assert curve_key(controls, ["SymMoLinE", 2.0]) == "0|2"
    with pytest.raises(ValueError, match="values"):
        curve_key(controls, ["SymMoLinE", 3.0])
    with pytest.raises(ValueError, match="one value per control"):
        curve_key(controls, ["SymMoLinE"])


def test_summarize_matches_nan_aware_quantiles():
    rng = np.random.default_rng(0)
    runs = rng.lognormal(size=(25, 6))
    runs[3, 2] = np.nan
    out = summarize(runs, quantiles=(0.25, 0.75))
    np.testing.assert_allclose(out["median"], np.nanmedian(runs, axis=0))
    np.testing.assert_allclose(out["lower"], np.nanquantile(runs, 0.25, axis=0))
    np.testing.assert_allclose(out["upper"], np.nanquantile(runs, 0.75, axis=0))
    assert all(isinstance(v, float) for v in out["median"])


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------
def test_explorer_html_embeds_the_validated_payload():
    payload = small_payload()
    fig = explorer_html(payload, element_id="fig-ch6")
    assert type(fig).__name__ == "HTML"
    assert fig.data.startswith('<div class="moe-explorer" id="fig-ch6">')
    assert embedded(fig.data) == validate_payload(payload)  # round trip through the markup


def test_explorer_html_cannot_be_broken_out_of_by_a_label():
    fig = explorer_html(small_payload())
    script = PAYLOAD_RE.search(fig.data).group(1)
    assert "<" not in script and ">" not in script  # "</script>" in the title is escaped
    assert embedded(fig.data)["title"] == "Error </script><b>"
    # The fallback text for pages without the runtime shows the title as text, not markup.
    assert "Error &lt;/script&gt;&lt;b&gt;: an interactive figure" in fig.data


@pytest.mark.parametrize("bad", ["has space", '"x', "1abc", 3])
def test_explorer_html_rejects_a_bad_element_id(bad):
    with pytest.raises(ValueError, match="element_id"):
        explorer_html(small_payload(), element_id=bad)


def test_explorer_html_validates_before_writing():
    with pytest.raises(ValueError, match=re.escape("payload['curves']['0|0'] is missing")):
        explorer_html(_broken(lambda p: p["curves"].pop("0|0")))


# --------------------------------------------------------------------------------------------
# The fixture page of the browser test
# --------------------------------------------------------------------------------------------
def test_fixture_page_is_what_its_script_writes():
    path = ROOT / "tests" / "browser" / "make_explorer_fixture.py"
    spec = importlib.util.spec_from_file_location("make_explorer_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = module.OUT.read_text(encoding="utf-8")
    assert committed == module.page(), "run: python tests/browser/make_explorer_fixture.py"
    payload = embedded(committed)
    assert [c["name"] for c in payload["controls"]] == ["model", "snr", "d", "step"]
    assert len(payload["curves"]) == 2 * 4 * 2 * 2
