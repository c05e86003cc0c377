"""Tests of moe_lib.datasets.idx: the strict IDX reader, against an independent writer."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from idx_files import IDX_CODES, idx_bytes, write_idx

from moe_lib.datasets import read_idx

_dtypes = st.sampled_from(list(IDX_CODES))
_shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array=hnp.arrays(_dtypes, _shapes), compress=st.booleans())
def test_read_idx_round_trip(array, compress):
    data = idx_bytes(array)
    if compress:
        data = gzip.compress(data)
    out = read_idx(io.BytesIO(data))
    assert out.dtype == array.dtype  # native byte order, same kind and size
    assert out.dtype.isnative
    assert out.shape == array.shape
    np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_read_idx_paths_gzip_and_plain(tmp_path, name):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    path = write_idx(tmp_path / name, images)
    for file in (path, str(path)):
        out = read_idx(file)
        assert out.dtype == np.uint8 and out.shape == (7, 28, 28)
        np.testing.assert_array_equal(out, images)
    with path.open("rb") as fh:
        np.testing.assert_array_equal(read_idx(fh), images)
    # The magic number is the documented one.
    raw = path.read_bytes()
    raw = gzip.decompress(raw) if name.endswith(".gz") else raw
    assert raw[:4] == b"\x00\x00\x08\x03"


def test_read_idx_output_is_writable_copy():
    out = read_idx(io.BytesIO(idx_bytes(np.arange(6, dtype=np.int32).reshape(2, 3))))
    out[0, 0] = 42  # must not raise (frombuffer arrays are read-only)
    assert out.flags.c_contiguous


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("cut", [1, 100, 28 * 28 * 7])
def test_read_idx_truncated(tmp_path, compress, cut):
    data = idx_bytes(np.zeros((7, 28, 28), np.uint8))[:-cut]
    path = tmp_path / "truncated.idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ValueError, match="truncated.idx"):
        read_idx(path)


def test_read_idx_trailing_bytes(tmp_path):
    path = tmp_path / "long.idx"
    path.write_bytes(idx_bytes(np.zeros(5, np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match=r"long\.idx.*5 data bytes.*6 data bytes"):
        read_idx(path)


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (b"", "too short"),
        (b"\x00\x00", "too short"),
        (b"\x01\x00\x08\x01", "not an IDX file"),
        (b"\x00\x01\x08\x01", "not an IDX file"),
        (b"\x00\x00\x0a\x01", "unknown IDX data type"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x07", "truncated IDX header"),
    ],
)
def test_read_idx_bad_headers(tmp_path, header, match):
    path = tmp_path / "bad.idx"
    path.write_bytes(header)
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path)
    assert "bad.idx" in str(info.value)


def test_read_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "corrupt.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(50, np.uint8)))[:-10])
    with pytest.raises(ValueError, match="corrupt.gz"):
        read_idx(path)


def test_read_idx_argument_errors(tmp_path):
    with pytest.raises(TypeError, match="file"):
        read_idx(123)
    path = write_idx(tmp_path / "a.idx", np.zeros(3, np.uint8))
    with path.open("r", encoding="latin-1") as fh, pytest.raises(TypeError, match="binary"):
        read_idx(fh)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing.idx")


