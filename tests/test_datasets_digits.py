"""Tests of moe_lib.datasets.digits: the randomly inverted scikit-learn digits (offline)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from moe_lib.datasets import load_inverted_digits


def binomial_ok(k: int, n: int, p: float, z: float = 5.0) -> bool:
    """Is ``k`` within ``z`` standard deviations of Binomial(n, p)'s mean?"""
    return abs(k - n * p) <= z * math.sqrt(n * p * (1 - p)) + 1e-12


@pytest.fixture(scope="module")
def digits():
    return load_digits()



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


