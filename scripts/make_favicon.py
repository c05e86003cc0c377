"""Draw the book's favicon: book/_extra/favicon.ico (16, 32 and 48 pixel images).

The icon is a dark blue rounded square with two crossing lines, an orange and a light blue one:
two experts, each a regression line, as in the book's first figure. It is drawn here pixel by
pixel (4 x 4 samples per pixel for smooth edges) and written as an ICO file holding one PNG
image per size, with the standard library only, so the file is the same on every machine.
Run ``python scripts/make_favicon.py`` after changing the drawing; ``tests/test_favicon.py``
checks that the committed file is what this script writes.
"""

from __future__ import annotations

import struct
import sys
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "book" / "_extra" / "favicon.ico"
SIZES = (16, 32, 48)
SUPERSAMPLE = 4

BACKGROUND = (31, 59, 115)  # dark blue
EXPERT_A = (242, 142, 43)  # orange
EXPERT_B = (118, 183, 230)  # light blue
# Each expert line in the unit square (y grows downwards), and its half-width.
LINES = (
    (EXPERT_A, (0.16, 0.78), (0.84, 0.26)),
    (EXPERT_B, (0.16, 0.30), (0.84, 0.74)),
)
HALF_WIDTH = 0.075
CORNER = 0.22  # radius of the rounded corners, as a fraction of the side


def _inside_rounded_square(x: float, y: float) -> bool:
    """Whether the point (x, y) of the unit square lies inside the rounded square."""
    cx = min(max(x, CORNER), 1 - CORNER)
    cy = min(max(y, CORNER), 1 - CORNER)
    return (x - cx) ** 2 + (y - cy) ** 2 <= CORNER**2


def _distance_to_segment(x: float, y: float, a: tuple, b: tuple) -> float:
    """Euclidean distance from (x, y) to the segment from a to b."""
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)
    t = min(max(t, 0.0), 1.0)
    return ((x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2) ** 0.5


def _sample(x: float, y: float) -> tuple[int, int, int, int]:
    """RGBA colour of the drawing at the point (x, y) of the unit square."""
    if not _inside_rounded_square(x, y):
        return (0, 0, 0, 0)
    colour = BACKGROUND
    for line_colour, a, b in LINES:  # the later line is drawn on top
        if _distance_to_segment(x, y, a, b) <= HALF_WIDTH:
            colour = line_colour
    return (*colour, 255)


def render(size: int) -> bytes:
    """Raw RGBA rows of the icon at ``size`` x ``size`` pixels, each row led by a 0 filter byte.

    Parameters
    ----------
    size : int
        Side of the image in pixels.

    Returns
    -------
    bytes
        ``size`` rows of ``1 + 4 * size`` bytes, ready for PNG compression.
    """
    n = SUPERSAMPLE
    rows = bytearray()
    for py in range(size):
        rows.append(0)
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(n):
                for sx in range(n):
                    r, g, b, a = _sample((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            alpha = acc[3]
            if alpha == 0:
                rows.extend((0, 0, 0, 0))
            else:  # colour averaged with alpha weights, alpha averaged plainly
                rows.extend((round(acc[0] / alpha), round(acc[1] / alpha), round(acc[2] / alpha)))
                rows.append(round(alpha / (n * n)))
    return bytes(rows)


def png(size: int) -> bytes:
    """The icon at ``size`` pixels as a PNG file (8-bit RGBA, no ancillary chunks).

    Parameters
    ----------
    size : int
        Side of the image in pixels.

    Returns
    -------
    bytes
        The PNG file.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(render(size), 9))
        + chunk(b"IEND", b"")
    )


def ico(sizes: tuple[int, ...] = SIZES) -> bytes:
    """An ICO file holding the icon at each of ``sizes`` as a PNG image.

    Parameters
    ----------
    sizes : tuple of int
        Sides of the images, in pixels (at most 256 each).

    Returns
    -------
    bytes
        The ICO file: header, one directory entry per image, then the PNG images.
    """
    images = [png(s) for s in sizes]
    out = struct.pack("<HHH", 0, 1, len(images))
    offset = 6 + 16 * len(images)
    for s, data in zip(sizes, images, strict=True):
        out += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    return out + b"".join(images)


def main() -> int:
    """Write the favicon to book/_extra/favicon.ico.

    Returns
    -------
    int
        Exit status (0).
    """
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(ico())
    print(f"make_favicon: wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
