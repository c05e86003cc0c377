"""scikit-learn's bundled digits with a random half colour-inverted (offline, book chapter 7).

An offline stand-in for the "Random Invert FMNIST" experiment of Fruytier, Mokhtari & Sanghavi
(ICML 2025). scikit-learn is imported inside the loader, so importing this module is cheap.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from moe_lib._validation import check_bool, check_int, check_real
from moe_lib.datasets._inversion import invert_rows

if TYPE_CHECKING:
    from sklearn.utils import Bunch

INVERTED_DIGITS_DESCR = """\
Randomly inverted digits
========================

scikit-learn's bundled copy of the UCI optical-recognition handwritten digits (1797 greyscale
images of 8x8 pixels, read offline with ``sklearn.datasets.load_digits``). Pixels are scaled from
0..16 to [0, 1] and each image is independently colour-inverted (x -> 1 - x) with probability
``invert_prob``; only classes 0..n_classes-1 are kept, and the result is split into stratified
train and test sets.

This mimics, on small offline data, the "Random Invert FMNIST" set-up of Fruytier, Mokhtari &
Sanghavi, "Learning Mixtures of Experts with EM: A Mirror Descent Perspective", ICML 2025
(PMLR 267), where half of the Fashion-MNIST images are inverted so that a mixture of experts can
assign one expert to each of the two image "styles". The flags ``inverted_*`` record which images
were inverted (the latent variable a good gate should recover).
"""

#: The seed goes both to ``np.random.default_rng`` and to scikit-learn's ``train_test_split``,
#: whose legacy generator only takes seeds below 2**32.
_MAX_SEED = 2**32 - 1


def load_inverted_digits(
    *,
    invert_prob: float = 0.5,
    test_size: float = 0.3,
    random_state: int | None = 0,
    n_classes: int = 10,
    return_split: bool = True,
) -> Bunch:
    """Load the scikit-learn digits with a random subset of the images colour-inverted.

    Steps: load ``sklearn.datasets.load_digits`` (bundled, offline); scale pixels from 0..16 to
    [0, 1]; draw one uniform number per image (all 1797 images, in their original order) from
    ``np.random.default_rng(random_state)`` and invert (``x -> 1 - x``) the images whose draw is
    below ``invert_prob``; keep the classes ``0 .. n_classes - 1``; finally split with
    ``sklearn.model_selection.train_test_split(..., stratify=y, random_state=random_state)``.
    Because the draws are made before the class restriction, an image's inversion flag for a
    given ``random_state`` does not depend on ``n_classes``.

    Parameters
    ----------
    invert_prob : float, default=0.5
        Probability in [0, 1] that an image is inverted.
    test_size : float, default=0.3
        Fraction in (0, 1) of the samples put in the test set.
    random_state : int or None, default=0
        Seed in [0, 2**32 - 1] for both the inversions and the split; None gives fresh
        randomness.
    n_classes : int, default=10
        Number of digit classes kept (2 to 10).
    return_split : bool, default=True
        If False, return all (kept) images without splitting.

    Returns
    -------
    data : sklearn.utils.Bunch
        If ``return_split`` is True, with fields

        - ``X_train`` : ndarray of shape (n_train, 64), float64 in [0, 1];
        - ``X_test`` : ndarray of shape (n_test, 64), float64 in [0, 1];
        - ``y_train``, ``y_test`` : ndarrays of shape (n_train,), (n_test,), int64;
        - ``inverted_train``, ``inverted_test`` : bool ndarrays of shapes (n_train,), (n_test,);
        - ``index_train``, ``index_test`` : int ndarrays, row of each sample in
          ``load_digits().data``;
        - ``feature_names`` : list of 64 str (``"pixel_<row>_<col>"``);
        - ``target_names`` : ndarray of shape (n_classes,), the kept digits;
        - ``DESCR`` : str.

        If ``return_split`` is False, ``data`` (n, 64), ``target`` (n,), ``inverted`` (n,) and
        ``index`` (n,) replace the train/test fields.

    Raises
    ------
    TypeError
        If an argument has the wrong type.
    ValueError
        If ``invert_prob`` is outside [0, 1], ``test_size`` outside (0, 1) or too small or large
        to leave at least one sample per class in each part, ``n_classes`` outside 2..10, or
        ``random_state`` outside [0, 2**32 - 1].

    Examples
    --------
    >>> raw = load_inverted_digits(n_classes=2, random_state=0)
    >>> raw.X_train.shape, raw.X_test.shape
    ((252, 64), (108, 64))
    >>> sorted(set(raw.y_train.tolist()))
    [0, 1]

    The top-left pixel is background in every digit, so it is 1 exactly in the inverted images:

    >>> bool((raw.X_train[:, 0] == raw.inverted_train).all())
    True
    """
    invert_prob = check_real(invert_prob, "invert_prob", min_value=0.0, max_value=1.0)
    test_size = check_real(test_size, "test_size")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must lie in the open interval (0, 1), got {test_size!r}")
    if random_state is not None:
        random_state = check_int(random_state, "random_state", min_value=0, max_value=_MAX_SEED)
    n_classes = check_int(n_classes, "n_classes", min_value=2, max_value=10)
    return_split = check_bool(return_split, "return_split")

    from sklearn.datasets import load_digits
    from sklearn.utils import Bunch

    digits = load_digits()
    X = np.asarray(digits.data, dtype=np.float64) / 16.0
    y = np.asarray(digits.target, dtype=np.int64)
    rng = np.random.default_rng(random_state)
    inverted = invert_rows(X, rng, invert_prob)

    index = np.flatnonzero(y < n_classes)
    X, y, inverted = X[index], y[index], inverted[index]
    common = {
        "feature_names": list(digits.feature_names),
        "target_names": np.arange(n_classes),
        "DESCR": INVERTED_DIGITS_DESCR,
    }
    if not return_split:
        return Bunch(data=X, target=y, inverted=inverted, index=index, **common)

    n_samples = y.shape[0]
    n_test = math.ceil(test_size * n_samples)
    n_train = n_samples - n_test
    if min(n_test, n_train) < n_classes:
        raise ValueError(
            f"test_size={test_size!r} gives {n_train} training and {n_test} test samples; a "
            f"stratified split of {n_classes} classes needs at least {n_classes} in each."
        )

    from sklearn.model_selection import train_test_split

    X_tr, X_te, y_tr, y_te, inv_tr, inv_te, idx_tr, idx_te = train_test_split(
        X, y, inverted, index, test_size=test_size, stratify=y, random_state=random_state
    )
    return Bunch(
        X_train=X_tr,
        X_test=X_te,
        y_train=y_tr,
        y_test=y_te,
        inverted_train=inv_tr,
        inverted_test=inv_te,
        index_train=idx_tr,
        index_test=idx_te,
        **common,
    )
