"""Tests of moe_lib.datasets.tonedata: the shipped tone perception data (offline)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import moe_lib
from moe_lib.datasets import load_tonedata


def test_tonedata_bunch_contents():
    b = load_tonedata()
    assert b.data.shape == (150, 1)
    assert b.target.shape == (150,)
    assert b.data.dtype == np.float64 and b.target.dtype == np.float64
    assert b.data[0, 0] == 1.35 and b.target[0] == 1.461
    assert b.data[-1, 0] == 3.0 and b.target[-1] == 2.91
    assert np.isfinite(b.data).all() and np.isfinite(b.target).all()
    assert b.feature_names == ["stretchratio"]
    assert b.target_name == "tuned"
    assert b.frame is None
    assert "Cohen" in b.DESCR and "mixtools" in b.DESCR


def test_tonedata_return_X_y_matches_bunch():
    X, y = load_tonedata(return_X_y=True)
    b = load_tonedata()
    np.testing.assert_array_equal(X, b.data)
    np.testing.assert_array_equal(y, b.target)


def test_tonedata_matches_shipped_csv_and_ignores_cwd(tmp_path, monkeypatch):
    csv_path = Path(moe_lib.__file__).parent / "data" / "tonedata.csv"
    with csv_path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["stretchratio", "tuned"]
    expected = np.array(rows[1:], dtype=float)
    monkeypatch.chdir(tmp_path)  # the loader must not depend on the working directory
    X, y = load_tonedata(return_X_y=True)
    np.testing.assert_array_equal(np.column_stack([X, y]), expected)


def test_tonedata_has_two_regimes():
    X, y = load_tonedata(return_X_y=True)
    x = X[:, 0]
    assert 1.3 <= x.min() and x.max() <= 3.0
    near_fundamental = np.abs(y - 2.0) < 0.1
    near_overtones = np.abs(y - x) < 0.1
    assert np.mean(near_fundamental | near_overtones) > 0.85
    assert np.mean(near_fundamental & ~near_overtones) > 0.25
    assert np.mean(near_overtones & ~near_fundamental) > 0.10


def test_tonedata_rejects_non_bool():
    with pytest.raises(TypeError, match="return_X_y"):
        load_tonedata(return_X_y="yes")


