"""Real data sets used in the book.

Three loaders, none of which touches the network:

* :func:`load_tonedata` -- the tone-perception data of Cohen (1980), shipped with ``moe_lib``;
  a classic two-regime example for mixtures of linear regressions / experts.
* :func:`load_inverted_digits` -- scikit-learn's bundled 8x8 digits with a random half of the
  images colour-inverted, an offline stand-in for the "Random Invert FMNIST" experiment of
  Fruytier, Mokhtari & Sanghavi (ICML 2025).
* :func:`load_fashion_mnist` -- Fashion-MNIST read from IDX files the user has downloaded, with
  optional random inversion (the set-up of the paper itself).

:func:`read_idx` is the small, strict reader of the IDX format used by the last loader.

scikit-learn is imported inside the functions that need it, so importing this module is cheap.
"""

from __future__ import annotations

import gzip
import io
import math
import numbers
import os
import zlib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np

if TYPE_CHECKING:
    from sklearn.utils import Bunch

__all__ = [
    "load_fashion_mnist",
    "load_inverted_digits",
    "load_tonedata",
    "read_idx",
]

# --------------------------------------------------------------------------------------------
# Argument checking helpers
# --------------------------------------------------------------------------------------------


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}.")
    return bool(value)


def _check_real(value: object, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    return out


def _check_prob(value: object, name: str) -> float:
    p = _check_real(value, name)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}.")
    return p


def _check_int(value: object, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    return int(value)


def _check_seed(value: object, name: str = "random_state") -> int | None:
    """Validate a seed that is passed both to ``default_rng`` and to scikit-learn."""
    if value is None:
        return None
    seed = _check_int(value, name)
    if not 0 <= seed < 2**32:
        raise ValueError(f"{name} must be None or an int in [0, 2**32 - 1], got {seed}.")
    return seed


def _check_rng_seed(value: object, name: str = "random_state") -> int | np.random.Generator | None:
    """Validate a seed that is only passed to ``np.random.default_rng``."""
    if value is None or isinstance(value, np.random.Generator):
        return value
    seed = _check_int(value, name)
    if seed < 0:
        raise ValueError(f"{name} must be None, a non-negative int or a Generator, got {seed}.")
    return seed


def _invert_rows(X: np.ndarray, rng: np.random.Generator, prob: float) -> np.ndarray:
    """Invert (``x -> 1 - x``) each row of ``X`` in place with probability ``prob``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Float array with values in [0, 1]; modified in place.
    rng : numpy.random.Generator
        Source of the ``n_samples`` uniform draws (one per row, in row order).
    prob : float
        Inversion probability in [0, 1].

    Returns
    -------
    inverted : ndarray of shape (n_samples,), dtype bool
        Which rows were inverted.
    """
    inverted = rng.random(X.shape[0]) < prob
    np.subtract(1.0, X, out=X, where=inverted[:, None])
    return inverted


# --------------------------------------------------------------------------------------------
# Tone perception data
# --------------------------------------------------------------------------------------------

TONEDATA_DESCR = """\
Tone perception data (Cohen, 1980)
==================================

150 trials of a music-perception experiment with a single trained musician. A pure fundamental
tone was played together with electronically generated overtones whose spacing was stretched by
the factor ``stretchratio`` (2.0 is the ordinary harmonic pattern of pitched instruments). The
musician tuned an adjustable tone to the octave above the fundamental; ``tuned`` is the ratio of
that tone to the fundamental (2.0 is the correct octave whatever the stretch).

The responses follow two regimes -- tuning by the fundamental (``tuned`` close to 2) or by the
stretched overtones (``tuned`` following ``stretchratio``) -- which makes the data a classic
example for mixtures of linear regressions and mixtures of experts.

:Number of instances: 150
:Number of attributes: 1 input (``stretchratio``), 1 response (``tuned``)
:Missing values: none

Source: Cohen, E. A. (1980), "The influence of nonharmonic partials on tone perception", Ph.D.
thesis, Stanford University (cited in the R packages fpc and mixtools as "Inharmonic tone
perception"). Distributed with the R package mixtools as ``tonedata`` (copied there from the R
package fpc by C. Hennig).

References: de Veaux, R. D. (1989), Mixtures of linear regressions, Computational Statistics &
Data Analysis 8, 227-245. Viele, K. and Tong, B. (2002), Modeling with mixtures of linear
regressions, Statistics and Computing 12, 315-330.
"""


def _read_packaged_text(name: str) -> str:
    """Read ``moe_lib/data/<name>`` through :mod:`importlib.resources`.

    Falls back to the directory of this module only when Python 3.10/3.11's resource reader
    fails on a namespace-package path entry that is not a directory (as left by an editable
    install made before ``moe_lib/__init__.py`` existed); never relative to the working directory.
    """
    try:
        resource = resources.files("moe_lib") / "data" / name
    except NotADirectoryError:  # pragma: no cover - depends on how moe_lib was installed
        return (Path(__file__).resolve().parent / "data" / name).read_text(encoding="utf-8")
    return resource.read_text(encoding="utf-8")


def load_tonedata(return_X_y: bool = False) -> Bunch | tuple[np.ndarray, np.ndarray]:
    """Load the tone perception data (Cohen, 1980) shipped with ``moe_lib``.

    The CSV file is read through :mod:`importlib.resources`, so this works from any working
    directory and from an installed package.

    Parameters
    ----------
    return_X_y : bool, default=False
        If True, return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        With fields

        - ``data`` : ndarray of shape (150, 1), float64 -- ``stretchratio``;
        - ``target`` : ndarray of shape (150,), float64 -- ``tuned``;
        - ``feature_names`` : ``["stretchratio"]``;
        - ``target_name`` : ``"tuned"``;
        - ``DESCR`` : str, description and provenance;
        - ``frame`` : None.
    (X, y) : tuple of ndarray of shapes (150, 1) and (150,)
        Returned instead when ``return_X_y`` is True.

    Raises
    ------
    TypeError
        If ``return_X_y`` is not a bool.
    """
    return_X_y = _check_bool(return_X_y, "return_X_y")
    text = _read_packaged_text("tonedata.csv")
    header, _, body = text.partition("\n")
    columns = [c.strip().strip('"') for c in header.split(",")]
    if columns != ["stretchratio", "tuned"]:  # pragma: no cover - guards the packaged file
        raise ValueError(f"Packaged tonedata.csv has unexpected header {header!r}.")
    table = np.loadtxt(io.StringIO(body), delimiter=",", dtype=np.float64, ndmin=2)
    X = np.ascontiguousarray(table[:, :1])
    y = np.ascontiguousarray(table[:, 1])
    if return_X_y:
        return X, y

    from sklearn.utils import Bunch

    return Bunch(
        data=X,
        target=y,
        feature_names=["stretchratio"],
        target_name="tuned",
        DESCR=TONEDATA_DESCR,
        frame=None,
    )


# --------------------------------------------------------------------------------------------
# Randomly inverted digits
# --------------------------------------------------------------------------------------------

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
    """
    invert_prob = _check_prob(invert_prob, "invert_prob")
    test_size = _check_real(test_size, "test_size")
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must lie in the open interval (0, 1), got {test_size!r}.")
    random_state = _check_seed(random_state)
    n_classes = _check_int(n_classes, "n_classes")
    if not 2 <= n_classes <= 10:
        raise ValueError(f"n_classes must be an int between 2 and 10, got {n_classes}.")
    return_split = _check_bool(return_split, "return_split")

    from sklearn.datasets import load_digits
    from sklearn.utils import Bunch

    digits = load_digits()
    X = np.asarray(digits.data, dtype=np.float64) / 16.0
    y = np.asarray(digits.target, dtype=np.int64)
    rng = np.random.default_rng(random_state)
    inverted = _invert_rows(X, rng, invert_prob)

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


# --------------------------------------------------------------------------------------------
# IDX files and Fashion-MNIST
# --------------------------------------------------------------------------------------------

#: IDX type code -> big-endian numpy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(file: str | os.PathLike[str] | BinaryIO) -> tuple[bytes, str]:
    """Return the (decompressed) content of ``file`` and a name for error messages."""
    if isinstance(file, (str, os.PathLike)):
        name = os.fspath(file)
        with open(file, "rb") as fh:
            raw = fh.read()
    elif hasattr(file, "read"):
        name = str(getattr(file, "name", "<file object>"))
        raw = file.read()
        if not isinstance(raw, (bytes, bytearray, memoryview)):
            raise TypeError(f"file {name!r} must be opened in binary mode ('rb').")
        raw = bytes(raw)
    else:
        raise TypeError(
            f"file must be a path (str or os.PathLike) or a binary file object, got "
            f"{type(file).__name__}."
        )
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{name}: corrupt or truncated gzip data ({exc}).") from exc
    return raw, name


def _parse_idx(raw: bytes, name: str) -> tuple[np.ndarray, int]:
    """Parse IDX bytes; return the array (native byte order) and the 32-bit magic number."""
    if len(raw) < 4:
        raise ValueError(f"{name}: {len(raw)} bytes is too short for an IDX header (4 bytes).")
    if raw[0] != 0 or raw[1] != 0:
        raise ValueError(
            f"{name}: not an IDX file (magic number 0x{raw[:4].hex()} does not start with two "
            "zero bytes)."
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{name}: unknown IDX data type code 0x{code:02X} (known: {known}).")
    if ndim == 0:
        raise ValueError(f"{name}: IDX header declares 0 dimensions.")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(
            f"{name}: truncated IDX header ({len(raw)} bytes, {header_len} needed for {ndim} "
            "dimensions)."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    actual = len(raw) - header_len
    if actual != expected:
        raise ValueError(
            f"{name}: IDX header declares shape {shape} of {dtype.name} ({expected} data bytes) "
            f"but the file holds {actual} data bytes."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    magic = int.from_bytes(raw[:4], "big")
    return data.astype(dtype.newbyteorder("="), copy=True), magic


def read_idx(file: str | os.PathLike[str] | BinaryIO) -> np.ndarray:
    """Read an array from an IDX file (the format of MNIST and Fashion-MNIST).

    The file starts with a 4-byte magic number: two zero bytes, a type code (0x08 uint8,
    0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64) and the number of
    dimensions ``ndim``; then ``ndim`` big-endian uint32 sizes; then the data, big-endian, in C
    order. The reader is strict: the number of data bytes must match the sizes exactly. Gzip
    compressed files are recognised by their content (not their name) and decompressed.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        The IDX file, plain or gzip-compressed.

    Returns
    -------
    array : ndarray of shape (d_1, ..., d_ndim)
        The data in native byte order, with the dtype given by the type code.

    Raises
    ------
    TypeError
        If ``file`` is neither a path nor a binary file object.
    FileNotFoundError
        If the path does not exist.
    ValueError
        If the content is not a valid IDX file: bad magic number, unknown type code, zero
        dimensions, truncated header, data size that does not match the header, or corrupt gzip
        data. The message names the file.
    """
    raw, name = _read_bytes(file)
    data, _ = _parse_idx(raw, name)
    return data


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
        Seed or generator for the inversions (passed to ``np.random.default_rng``; one uniform
        draw per returned image, in order). Ignored when ``invert_prob`` is None.
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
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}.")
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a str, got {type(kind).__name__}.")
    prefixes = {"train": "train", "test": "t10k", "t10k": "t10k"}
    if kind not in prefixes:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}.")
    prefix = prefixes[kind]
    if invert_prob is not None:
        invert_prob = _check_prob(invert_prob, "invert_prob")
    random_state = _check_rng_seed(random_state)
    if max_samples is not None:
        max_samples = _check_int(max_samples, "max_samples")
        if max_samples < 1:
            raise ValueError(f"max_samples must be None or a positive int, got {max_samples}.")

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
    missing = [n for n, f in ((image_name, image_file), (label_name, label_file)) if f is None]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST file(s) {', '.join(missing)} not found in {os.fspath(directory)!r} "
            f"(kind={kind!r}).\n{_FASHION_HELP}"
        )
    assert image_file is not None and label_file is not None  # for type checkers

    raw, name = _read_bytes(image_file)
    images, magic = _parse_idx(raw, name)
    if magic != 0x00000803 or images.shape[1:] != (28, 28):
        raise ValueError(
            f"{name}: expected Fashion-MNIST images (IDX magic 0x00000803: uint8, 3 dimensions, "
            f"shape (n, 28, 28)); got magic 0x{magic:08X} with shape {images.shape}."
        )
    raw, name = _read_bytes(label_file)
    labels, magic = _parse_idx(raw, name)
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
        inverted = _invert_rows(X, np.random.default_rng(random_state), invert_prob)

    from sklearn.utils import Bunch

    return Bunch(
        data=X,
        target=y,
        inverted=inverted,
        target_names=list(FASHION_MNIST_CLASSES),
        feature_names=[f"pixel_{r}_{c}" for r in range(28) for c in range(28)],
        DESCR=FASHION_MNIST_DESCR,
    )
