"""Tests of moe_lib.datasets.fashion: Fashion-MNIST from local IDX files (fake, tiny, offline)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from idx_files import idx_bytes, make_fashion_dir, write_idx

from moe_lib.datasets import load_fashion_mnist


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
