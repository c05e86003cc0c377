"""Designs for image data: principal-component designs and the informative pixel columns.

Book chapter 7 fits mixtures of softmax experts to images in two coordinate systems: the first
principal components of the training images (:func:`pca_designs`), and the raw pixels without
constant or duplicated columns (:func:`informative_columns`), which an unpenalised fit needs to
have a full-rank design.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from moe_lib._validation import check_array, check_bool, check_int
from moe_lib.params import MoEData, make_data

if TYPE_CHECKING:
    from sklearn.decomposition import PCA


def _check_labels(y: object, name: str, n_samples: int, x_name: str) -> np.ndarray:
    """``y`` as an array of shape (n_samples,), its dtype kept (class codes stay integers)."""
    y = np.asarray(y)
    if y.shape != (n_samples,):
        raise ValueError(f"{name} must have shape ({n_samples},) to match {x_name}, got {y.shape}")
    return y


def pca_designs(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    n_components: int,
    *,
    fit_intercept: bool = True,
) -> tuple[MoEData, MoEData, PCA]:
    """Training and test designs on the first principal components of the training images.

    The components are fitted on ``X_train`` only, with
    ``sklearn.decomposition.PCA(n_components, svd_solver="covariance_eigh")``, and both sets are
    projected with its ``transform`` (centred by the training mean). The designs are then built
    by :func:`moe_lib.params.make_data`, which adds the unpenalised intercept column. Because the
    components are orthonormal, an L2 penalty on the coefficients of the scores equals the
    penalty on the pixel-space coefficients they represent (book chapter 7, exercise on
    principal components and the penalty).

    Parameters
    ----------
    X_train : array-like of shape (n_train, n_features)
        Training images, one per row (finite; at least 2 rows).
    y_train : array-like of shape (n_train,)
        Training responses (class codes for softmax experts); passed to ``make_data`` as given.
    X_test : array-like of shape (n_test, n_features)
        Test images (finite; at least 1 row), projected on the training components.
    y_test : array-like of shape (n_test,)
        Test responses.
    n_components : int
        Number of principal components, between 1 and ``min(n_train, n_features)``.
    fit_intercept : bool, default=True
        Prepend an unpenalised intercept column to both designs (``make_data``'s argument).

    Returns
    -------
    train : MoEData
        Design of the training set: ``X`` and ``gate_X`` of shape
        (n_train, n_components + fit_intercept), the scores after the intercept column.
    test : MoEData
        Design of the test set, of shape (n_test, n_components + fit_intercept).
    pca : sklearn.decomposition.PCA
        The fitted projection (``components_``, ``mean_``, ``explained_variance_ratio_``).

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If an array has the wrong shape or non-finite values, or ``n_components`` is out of
        range; the message names the argument.

    Examples
    --------
    >>> from moe_lib.datasets import load_inverted_digits
    >>> raw = load_inverted_digits(n_classes=2, random_state=0)
    >>> train, test, pca = pca_designs(raw.X_train, raw.y_train, raw.X_test, raw.y_test, 3)
    >>> train.X.shape, test.X.shape, train.expert_mask.tolist()
    ((252, 4), (108, 4), [0.0, 1.0, 1.0, 1.0])
    >>> bool(np.all(train.X[:, 0] == 1.0)), bool(np.allclose(train.X[:, 1:].mean(axis=0), 0.0))
    (True, True)

    The first component separates the inverted images from the others almost perfectly:

    >>> agree = np.mean((train.X[:, 1] > 0) == raw.inverted_train)
    >>> bool(max(agree, 1.0 - agree) > 0.95)
    True
    """
    X_train = check_array(X_train, "X_train", ndim=2)
    n_train, n_features = X_train.shape
    if n_train < 2:
        raise ValueError(f"X_train must have at least 2 rows (images), got shape {X_train.shape}")
    X_test = check_array(X_test, "X_test", shape=(None, n_features))
    if X_test.shape[0] < 1:
        raise ValueError(f"X_test must have at least 1 row (image), got shape {X_test.shape}")
    y_train = _check_labels(y_train, "y_train", n_train, "X_train")
    y_test = _check_labels(y_test, "y_test", X_test.shape[0], "X_test")
    n_components = check_int(
        n_components, "n_components", min_value=1, max_value=min(n_train, n_features)
    )
    fit_intercept = check_bool(fit_intercept, "fit_intercept")

    from sklearn.decomposition import PCA

    pca = PCA(n_components, svd_solver="covariance_eigh").fit(X_train)
    train = make_data(pca.transform(X_train), y_train, fit_intercept=fit_intercept)
    test = make_data(pca.transform(X_test), y_test, fit_intercept=fit_intercept)
    return train, test, pca


def informative_columns(X: np.ndarray) -> np.ndarray:
    """Indices of the columns of ``X`` that are neither constant nor a copy of an earlier column.

    Constant columns are collinear with the intercept and identical columns with each other, so
    an unpenalised fit on ``[1, X[:, informative_columns(X)]]`` can be identifiable where one on
    ``[1, X]`` is not (book chapter 7: on the inverted digits, the background pixels become copies
    of the inversion flag).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite values, at least one row.

    Returns
    -------
    columns : ndarray of shape (n_kept,), int
        Increasing column indices: the columns whose range is positive, keeping the first of each
        group of identical ones.

    Raises
    ------
    TypeError
        If ``X`` is not numeric.
    ValueError
        If ``X`` is not 2-dimensional, has no row, or holds NaN or infinity.

    Examples
    --------
    Column 1 is constant and column 3 repeats column 0:

    >>> X = np.array([[0.0, 5.0, 1.0, 0.0], [1.0, 5.0, 2.0, 1.0], [1.0, 5.0, 0.0, 1.0]])
    >>> informative_columns(X)
    array([0, 2])
    """
    X = check_array(X, "X", ndim=2)
    if X.shape[0] < 1:
        raise ValueError(f"X must have at least 1 row, got shape {X.shape}")
    varying = np.flatnonzero(np.ptp(X, axis=0) > 0)
    # np.unique returns the first occurrence of each distinct column; sorting restores X's order.
    _, first = np.unique(X[:, varying], axis=1, return_index=True)
    return varying[np.sort(first)]
