"""Sphinx extension of the book (loaded through ``sphinx.local_extensions`` in ``_config.yml``).

It makes an HTML build fail early, with the command that fixes it, when the vendored MathJax
(``mathjax_path``, served from the built site instead of a CDN) is missing from
``html_static_path``. Without this check a plain ``jupyter-book build .`` run before
``scripts/vendor-js.sh`` would succeed and write pages whose mathematics never typesets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ConfigError


def check_vendored_mathjax(app: Sphinx) -> None:
    """Raise ``ConfigError`` if ``mathjax_path`` is a site-relative path to a missing file.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The application; only HTML builders are checked.

    Raises
    ------
    sphinx.errors.ConfigError
        If ``mathjax_path`` names no file in any of the ``html_static_path`` folders.
    """
    if app.builder.format != "html":
        return
    mathjax_path = app.config.mathjax_path
    if "://" in mathjax_path or mathjax_path.startswith("/"):
        raise ConfigError(
            f"mathjax_path={mathjax_path!r} loads MathJax from outside the site; the book serves "
            "its own copy (set mathjax_path to a path inside html_static_path)"
        )
    folders = [Path(app.confdir, p) for p in app.config.html_static_path]
    if not any((folder / mathjax_path).is_file() for folder in folders):
        raise ConfigError(
            f"MathJax is not vendored: {mathjax_path!r} is in none of "
            f"{[str(f) for f in folders]}. Run `bash scripts/vendor-js.sh` "
            "(scripts/build-book.sh runs it before building)."
        )


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the check with Sphinx.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The application.

    Returns
    -------
    dict
        Extension metadata (safe for parallel reading and writing).
    """
    app.connect("builder-inited", check_vendored_mathjax)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
