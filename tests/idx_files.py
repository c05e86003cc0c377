"""Writers of IDX files for the tests of moe_lib.datasets (independent of the reader under test).

The IDX format: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
dimension, then the data, big-endian, in C order.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

IDX_CODES = {
    np.dtype(np.uint8): 0x08,
    np.dtype(np.int8): 0x09,
    np.dtype(np.int16): 0x0B,
    np.dtype(np.int32): 0x0C,
    np.dtype(np.float32): 0x0D,
    np.dtype(np.float64): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialise ``array`` in the IDX format."""
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
