"""The book's Sphinx extension (book/_ext/book_infra.py), on stand-ins for Sphinx's app."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("book_infra", ROOT / "book/_ext/book_infra.py")
book_infra = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(book_infra)


def fake_app(confdir, mathjax_path, static=("book/_static", "_build/vendor"), fmt="html"):
    return SimpleNamespace(
        confdir=str(confdir),
        builder=SimpleNamespace(format=fmt, name=fmt),
        config=SimpleNamespace(mathjax_path=mathjax_path, html_static_path=list(static)),
    )


def test_missing_vendored_mathjax_stops_the_build_with_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"not vendored.*scripts/vendor-js\.sh"):
        book_infra.check_vendored_mathjax(fake_app(tmp_path, "mathjax/tex-mml-chtml.js"))


def test_vendored_mathjax_in_a_static_folder_passes(tmp_path):
    target = tmp_path / "_build/vendor/mathjax/tex-mml-chtml.js"
    target.parent.mkdir(parents=True)
    target.write_text("// MathJax")
    book_infra.check_vendored_mathjax(fake_app(tmp_path, "mathjax/tex-mml-chtml.js"))


@pytest.mark.parametrize(
    "path", ["https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js", "/abs/mathjax.js"]
)
def test_mathjax_from_outside_the_site_is_refused(tmp_path, path):
    with pytest.raises(ConfigError, match="outside the site"):
        book_infra.check_vendored_mathjax(fake_app(tmp_path, path))


def test_non_html_builders_are_not_checked(tmp_path):
    book_infra.check_vendored_mathjax(fake_app(tmp_path, "missing.js", fmt="latex"))


def test_singlehtml_gets_the_html_handlers_it_lacks():
    def visit(self, node):
        pass

    own = (visit, None)
    handlers = {"html": {"theorem_node": (visit, visit), "toggle": (visit, visit)},
                "singlehtml": {"toggle": own}}
    app = SimpleNamespace(builder=SimpleNamespace(name="singlehtml"),
                          registry=SimpleNamespace(translation_handlers=handlers))
    book_infra.share_html_handlers(app)
    assert handlers["singlehtml"] == {"toggle": own, "theorem_node": (visit, visit)}
    app.builder.name = "html"
    handlers["html"]["new_node"] = (visit, visit)
    book_infra.share_html_handlers(app)  # other builders: nothing copied
    assert "new_node" not in handlers["singlehtml"]
