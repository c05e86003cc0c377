#!/usr/bin/env bash
# Build a PDF of the whole book: _build/pdf/book.pdf.
#
# 1. Sets up .venv (scripts/setup-env.sh) and vendors MathJax (scripts/vendor-js.sh).
# 2. Builds the book as ONE HTML page (jupyter-book's singlehtml builder, into _build/singlehtml),
#    warning-free as the HTML build (-W -n --keep-going).
# 3. Prints that page with headless Chromium (scripts/print_pdf.py, through Playwright, offline),
#    after MathJax has typeset every formula and every collapsed block is opened.
#
# Needs Debian's Chromium (apt-get install chromium; or set MOE_CHROMIUM to another Chromium).
# No LaTeX is involved. Extra arguments go to `jupyter-book build`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup-env.sh
bash scripts/vendor-js.sh

export MPLBACKEND=Agg
export JUPYTER_PLATFORM_DIRS=1

"$ROOT/.venv/bin/jupyter-book" build . --builder singlehtml -W -n --keep-going "$@"
"$ROOT/.venv/bin/python" scripts/print_pdf.py
