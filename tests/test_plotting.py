"""Tests for moe_lib.plotting: the drawn data are the statistics, computed independently here."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from moe_lib.plotting import band_statistics, convergence_figure, median_band  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------------------------
# Independent statistics: sort the finite values of a column and interpolate by hand
# --------------------------------------------------------------------------------------------
def quantile_by_hand(values: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile (numpy's default, "type 7") of the non-nan values."""
    v = sorted(float(t) for t in values if not np.isnan(t))
    if not v:
        return float("nan")
    h = (len(v) - 1) * q
    lo = int(np.floor(h))
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (h - lo) * (v[hi] - v[lo])


def median_by_hand(values: np.ndarray) -> float:
    v = sorted(float(t) for t in values if not np.isnan(t))
    if not v:
        return float("nan")
    m = len(v)
    return v[m // 2] if m % 2 else 0.5 * (v[m // 2 - 1] + v[m // 2])


def columns(curves: np.ndarray, fn) -> np.ndarray:
    return np.array([fn(curves[:, j]) for j in range(curves.shape[1])])


def band_edges(band, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each x_j, the smallest and largest vertex ordinate of the band's polygons at x_j
    (nan where no polygon has a vertex at x_j)."""
    low = np.full(x.shape, np.nan)
    high = np.full(x.shape, np.nan)
    paths = band.get_paths()
    if not paths:
        return low, high
    verts = np.vstack([p.vertices for p in paths])
    for j, xj in enumerate(x):
        ys = verts[np.isclose(verts[:, 0], xj, rtol=0, atol=1e-12), 1]
        if ys.size:
            low[j], high[j] = ys.min(), ys.max()
    return low, high


def assert_same(a: np.ndarray, b: np.ndarray) -> None:
    """Equal where finite, nan at the same places."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------------------------
# median_band
# --------------------------------------------------------------------------------------------
def test_line_is_median_and_band_is_quantiles():
    rng = np.random.default_rng(0)
    curves = rng.lognormal(size=(11, 7))
    x = np.arange(7) * 2.0 + 1.0
    fig, ax = plt.subplots()
    line, band = median_band(ax, x, curves, label="EM", quantiles=(0.25, 0.75))
    np.testing.assert_array_equal(line.get_xdata(), x)
    assert_same(line.get_ydata(), columns(curves, median_by_hand))
    low, high = band_edges(band, x)
    assert_same(low, columns(curves, lambda c: quantile_by_hand(c, 0.25)))
    assert_same(high, columns(curves, lambda c: quantile_by_hand(c, 0.75)))
    assert line.get_label() == "EM"
    # The band takes the line's colour.
    np.testing.assert_allclose(band.get_facecolor()[0][:3], to_rgba(line.get_color())[:3])


def test_nan_entries_are_ignored_and_empty_columns_leave_gaps():
    curves = np.array(
        [
            [1.0, np.nan, 3.0, np.nan],
            [2.0, 5.0, np.nan, np.nan],
            [4.0, 7.0, 1.0, np.nan],
        ]
    )
    fig, ax = plt.subplots()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "All-NaN slice" warning may escape
        line, band = median_band(ax, None, curves)
    np.testing.assert_array_equal(line.get_xdata(), np.arange(4.0))
    assert_same(line.get_ydata(), [2.0, 6.0, 2.0, np.nan])
    low, high = band_edges(band, np.arange(4.0))
    assert_same(low, [1.2, 5.2, 1.2, np.nan])
    assert_same(high, [3.6, 6.8, 2.8, np.nan])


def test_log_masks_non_positive_statistics_only():
    curves = np.array([[1.0, -1.0, 1e-3], [3.0, -2.0, -1e-3], [5.0, -3.0, 2e-3]])
    before = curves.copy()
    fig, ax = plt.subplots()
    line, band = median_band(ax, [0, 1, 2], curves, log=True, quantiles=(0.0, 1.0))
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(curves, before)
    assert_same(line.get_ydata(), [3.0, np.nan, 1e-3])
    low, high = band_edges(band, np.array([0.0, 1.0, 2.0]))
    # Column 2: low quantile -1e-3 is masked, so no polygon reaches x = 2.
    assert_same(low, [1.0, np.nan, np.nan])
    assert_same(high, [5.0, np.nan, np.nan])


def test_single_instance_and_no_band():
    fig, ax = plt.subplots()
    line, band = median_band(
        ax, [0.0, 1.0], [[2.0, 3.0]], quantiles=None, color="red", linestyle="--"
    )
    assert band is None
    assert len(ax.collections) == 0
    assert_same(line.get_ydata(), [2.0, 3.0])
    assert line.get_linestyle() == "--"
    assert to_rgba(line.get_color()) == to_rgba("red")


def test_band_statistics_matches_hand_computation():
    rng = np.random.default_rng(3)
    curves = rng.standard_normal((6, 5))
    curves[rng.random(curves.shape) < 0.3] = np.nan
    med, lo, hi = band_statistics(curves, (0.1, 0.9))
    assert_same(med, columns(curves, median_by_hand))
    assert_same(lo, columns(curves, lambda c: quantile_by_hand(c, 0.1)))
    assert_same(hi, columns(curves, lambda c: quantile_by_hand(c, 0.9)))
    med2, lo2, hi2 = band_statistics(curves, None)
    assert_same(med2, med)
    assert lo2 is None and hi2 is None


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    n_inst=st.integers(1, 6),
    T=st.integers(1, 6),
    q=st.tuples(st.floats(0.0, 0.5), st.floats(0.5, 1.0)).filter(lambda t: t[0] < t[1]),
    seed=st.integers(0, 2**16),
    nan_frac=st.sampled_from([0.0, 0.3]),
)
def test_drawn_data_property(n_inst, T, q, seed, nan_frac):
    rng = np.random.default_rng(seed)
    curves = rng.standard_normal((n_inst, T)) * 10.0 ** rng.integers(-3, 3)
    curves[rng.random(curves.shape) < nan_frac] = np.nan
    x = np.cumsum(rng.random(T) + 0.1)
    fig, ax = plt.subplots()
    try:
        line, band = median_band(ax, x, curves, quantiles=q)
        assert_same(line.get_ydata(), columns(curves, median_by_hand))
        low, high = band_edges(band, x)
        assert_same(low, columns(curves, lambda c: quantile_by_hand(c, q[0])))
        assert_same(high, columns(curves, lambda c: quantile_by_hand(c, q[1])))
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"curves": [1.0, 2.0]}, ValueError, "2-dimensional"),
        ({"curves": np.zeros((0, 3))}, ValueError, "non-empty"),
        ({"curves": [[1.0, np.inf]]}, ValueError, "infinite"),
        ({"curves": [["a", "b"]]}, TypeError, "numeric"),
        ({"x": [0.0, 1.0, 2.0]}, ValueError, "shape"),
        ({"x": [0.0, np.nan]}, ValueError, "finite"),
        ({"quantiles": (0.9, 0.1)}, ValueError, "low < high"),
        ({"quantiles": (-0.1, 0.5)}, ValueError, "0 <= low"),
        ({"quantiles": (0.1,)}, ValueError, "pair"),
        ({"label": 3}, TypeError, "label"),
        ({"log": "yes"}, TypeError, "log"),
        ({"band_alpha": 2.0}, ValueError, "band_alpha"),
    ],
)
def test_median_band_validation(kwargs, error, match):
    fig, ax = plt.subplots()
    args = {"x": [0.0, 1.0], "curves": [[1.0, 2.0], [3.0, 4.0]]}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        median_band(ax, args.pop("x"), args.pop("curves"), **args)


def test_median_band_rejects_non_axes():
    fig, ax = plt.subplots()
    with pytest.raises(TypeError, match="Axes"):
        median_band(fig, None, [[1.0]])


# --------------------------------------------------------------------------------------------
# convergence_figure
# --------------------------------------------------------------------------------------------
def _panels(rng: np.random.Generator, T: int = 8) -> dict:
    return {
        "gap": {"EM": rng.lognormal(size=(5, T)), "GD": rng.lognormal(size=(4, T))},
        "signed": {"EM": rng.standard_normal((5, T)), "GD": rng.standard_normal((4, T))},
        "error": {"GD": rng.random((5, T)), "EM": rng.random((5, T))},
    }


def test_convergence_figure_draws_each_method_in_each_panel():
    rng = np.random.default_rng(1)
    panels = _panels(rng)
    fig, axes = convergence_figure(
        panels,
        yscale={"gap": "log", "signed": "symlog", "error": "linear"},
        linthresh=1e-2,
        ylabels={"gap": "L - L_hat"},
        ncols=2,
        title="demo",
    )
    assert axes.shape == (3,)
    assert len(fig.axes) == 3  # the fourth grid cell was removed
    assert [ax.get_title() for ax in axes] == ["gap", "signed", "error"]
    assert [ax.get_yscale() for ax in axes] == ["log", "symlog", "linear"]
    assert axes[1].yaxis.get_transform().linthresh == pytest.approx(1e-2)
    assert axes[0].get_ylabel() == "L - L_hat"
    colours = {}
    for ax, (name, methods) in zip(axes, panels.items(), strict=True):
        lines = {ln.get_label(): ln for ln in ax.get_lines() if not ln.get_label().startswith("_")}
        assert set(lines) == set(methods)
        for m, curves in methods.items():
            expected = columns(np.asarray(curves), median_by_hand)
            if name == "gap":
                expected = np.where(expected > 0, expected, np.nan)
            assert_same(lines[m].get_ydata(), expected)
            colours.setdefault(m, set()).add(to_rgba(lines[m].get_color()))
        assert len(ax.collections) == len(methods)
    # A method has one colour across panels, and the two methods differ.
    assert all(len(c) == 1 for c in colours.values())
    assert colours["EM"] != colours["GD"]
    legend = axes[0].get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["EM", "GD"]


def test_convergence_figure_options():
    rng = np.random.default_rng(2)
    curves = {"p": {"a": rng.random((3, 4)), "b": rng.random((3, 4))}}
    fig, axes = convergence_figure(
        curves,
        x=[1.0, 2.0, 4.0, 8.0],
        yscale="linear",
        colors={"a": "black"},
        linestyles={"b": ":"},
        quantiles=None,
        legend_panel=None,
    )
    ax = axes[0]
    assert ax.get_legend() is None
    assert len(ax.collections) == 0
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_array_equal(lines["a"].get_xdata(), [1.0, 2.0, 4.0, 8.0])
    assert to_rgba(lines["a"].get_color()) == to_rgba("black")
    assert lines["b"].get_linestyle() == ":"


@pytest.mark.parametrize(
    ("panels", "kwargs", "match"),
    [
        ({}, {}, "non-empty"),
        ({"p": {}}, {}, "non-empty"),
        ({"p": {"a": np.ones((2, 3)), "b": np.ones((2, 4))}}, {}, "different lengths"),
        ({"p": {"a": np.ones((2, 3))}}, {"yscale": "loglog"}, "yscale"),
        ({"p": {"a": np.ones((2, 3))}}, {"yscale": {"q": "log"}}, "no entry"),
        ({"p": {"a": np.ones((2, 3))}}, {"yscale": "symlog", "linthresh": 0.0}, "linthresh"),
        ({"p": {"a": np.ones((2, 3))}}, {"x": [1.0, 2.0]}, "shape"),
        ({"p": {"a": np.ones((2, 3))}}, {"ncols": 0}, "ncols"),
        ({"p": {"a": np.ones((2, 3))}}, {"legend_panel": 1}, "legend_panel"),
        ({"p": {"a": np.ones(3)}}, {}, "2-dimensional"),
    ],
)
def test_convergence_figure_validation(panels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        convergence_figure(panels, **kwargs)
    assert plt.get_fignums() == []  # nothing was drawn before the error
