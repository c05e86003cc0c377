#!/usr/bin/env bash
# Build the book's HTML into _build/html (open _build/html/index.html).
# Sets up .venv first (scripts/setup-env.sh) and vendors MathJax (scripts/vendor-js.sh: npm, from
# package-lock.json), so that every page serves all its scripts and fonts itself.
#
# The notebooks are NOT executed here (`execute_notebooks: "off"` in _config.yml): the book
# renders the outputs stored in each .ipynb, and scripts/test.sh re-executes every notebook
# with nbval and checks that those stored outputs are still what the code produces.
#
# -W turns every Sphinx warning into an error, -n reports every unresolved reference, and
# --keep-going collects all of them before failing. Extra arguments go to `jupyter-book build`
# (e.g. `bash scripts/build-book.sh --all` for a clean rebuild).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup-env.sh
bash scripts/vendor-js.sh

export MPLBACKEND=Agg
export JUPYTER_PLATFORM_DIRS=1

"$ROOT/.venv/bin/jupyter-book" build . -W -n --keep-going "$@"

echo "build-book: HTML in $ROOT/_build/html/index.html"
