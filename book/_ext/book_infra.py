"""Sphinx extension of the book (``sphinx.local_extensions`` in ``_config.yml``).

- It makes an HTML build fail early, with the command that fixes it, when the vendored
  MathJax (``mathjax_path``, served from the built site instead of a CDN) is missing
  from ``html_static_path``. Without this check a plain ``jupyter-book build .`` run
  before ``scripts/vendor-js.sh`` would succeed and write pages whose mathematics never
  typesets.
- It lets the single-page HTML builder (``scripts/build-pdf.sh``) write the nodes that
  extensions register for ``html`` only. Sphinx looks up a builder's node handlers by
  builder name and falls back to the format (``html``) only when no extension
  registered any handler under the name ``singlehtml``; some do, so sphinx-proof's
  theorem nodes had no handler there and the build stopped ("unknown node type:
  theorem_node").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ConfigError


def check_vendored_mathjax(app: Sphinx) -> None:
    """Raise ``ConfigError`` if ``mathjax_path`` is off-site or names a missing file.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The application; only HTML builders are checked.

    Raises
    ------
    sphinx.errors.ConfigError
        If ``mathjax_path`` is a URL or an absolute path, or names no file in any of the
        ``html_static_path`` folders.
    """
    if app.builder.format != "html":
        return
    mathjax_path = app.config.mathjax_path
    if "://" in mathjax_path or mathjax_path.startswith("/"):
        raise ConfigError(
            f"mathjax_path={mathjax_path!r} loads MathJax from outside the site; the "
            "book serves its own copy (set mathjax_path to a path inside "
            "html_static_path)"
        )
    folders = [Path(app.confdir, p) for p in app.config.html_static_path]
    if not any((folder / mathjax_path).is_file() for folder in folders):
        raise ConfigError(
            f"MathJax is not vendored: {mathjax_path!r} is in none of "
            f"{[str(f) for f in folders]}. Run `bash scripts/vendor-js.sh` "
            "(scripts/build-book.sh runs it before building)."
        )


def share_html_handlers(app: Sphinx) -> None:
    """Give the ``singlehtml`` builder the ``html`` node handlers it lacks.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The application (after every extension is set up).
    """
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for node, visitors in handlers.get("html", {}).items():
        single.setdefault(node, visitors)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the two handlers with Sphinx.

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
    app.connect("builder-inited", share_html_handlers)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
