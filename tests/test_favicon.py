"""The favicon (book/_extra/favicon.ico) is what scripts/make_favicon.py draws, and a valid ICO."""

import importlib.util
import struct
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    path = ROOT / "scripts" / "make_favicon.py"
    spec = importlib.util.spec_from_file_location("make_favicon", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_favicon_is_what_the_script_draws():
    script = load_script()
    assert script.OUT == ROOT / "book" / "_extra" / "favicon.ico"
    assert script.OUT.read_bytes() == script.ico(), "run: python scripts/make_favicon.py"


def test_favicon_is_an_ico_of_png_images_with_a_transparent_corner():
    data = (ROOT / "book" / "_extra" / "favicon.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, 3)
    sizes = []
    for i in range(count):
        w, h, _, _, planes, bpp, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        png = data[offset : offset + length]
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and png.endswith(b"IEND\xaeB`\x82")
        assert struct.unpack(">II", png[16:24]) == (w, h) and (planes, bpp) == (1, 32)
        sizes.append(w)
        if w == 32:
            idat_len = struct.unpack(">I", png[33:37])[0]
            assert png[37:41] == b"IDAT"
            rows = zlib.decompress(png[41 : 41 + idat_len])
            row = 1 + 4 * w

            def pixel(x, y, rows=rows, row=row):
                return tuple(rows[y * row + 1 + 4 * x : y * row + 5 + 4 * x])

            assert pixel(0, 0)[3] == 0  # rounded corner: transparent
            assert pixel(16, 2) == (31, 59, 115, 255)  # background: opaque dark blue
            assert pixel(16, 16)[3] == 255 and pixel(16, 16)[:3] != (31, 59, 115)  # a line
    assert sizes == [16, 32, 48]
