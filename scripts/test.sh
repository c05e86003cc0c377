#!/usr/bin/env bash
# Run every test: lint (ruff), a warning-free build of the book (scripts/build-book.sh), the
# library's tests (tests/), the built book in headless Chromium (tests/test_browser.py) and every
# notebook under book/ through nbval (each notebook is re-executed and its fresh outputs compared
# with the stored ones). Sets up .venv first (scripts/setup-env.sh). Extra arguments are passed
# to pytest, e.g. `bash scripts/test.sh -x -k gating` or `bash scripts/test.sh -m browser`.
# Exit status: non-zero if ruff, the book build or pytest failed; a pytest run that collected no
# test is a failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup-env.sh

PY="$ROOT/.venv/bin/python"

# Reproducible numbers: one BLAS thread, a fixed hash seed, NumPy's and OpenBLAS's code paths
# pinned across CPUs; MPLBACKEND unset (figures in the notebooks' outputs). Why: in the script.
source scripts/reproducible-env.sh

status=0

echo "== ruff check ."
if ! "$PY" -m ruff check .; then
    echo "test.sh: ruff found problems" >&2
    status=1
fi

# The browser tests open the built site: build it first (incremental after the first build).
echo "== book build (scripts/build-book.sh)"
if ! bash scripts/build-book.sh; then
    echo "test.sh: the book build failed (or warned)" >&2
    status=1
fi

echo "== pytest (tests/ and the notebooks in book/ via nbval)"
pytest_rc=0
# Two workers, one per core of the machines the project runs on (MOE_TEST_WORKERS overrides;
# 0 runs everything in this process). --dist loadfile keeps each file on one worker: a notebook's
# cells must run in order in one kernel, and the browser tests share one server and browser.
"$PY" -m pytest tests book \
    -n "${MOE_TEST_WORKERS:-2}" --dist loadfile \
    --nbval --nbval-current-env \
    --nbval-sanitize-with book/nbval_sanitize.cfg \
    -p no:cacheprovider --durations=15 \
    -q "$@" || pytest_rc=$?

if [[ $pytest_rc -eq 5 ]]; then
    echo "test.sh: pytest collected no tests; that counts as a failure" >&2
    pytest_rc=1
fi
if [[ $pytest_rc -ne 0 ]]; then
    status=$pytest_rc
fi

exit "$status"
