"""A strict reader of the IDX format (the file format of MNIST and Fashion-MNIST)."""

from __future__ import annotations

import gzip
import math
import os
import zlib
from typing import BinaryIO

import numpy as np

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
    if isinstance(file, str | os.PathLike):
        name = os.fspath(file)
        with open(file, "rb") as fh:
            raw = fh.read()
    elif hasattr(file, "read"):
        name = str(getattr(file, "name", "<file object>"))
        raw = file.read()
        if not isinstance(raw, bytes | bytearray | memoryview):
            raise TypeError(f"file {name!r} must be opened in binary mode ('rb').")
        raw = bytes(raw)
    else:
        raise TypeError(
            f"file must be a path (str or os.PathLike) or a binary file object, got "
            f"{type(file).__name__}."
        )
    # Recognised by content, not by name: a decompressed copy may keep its ".gz" suffix.
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
    # A copy: frombuffer arrays are read-only and big-endian.
    return data.astype(dtype.newbyteorder("="), copy=True), magic


def _read_idx_magic(file: str | os.PathLike[str] | BinaryIO) -> tuple[np.ndarray, int, str]:
    """:func:`read_idx`, plus the file's magic number and its name for error messages."""
    raw, name = _read_bytes(file)
    data, magic = _parse_idx(raw, name)
    return data, magic, name


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

    Examples
    --------
    A 2 x 3 array of uint8 (type code 0x08, two dimensions):

    >>> import gzip, io
    >>> raw = bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
    >>> read_idx(io.BytesIO(raw))
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    >>> read_idx(io.BytesIO(gzip.compress(raw))).shape
    (2, 3)
    >>> read_idx(io.BytesIO(raw[:-1]))
    Traceback (most recent call last):
    ...
    ValueError: <file object>: IDX header declares shape (2, 3) of uint8 (6 data bytes) but the file holds 5 data bytes.
    """  # noqa: E501 - a doctest's expected output is one line
    data, _, _ = _read_idx_magic(file)
    return data
