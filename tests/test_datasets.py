"""Behavioural tests for moe_lib.datasets (all offline)."""

from __future__ import annotations

import csv
import gzip
import io
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.datasets import load_digits

from moe_lib import datasets
from moe_lib.datasets import load_fashion_mnist, load_inverted_digits, load_tonedata, read_idx

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialise ``array`` in the IDX format (independent of the reader under test)."""
    array = np.asarray(array)
    code = IDX_CODES[array.dtype]
    header = bytes([0, 0, code, array.ndim])
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes(order="C")


def write_idx(path: Path, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; gzip it if ``compress`` (default: name ends in .gz)."""
    data = idx_bytes(array)
    if compress is None:
        compress = path.name.endswith(".gz")
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def make_fashion_dir(
    directory: Path,
    *,
    prefix: str = "train",
    n_images: int = 7,
    n_labels: int | None = None,
    gz: bool = True,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Write a tiny fake Fashion-MNIST split into ``directory``; return (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n_images, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n_labels if n_labels is not None else n_images)
    labels = labels.astype(np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(directory / f"{prefix}-images-idx3-ubyte{suffix}", images, compress=gz)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress=gz)
    return images, labels


def binomial_ok(k: int, n: int, p: float, z: float = 5.0) -> bool:
    """Is ``k`` within ``z`` standard deviations of Binomial(n, p)'s mean?"""
    return abs(k - n * p) <= z * math.sqrt(n * p * (1 - p)) + 1e-12


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# --------------------------------------------------------------------------------------------
# Tone data
# --------------------------------------------------------------------------------------------


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
    csv_path = Path(datasets.__file__).parent / "data" / "tonedata.csv"
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


# --------------------------------------------------------------------------------------------
# Inverted digits
# --------------------------------------------------------------------------------------------


def test_inverted_digits_shapes_and_types():
    b = load_inverted_digits()
    n_test = math.ceil(0.3 * 1797)
    assert b.X_train.shape == (1797 - n_test, 64) and b.X_test.shape == (n_test, 64)
    assert b.y_train.shape == (1797 - n_test,) and b.y_test.shape == (n_test,)
    assert b.inverted_train.shape == b.y_train.shape and b.inverted_test.shape == b.y_test.shape
    assert b.inverted_train.dtype == bool and b.inverted_test.dtype == bool
    assert b.X_train.dtype == np.float64
    assert len(b.feature_names) == 64
    np.testing.assert_array_equal(b.target_names, np.arange(10))
    assert "Random Invert FMNIST" in b.DESCR and "Fruytier" in b.DESCR
    for X in (b.X_train, b.X_test):
        assert X.min() >= 0.0 and X.max() <= 1.0
    # The split is a partition of all images.
    all_idx = np.concatenate([b.index_train, b.index_test])
    np.testing.assert_array_equal(np.sort(all_idx), np.arange(1797))


def test_inverted_digits_is_stratified(digits):
    b = load_inverted_digits(test_size=0.25, random_state=3)
    counts = np.bincount(digits.target, minlength=10)
    n_test = b.y_test.shape[0]
    test_counts = np.bincount(b.y_test, minlength=10)
    train_counts = np.bincount(b.y_train, minlength=10)
    np.testing.assert_array_equal(test_counts + train_counts, counts)
    expected = counts * n_test / counts.sum()
    assert np.all(np.abs(test_counts - expected) <= 1.0)


@pytest.mark.parametrize("invert_prob", [0.3, 0.5, 0.8])
def test_inverted_images_are_exactly_one_minus_original(digits, invert_prob):
    b = load_inverted_digits(invert_prob=invert_prob, random_state=11)
    original = digits.data / 16.0
    for X, y, inv, idx in (
        (b.X_train, b.y_train, b.inverted_train, b.index_train),
        (b.X_test, b.y_test, b.inverted_test, b.index_test),
    ):
        np.testing.assert_array_equal(y, digits.target[idx])
        np.testing.assert_array_equal(X[inv], 1.0 - original[idx][inv])
        np.testing.assert_array_equal(X[~inv], original[idx][~inv])
        # Independent check: the top-left pixel is background (0) in every digit image, so it
        # is 1 exactly in the inverted ones.
        np.testing.assert_array_equal(X[:, 0], inv.astype(float))


def test_unsplit_images_match_original_order(digits):
    b = load_inverted_digits(return_split=False, random_state=5)
    original = digits.data / 16.0
    np.testing.assert_array_equal(b.index, np.arange(1797))
    np.testing.assert_array_equal(b.target, digits.target)
    expected = np.where(b.inverted[:, None], 1.0 - original, original)
    np.testing.assert_array_equal(b.data, expected)


@pytest.mark.parametrize("invert_prob", [0.1, 0.5, 0.9])
def test_fraction_inverted_is_binomial(invert_prob):
    b = load_inverted_digits(invert_prob=invert_prob, return_split=False, random_state=2)
    assert binomial_ok(int(b.inverted.sum()), b.inverted.size, invert_prob)


def test_invert_prob_extremes(digits):
    none = load_inverted_digits(invert_prob=0.0, return_split=False)
    assert not none.inverted.any()
    np.testing.assert_array_equal(none.data, digits.data / 16.0)
    every = load_inverted_digits(invert_prob=1.0, return_split=False)
    assert every.inverted.all()
    np.testing.assert_array_equal(every.data, 1.0 - digits.data / 16.0)


def test_same_seed_same_output_different_seed_different_output():
    a = load_inverted_digits(random_state=7)
    b = load_inverted_digits(random_state=7)
    c = load_inverted_digits(random_state=8)
    for key in ("X_train", "X_test", "y_train", "y_test", "inverted_train", "inverted_test"):
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a.index_test, c.index_test)
    assert not np.array_equal(a.X_train, c.X_train)
    flags_a = np.empty(1797, bool)
    flags_c = np.empty(1797, bool)
    flags_a[a.index_train], flags_a[a.index_test] = a.inverted_train, a.inverted_test
    flags_c[c.index_train], flags_c[c.index_test] = c.inverted_train, c.inverted_test
    assert not np.array_equal(flags_a, flags_c)


@pytest.mark.parametrize("n_classes", [2, 3, 7, 10])
def test_n_classes_restriction(digits, n_classes):
    b = load_inverted_digits(n_classes=n_classes)
    y = np.concatenate([b.y_train, b.y_test])
    np.testing.assert_array_equal(np.unique(b.y_train), np.arange(n_classes))
    np.testing.assert_array_equal(np.unique(b.y_test), np.arange(n_classes))
    assert y.size == int(np.sum(digits.target < n_classes))
    np.testing.assert_array_equal(b.target_names, np.arange(n_classes))


def test_inversion_flags_do_not_depend_on_n_classes():
    full = load_inverted_digits(return_split=False, random_state=4)
    part = load_inverted_digits(return_split=False, random_state=4, n_classes=3)
    np.testing.assert_array_equal(part.inverted, full.inverted[part.index])
    np.testing.assert_array_equal(part.data, full.data[part.index])


@settings(max_examples=15, deadline=None)
@given(
    invert_prob=st.floats(0.0, 1.0),
    test_size=st.floats(0.1, 0.9),
    n_classes=st.integers(2, 10),
    seed=st.integers(0, 2**32 - 1),
)
def test_inverted_digits_properties(invert_prob, test_size, n_classes, seed):
    b = load_inverted_digits(
        invert_prob=invert_prob, test_size=test_size, n_classes=n_classes, random_state=seed
    )
    n = b.y_train.size + b.y_test.size
    assert b.y_test.size == math.ceil(test_size * n)
    assert set(np.unique(b.y_test)) == set(range(n_classes))
    for X, inv in ((b.X_train, b.inverted_train), (b.X_test, b.inverted_test)):
        assert X.min() >= 0.0 and X.max() <= 1.0
        np.testing.assert_array_equal(X[:, 0], inv.astype(float))


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"invert_prob": -0.1}, ValueError, "invert_prob"),
        ({"invert_prob": 1.1}, ValueError, "invert_prob"),
        ({"invert_prob": float("nan")}, ValueError, "invert_prob"),
        ({"invert_prob": "0.5"}, TypeError, "invert_prob"),
        ({"invert_prob": True}, TypeError, "invert_prob"),
        ({"test_size": 0.0}, ValueError, "test_size"),
        ({"test_size": 1.0}, ValueError, "test_size"),
        ({"test_size": -0.2}, ValueError, "test_size"),
        ({"test_size": 0.001}, ValueError, "test_size"),
        ({"test_size": 0.999}, ValueError, "test_size"),
        ({"test_size": None}, TypeError, "test_size"),
        ({"n_classes": 1}, ValueError, "n_classes"),
        ({"n_classes": 11}, ValueError, "n_classes"),
        ({"n_classes": 2.0}, TypeError, "n_classes"),
        ({"n_classes": True}, TypeError, "n_classes"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"random_state": 2**32}, ValueError, "random_state"),
        ({"random_state": 1.5}, TypeError, "random_state"),
        ({"return_split": "no"}, TypeError, "return_split"),
    ],
)
def test_inverted_digits_argument_errors(kwargs, error, name):
    with pytest.raises(error, match=name):
        load_inverted_digits(**kwargs)


def test_inverted_digits_accepts_numpy_scalars():
    a = load_inverted_digits(
        invert_prob=np.float32(0.5), n_classes=np.int64(4), random_state=np.int64(1)
    )
    b = load_inverted_digits(invert_prob=0.5, n_classes=4, random_state=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)


def test_inverted_digits_random_state_none_runs():
    b = load_inverted_digits(random_state=None, n_classes=2)
    assert b.X_train.shape[1] == 64


# --------------------------------------------------------------------------------------------
# read_idx
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# load_fashion_mnist
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_load_fashion_mnist_round_trip(tmp_path, gz):
    images, labels = make_fashion_dir(tmp_path, gz=gz)
    b = load_fashion_mnist(tmp_path)
    assert b.data.shape == (7, 784) and b.data.dtype == np.float64
    assert b.target.shape == (7,) and b.target.dtype == np.int64
    np.testing.assert_array_equal(b.data, images.reshape(7, 784) / 255.0)
    np.testing.assert_array_equal(b.target, labels)
    assert b.data.min() >= 0.0 and b.data.max() <= 1.0
    assert b.inverted is None
    assert len(b.target_names) == 10 and len(b.feature_names) == 784
    assert "Fashion-MNIST" in b.DESCR


def test_load_fashion_mnist_kind_test_reads_t10k(tmp_path):
    train_images, _ = make_fashion_dir(tmp_path, prefix="train", n_images=5, seed=1)
    test_images, test_labels = make_fashion_dir(tmp_path, prefix="t10k", n_images=3, seed=2)
    b = load_fashion_mnist(str(tmp_path), kind="test")
    np.testing.assert_array_equal(b.data, test_images.reshape(3, 784) / 255.0)
    np.testing.assert_array_equal(b.target, test_labels)
    assert load_fashion_mnist(tmp_path, kind="train").data.shape == (5, 784)


def test_load_fashion_mnist_inversion(tmp_path):
    images, _ = make_fashion_dir(tmp_path, n_images=7)
    original = images.reshape(7, 784) / 255.0
    every = load_fashion_mnist(tmp_path, invert_prob=1.0)
    assert every.inverted.dtype == bool and every.inverted.all()
    np.testing.assert_array_equal(every.data, 1.0 - original)
    none = load_fashion_mnist(tmp_path, invert_prob=0.0)
    assert not none.inverted.any()
    np.testing.assert_array_equal(none.data, original)

    a = load_fashion_mnist(tmp_path, invert_prob=0.5, random_state=3)
    b = load_fashion_mnist(tmp_path, invert_prob=0.5, random_state=3)
    np.testing.assert_array_equal(a.inverted, b.inverted)
    np.testing.assert_array_equal(a.data, b.data)
    expected_flags = np.random.default_rng(3).random(7) < 0.5
    np.testing.assert_array_equal(a.inverted, expected_flags)
    np.testing.assert_array_equal(a.data, np.where(a.inverted[:, None], 1.0 - original, original))
    gen = load_fashion_mnist(tmp_path, invert_prob=0.5, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(gen.inverted, a.inverted)


def test_load_fashion_mnist_max_samples(tmp_path):
    images, labels = make_fashion_dir(tmp_path, n_images=7)
    b = load_fashion_mnist(tmp_path, max_samples=3)
    np.testing.assert_array_equal(b.data, images[:3].reshape(3, 784) / 255.0)
    np.testing.assert_array_equal(b.target, labels[:3])
    assert load_fashion_mnist(tmp_path, max_samples=100).data.shape == (7, 784)


def test_load_fashion_mnist_mismatched_counts(tmp_path):
    make_fashion_dir(tmp_path, n_images=7, n_labels=6)
    with pytest.raises(ValueError, match="7 images.*6 labels"):
        load_fashion_mnist(tmp_path)


def test_load_fashion_mnist_wrong_magic(tmp_path):
    make_fashion_dir(tmp_path)
    # Labels stored where the images should be: magic 0x00000801 instead of 0x00000803.
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros(7, np.uint8))
    with pytest.raises(ValueError, match="0x00000803"):
        load_fashion_mnist(tmp_path)
    # Right number of dimensions but wrong element type (int16).
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((7, 28, 28), np.int16))
    with pytest.raises(ValueError, match="0x00000B03"):
        load_fashion_mnist(tmp_path)
    # Wrong image size.
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((7, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="28, 28"):
        load_fashion_mnist(tmp_path)


def test_load_fashion_mnist_bad_labels(tmp_path):
    make_fashion_dir(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros((7, 1), np.uint8))
    with pytest.raises(ValueError, match="0x00000801"):
        load_fashion_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.full(7, 10, np.uint8))
    with pytest.raises(ValueError, match="0..9"):
        load_fashion_mnist(tmp_path)


def test_load_fashion_mnist_truncated_file(tmp_path):
    make_fashion_dir(tmp_path)
    data = idx_bytes(np.zeros((7, 28, 28), np.uint8))[:-5]
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(data))
    with pytest.raises(ValueError, match="train-images-idx3-ubyte.gz"):
        load_fashion_mnist(tmp_path)


def test_load_fashion_mnist_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "train-labels-idx1-ubyte.gz" in message
    assert "zalandoresearch/fashion-mnist" in message and "Binder" in message

    make_fashion_dir(tmp_path, prefix="train")
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte.gz") as info:
        load_fashion_mnist(tmp_path)
    assert "train-images-idx3-ubyte.gz not" not in str(info.value)

    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        load_fashion_mnist(tmp_path, kind="test")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_fashion_mnist(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"kind": "validation"}, ValueError, "kind"),
        ({"kind": 1}, TypeError, "kind"),
        ({"invert_prob": 2.0}, ValueError, "invert_prob"),
        ({"invert_prob": "half"}, TypeError, "invert_prob"),
        ({"max_samples": 0}, ValueError, "max_samples"),
        ({"max_samples": 2.5}, TypeError, "max_samples"),
        ({"random_state": -3, "invert_prob": 0.5}, ValueError, "random_state"),
        ({"random_state": "seed", "invert_prob": 0.5}, TypeError, "random_state"),
    ],
)
def test_load_fashion_mnist_argument_errors(tmp_path, kwargs, error, name):
    make_fashion_dir(tmp_path)
    with pytest.raises(error, match=name):
        load_fashion_mnist(tmp_path, **kwargs)


def test_load_fashion_mnist_path_type():
    with pytest.raises(TypeError, match="path"):
        load_fashion_mnist(42)
