"""Fashion-MNIST read from IDX files the user has downloaded (never downloaded by ``moe_lib``).

With ``invert_prob`` it gives the "Random Invert FMNIST" set-up of Fruytier, Mokhtari & Sanghavi
(ICML 2025), which book chapter 7 runs when the files are present.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from moe_lib._validation import check_choice, check_int, check_real
from moe_lib.datasets._inversion import invert_rows
from moe_lib.datasets.idx import _read_idx_magic

if TYPE_CHECKING:
    from sklearn.utils import Bunch

FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

_FASHION_URL = "https://github.com/zalandoresearch/fashion-mnist"

_FASHION_HELP = f"""\
Fashion-MNIST is not shipped with moe_lib and is never downloaded automatically. Get the four
files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
t10k-labels-idx1-ubyte.gz from the Zalando Research repository {_FASHION_URL}
(folder data/fashion), for example with
    git clone --depth 1 {_FASHION_URL}.git
and pass path='fashion-mnist/data/fashion', or download just the four .gz files into a folder
(e.g. 'curl -LO <raw file URL>' for each) and pass that folder. On Binder, either upload the four
files with the file browser or download them in a terminal (File > New > Terminal) into a folder,
then pass that folder as `path`."""

_CLASS_LIST = ", ".join(f"{i} {c}" for i, c in enumerate(FASHION_MNIST_CLASSES))

FASHION_MNIST_DESCR = f"""\
Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017)
============================================

70,000 greyscale 28x28 images of Zalando articles in 10 classes (60,000 train, 10,000 test),
read from the IDX files of {_FASHION_URL}. Pixels are scaled from 0..255 to [0, 1] and flattened
row by row to 784 features. Classes: {_CLASS_LIST}.

With ``invert_prob`` each image is independently colour-inverted (x -> 1 - x), which gives the
"Random Invert FMNIST" set-up of Fruytier, Mokhtari & Sanghavi, "Learning Mixtures of Experts with
EM: A Mirror Descent Perspective", ICML 2025 (PMLR 267).
"""

#: File-name prefix of each accepted ``kind``.
_PREFIXES = {"train": "train", "test": "t10k", "t10k": "t10k"}


def _fashion_file(directory: Path, prefix: str, stem: str) -> Path | None:
    """Locate ``<prefix>-<stem>.gz`` (preferred) or the decompressed ``<prefix>-<stem>``."""
    for candidate in (directory / f"{prefix}-{stem}.gz", directory / f"{prefix}-{stem}"):
        if candidate.is_file():
            return candidate
    return None


def load_fashion_mnist(
    path: str | os.PathLike[str],
    *,
    kind: str = "train",
    invert_prob: float | None = None,
    random_state: int | np.random.Generator | None = None,
    max_samples: int | None = None,
) -> Bunch:
    """Load Fashion-MNIST from the standard IDX gzip files in a local directory.

    Nothing is downloaded: the files must already be in ``path`` (see Raises for where to get
    them). Expected file names are ``train-images-idx3-ubyte.gz`` and
    ``train-labels-idx1-ubyte.gz`` for ``kind="train"``, ``t10k-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte.gz`` for ``kind="test"``; decompressed copies without the ``.gz``
    suffix are used if the ``.gz`` files are absent.

    Parameters
    ----------
    path : str or os.PathLike
        Directory holding the IDX files.
    kind : {"train", "test"}, default="train"
        Which split to read (``"t10k"`` is accepted as a synonym of ``"test"``).
    invert_prob : float or None, default=None
        If given, each image is independently inverted (``x -> 1 - x``) with this probability
        in [0, 1].
    random_state : int, numpy.random.Generator or None, default=None
        Seed (>= 0) or generator for the inversions (passed to ``np.random.default_rng``; one
        uniform draw per returned image, in order). Ignored when ``invert_prob`` is None.
    max_samples : int or None, default=None
        If given (>= 1), keep only the first ``max_samples`` images (all of them if there are
        fewer). Useful to save memory: the full training set takes 376 MB as float64.

    Returns
    -------
    data : sklearn.utils.Bunch
        With fields

        - ``data`` : ndarray of shape (n, 784), float64 in [0, 1], images flattened row-wise;
        - ``target`` : ndarray of shape (n,), int64, class labels 0..9;
        - ``inverted`` : bool ndarray of shape (n,), or None if ``invert_prob`` is None;
        - ``target_names`` : list of the 10 class names;
        - ``feature_names`` : list of 784 str (``"pixel_<row>_<col>"``);
        - ``DESCR`` : str.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a directory or an expected file is missing; the message lists the
        expected files and explains how to obtain them.
    TypeError
        If an argument has the wrong type.
    ValueError
        If an argument is out of range, a file is not a valid IDX file of the expected kind
        (images: magic 0x00000803, uint8, shape (n, 28, 28); labels: magic 0x00000801, uint8,
        values 0..9), or the numbers of images and labels differ.

    Examples
    --------
    Two blank test images with labels 3 and 7, written in the IDX format (magic number, then
    the sizes as big-endian uint32, then the bytes) and read back, inverted:

    >>> import gzip, tempfile
    >>> from pathlib import Path
    >>> def size(n):
    ...     return n.to_bytes(4, "big")
    >>> images = bytes([0, 0, 0x08, 3]) + size(2) + size(28) + size(28) + bytes(2 * 28 * 28)
    >>> labels = bytes([0, 0, 0x08, 1]) + size(2) + bytes([3, 7])
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = Path(folder, "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(images))
    ...     _ = Path(folder, "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels))
    ...     test = load_fashion_mnist(folder, kind="test", invert_prob=1.0)
    >>> test.data.shape, test.target.tolist(), test.inverted.tolist(), float(test.data.min())
    ((2, 784), [3, 7], [True, True], 1.0)

    A folder without the files gives a message that says where to get them:

    >>> with tempfile.TemporaryDirectory() as folder:
    ...     load_fashion_mnist(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: Fashion-MNIST file(s) train-images-idx3-ubyte.gz, ...
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}.")
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, got {type(kind).__name__}.")
    prefix = _PREFIXES[check_choice(kind, "kind", tuple(_PREFIXES))]
    if invert_prob is not None:
        invert_prob = check_real(invert_prob, "invert_prob", min_value=0.0, max_value=1.0)
    if random_state is not None and not isinstance(random_state, np.random.Generator):
        random_state = check_int(random_state, "random_state", min_value=0)
    if max_samples is not None:
        max_samples = check_int(max_samples, "max_samples", min_value=1)

    directory = Path(path)
    image_name = f"{prefix}-images-idx3-ubyte.gz"
    label_name = f"{prefix}-labels-idx1-ubyte.gz"
    if not directory.is_dir():
        raise FileNotFoundError(
            f"Fashion-MNIST directory {os.fspath(path)!r} does not exist or is not a directory; "
            f"it should contain {image_name} and {label_name}.\n{_FASHION_HELP}"
        )
    image_file = _fashion_file(directory, prefix, "images-idx3-ubyte")
    label_file = _fashion_file(directory, prefix, "labels-idx1-ubyte")
    if image_file is None or label_file is None:
        missing = [n for n, f in ((image_name, image_file), (label_name, label_file)) if f is None]
        raise FileNotFoundError(
            f"Fashion-MNIST file(s) {', '.join(missing)} not found in {os.fspath(directory)!r} "
            f"(kind={kind!r}).\n{_FASHION_HELP}"
        )

    images, magic, name = _read_idx_magic(image_file)
    if magic != 0x00000803 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{name}: expected Fashion-MNIST images (IDX magic 0x00000803: uint8, 3 dimensions, "
            f"shape (n, 28, 28)); got magic 0x{magic:08X} with shape {images.shape}."
        )
    labels, magic, name = _read_idx_magic(label_file)
    if magic != 0x00000801:
        raise ValueError(
            f"{name}: expected Fashion-MNIST labels (IDX magic 0x00000801: uint8, 1 dimension); "
            f"got magic 0x{magic:08X} with shape {labels.shape}."
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{name}: labels must lie in 0..9, found {int(labels.max())}.")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{image_file.name} holds {images.shape[0]} images but {label_file.name} holds "
            f"{labels.shape[0]} labels."
        )

    if max_samples is not None:
        images, labels = images[:max_samples], labels[:max_samples]
    n = images.shape[0]
    X = images.reshape(n, 28 * 28).astype(np.float64)
    X /= 255.0
    y = labels.astype(np.int64)
    inverted = None
    if invert_prob is not None:
        inverted = invert_rows(X, np.random.default_rng(random_state), invert_prob)

    from sklearn.utils import Bunch

    return Bunch(
        data=X,
        target=y,
        inverted=inverted,
        target_names=list(FASHION_MNIST_CLASSES),
        feature_names=[f"pixel_{r}_{c}" for r in range(28) for c in range(28)],
        DESCR=FASHION_MNIST_DESCR,
    )
