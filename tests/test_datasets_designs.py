"""Tests of moe_lib.datasets.designs: the principal-component and informative-pixel designs.

The reference computations are book chapter 7's own code (cells defining ``pca_designs`` and
``informative_columns``), copied here, and independent ones (an eigendecomposition of the
training covariance with NumPy; a column-by-column search for constant and repeated columns).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA

from moe_lib import make_data
from moe_lib.datasets import informative_columns, load_inverted_digits, pca_designs


def chapter7_pca_designs(raw, n_components):
    # Book chapter 7, cell defining pca_designs, verbatim (plus the returned projection).
    pca = PCA(n_components, svd_solver="covariance_eigh").fit(raw.X_train)
    train = make_data(pca.transform(raw.X_train), raw.y_train)
    test = make_data(pca.transform(raw.X_test), raw.y_test)
    return train, test, pca


def chapter7_informative_columns(X):
    # Book chapter 7, cell defining informative_columns, verbatim.
    varying = np.flatnonzero(np.ptp(X, axis=0) > 0)
    _, first = np.unique(X[:, varying], axis=1, return_index=True)
    return varying[np.sort(first)]


def brute_force_informative_columns(X):
    # Keep a column if it varies and differs from every earlier kept column.
    kept = []
    for j in range(X.shape[1]):
        column = X[:, j]
        if column.max() > column.min() and not any(np.array_equal(column, X[:, i]) for i in kept):
            kept.append(j)
    return np.array(kept, dtype=int)


def assert_same_data(got, want):
    for field in ("X", "y", "gate_X", "expert_mask", "gate_mask"):
        a, b = getattr(got, field), getattr(want, field)
        assert a.dtype == b.dtype and a.shape == b.shape, field
        np.testing.assert_array_equal(a, b, err_msg=field)  # bitwise: the same sklearn calls
    assert got.n_trials is None and want.n_trials is None


@pytest.fixture(scope="module")
def raw0():
    return load_inverted_digits(random_state=0)


def call(raw, n_components, **kwargs):
    return pca_designs(raw.X_train, raw.y_train, raw.X_test, raw.y_test, n_components, **kwargs)


# --------------------------------------------------------------------------------------------
# pca_designs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 7, 1000])
@pytest.mark.parametrize("n_components", [1, 2, 15, 64])
def test_pca_designs_reproduce_chapter7(seed, n_components):
    raw = load_inverted_digits(random_state=seed)
    train, test, pca = call(raw, n_components)
    want_train, want_test, want_pca = chapter7_pca_designs(raw, n_components)
    assert_same_data(train, want_train)
    assert_same_data(test, want_test)
    np.testing.assert_array_equal(pca.components_, want_pca.components_)
    np.testing.assert_array_equal(pca.mean_, want_pca.mean_)
    assert train.X.shape == (raw.X_train.shape[0], n_components + 1)
    assert test.X.shape == (raw.X_test.shape[0], n_components + 1)


def test_pca_designs_reproduce_chapter7_validation_split(raw0):
    # Chapter 7 also projects a fit/validation split of a training set (the choice of alpha).
    from sklearn.model_selection import train_test_split
    from sklearn.utils import Bunch

    X_fit, X_val, y_fit, y_val = train_test_split(
        raw0.X_train, raw0.y_train, test_size=0.25, stratify=raw0.y_train, random_state=1000
    )
    part = Bunch(X_train=X_fit, y_train=y_fit, X_test=X_val, y_test=y_val)
    fit_part, val_part, _ = call(part, 15)
    want_fit, want_val, _ = chapter7_pca_designs(part, 15)
    assert_same_data(fit_part, want_fit)
    assert_same_data(val_part, want_val)


@pytest.mark.parametrize("n_components", [1, 5, 15])
def test_pca_designs_are_training_principal_components(raw0, n_components):
    # Independent computation: eigenvectors of the covariance of the TRAINING images only.
    train, test, pca = call(raw0, n_components)
    mean = raw0.X_train.mean(axis=0)
    centred = raw0.X_train - mean
    eigval, eigvec = np.linalg.eigh(centred.T @ centred / (centred.shape[0] - 1))
    V = eigvec[:, ::-1][:, :n_components]
    assert eigval[-n_components - 1] < eigval[-n_components]  # the directions are well defined
    signs = np.sign(np.sum(V * pca.components_.T, axis=0))  # eigenvectors are defined up to sign
    np.testing.assert_allclose(pca.components_.T, V * signs, atol=1e-8)
    np.testing.assert_allclose(train.X[:, 1:], centred @ V * signs, atol=1e-8)
    np.testing.assert_allclose(test.X[:, 1:], (raw0.X_test - mean) @ V * signs, atol=1e-8)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(n_components),
                               atol=1e-12)
    for data, X, y in ((train, raw0.X_train, raw0.y_train), (test, raw0.X_test, raw0.y_test)):
        np.testing.assert_array_equal(data.X[:, 0], np.ones(X.shape[0]))
        np.testing.assert_array_equal(data.gate_X, data.X)
        np.testing.assert_array_equal(data.y, y)
        np.testing.assert_array_equal(data.expert_mask, np.r_[0.0, np.ones(n_components)])
        np.testing.assert_array_equal(data.gate_mask, np.r_[0.0, np.ones(n_components)])


def test_pca_designs_ignore_the_test_images(raw0):
    # Changing the test images changes neither the projection nor the training design.
    train, _, pca = call(raw0, 4)
    other = 1.0 - raw0.X_test[::-1]
    train2, test2, pca2 = pca_designs(raw0.X_train, raw0.y_train, other, raw0.y_test[::-1], 4)
    np.testing.assert_array_equal(pca2.components_, pca.components_)
    assert_same_data(train2, train)
    np.testing.assert_array_equal(test2.X[:, 1:], pca.transform(other))


def test_pca_designs_without_intercept(raw0):
    train, test, pca = call(raw0, 3, fit_intercept=False)
    np.testing.assert_array_equal(train.X, pca.transform(raw0.X_train))
    np.testing.assert_array_equal(test.X, pca.transform(raw0.X_test))
    np.testing.assert_array_equal(train.expert_mask, np.ones(3))
    with_intercept, _, _ = call(raw0, 3)
    np.testing.assert_array_equal(with_intercept.X[:, 1:], train.X)


def test_pca_designs_first_component_is_the_style(raw0):
    # Book chapter 7: the sign of the first score separates the two styles almost perfectly.
    train, test, _ = call(raw0, 15)
    for data, inverted in ((train, raw0.inverted_train), (test, raw0.inverted_test)):
        agree = np.mean((data.X[:, 1] > 0) == inverted)
        assert max(agree, 1.0 - agree) > 0.95


def test_pca_designs_accept_lists_and_numpy_integers():
    rng = np.random.default_rng(3)
    X_train, X_test = rng.random((6, 4)), rng.random((3, 4))
    y_train, y_test = np.arange(6) % 2, np.arange(3) % 2
    train, test, _ = pca_designs(X_train.tolist(), y_train.tolist(), X_test.tolist(),
                                 y_test.tolist(), np.int64(2))
    want_train, want_test, _ = pca_designs(X_train, y_train, X_test, y_test, 2)
    assert_same_data(train, want_train)
    assert_same_data(test, want_test)
    # The largest number of components sklearn accepts: min(n_train, n_features).
    assert pca_designs(X_train, y_train, X_test, y_test, 4)[0].X.shape == (6, 5)


def _good_arrays():
    rng = np.random.default_rng(0)
    return {
        "X_train": rng.random((6, 4)),
        "y_train": np.arange(6) % 3,
        "X_test": rng.random((3, 4)),
        "y_test": np.arange(3),
        "n_components": 2,
    }


@pytest.mark.parametrize(
    ("changes", "error", "name"),
    [
        ({"X_train": np.ones(6)}, ValueError, "X_train"),
        ({"X_train": np.ones((1, 4))}, ValueError, "X_train"),
        ({"X_train": np.full((6, 4), np.nan)}, ValueError, "X_train"),
        ({"X_train": "pixels"}, TypeError, "X_train"),
        ({"X_test": np.ones((3, 5))}, ValueError, "X_test"),
        ({"X_test": np.ones((0, 4))}, ValueError, "X_test"),
        ({"X_test": np.full((3, 4), np.inf)}, ValueError, "X_test"),
        ({"y_train": np.arange(5)}, ValueError, "y_train"),
        ({"y_train": np.zeros((6, 1))}, ValueError, "y_train"),
        ({"y_test": np.arange(4)}, ValueError, "y_test"),
        ({"n_components": 0}, ValueError, "n_components"),
        ({"n_components": 5}, ValueError, "n_components"),
        ({"n_components": 2.0}, TypeError, "n_components"),
        ({"n_components": True}, TypeError, "n_components"),
        ({"n_components": None}, TypeError, "n_components"),
    ],
)
def test_pca_designs_argument_errors(changes, error, name):
    kwargs = {**_good_arrays(), **changes}
    with pytest.raises(error, match=name):
        pca_designs(**kwargs)


def test_pca_designs_fit_intercept_must_be_bool():
    with pytest.raises(TypeError, match="fit_intercept"):
        pca_designs(**_good_arrays(), fit_intercept="yes")


# --------------------------------------------------------------------------------------------
# informative_columns
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_informative_columns_reproduce_chapter7(seed):
    raw = load_inverted_digits(random_state=seed)
    for X in (raw.X_train, raw.X_test):
        got = informative_columns(X)
        want = chapter7_informative_columns(X)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, brute_force_informative_columns(X))


def test_informative_columns_of_chapter7_instance0(raw0):
    # Book chapter 7: 61 of the 64 pixels are kept and [1, kept pixels] has full rank, while the
    # dropped pixels are constant or copies of a kept column (here: of the inversion flag).
    keep = informative_columns(raw0.X_train)
    assert keep.size == 61
    design = np.column_stack([np.ones(raw0.X_train.shape[0]), raw0.X_train[:, keep]])
    assert np.linalg.matrix_rank(design) == design.shape[1]
    flag = raw0.inverted_train.astype(float)
    copies = [j for j in range(64) if np.array_equal(raw0.X_train[:, j], flag)]
    assert copies == [0, 24, 32, 39]  # four copies of the flag; the first one is kept
    np.testing.assert_array_equal(np.setdiff1d(np.arange(64), keep), [24, 32, 39])


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_rows=st.integers(1, 6),
    n_cols=st.integers(0, 8),
    n_levels=st.integers(1, 3),
)
def test_informative_columns_match_brute_force(seed, n_rows, n_cols, n_levels):
    # Few distinct values per entry, so constant and repeated columns are frequent.
    rng = np.random.default_rng(seed)
    X = rng.integers(0, n_levels, size=(n_rows, n_cols)).astype(float)
    got = informative_columns(X)
    np.testing.assert_array_equal(got, brute_force_informative_columns(X))
    np.testing.assert_array_equal(got, chapter7_informative_columns(X))
    assert np.all(np.diff(got) > 0)


def test_informative_columns_edge_cases():
    np.testing.assert_array_equal(informative_columns(np.ones((4, 3))), np.array([], dtype=int))
    np.testing.assert_array_equal(informative_columns(np.ones((4, 0))), np.array([], dtype=int))
    np.testing.assert_array_equal(informative_columns([[0, 1, 0], [1, 1, 1]]), [0])


@pytest.mark.parametrize(
    ("X", "error"),
    [
        (np.ones(5), ValueError),
        (np.ones((0, 3)), ValueError),
        (np.array([[0.0, np.nan], [1.0, 2.0]]), ValueError),
        ("pixels", TypeError),
    ],
)
def test_informative_columns_argument_errors(X, error):
    with pytest.raises(error, match="X"):
        informative_columns(X)
