#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv:
#   - python3 -m venv .venv           (only if absent or broken)
#   - pip install -r requirements.txt (book, tests, lint)
#   - pip install -e .                (moe_lib, editable)
# Idempotent: when requirements.txt, pyproject.toml and the interpreter are unchanged since the
# last successful run (hash kept in .venv/.setup-stamp) and moe_lib is importable, pip is not
# called at all. Needs no standard input. Override the interpreter with PYTHON=/path/to/python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
STAMP="$VENV/.setup-stamp"
LOG="$VENV/.setup-pip.log"

export PIP_NO_INPUT=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

# pip's output goes to a log and is shown without the lines some machines print for local
# package indexes that lack a package ("Location ... is ignored"), which say nothing wrong.
pip_install() {
    local rc=0
    "$VENV/bin/python" -m pip install --quiet "$@" >"$LOG" 2>&1 || rc=$?
    grep -v -e "is ignored: it is neither a file nor a directory" "$LOG" || true
    if [[ $rc -ne 0 ]]; then
        echo "setup-env: 'pip install $*' failed (exit $rc)" >&2
    fi
    return $rc
}

# True when `import moe_lib` from any folder (a notebook's, say) loads $ROOT/moe_lib/__init__.py.
# An editable install made before moe_lib/__init__.py existed maps moe_lib to a namespace
# package instead; it must be redone.
moe_lib_installed() {
    [[ -f "$ROOT/moe_lib/__init__.py" ]] || return 1
    (cd / && "$VENV/bin/python" - "$ROOT/moe_lib/__init__.py" <<'PY'
import importlib.util
import os
import sys

spec = importlib.util.find_spec("moe_lib")
ok = spec is not None and spec.origin is not None and os.path.samefile(spec.origin, sys.argv[1])
sys.exit(0 if ok else 1)
PY
    ) >/dev/null 2>&1
}

if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    echo "setup-env: creating $VENV with $("$PYTHON" --version 2>&1)"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
fi

# The stamp covers the two files that decide what is installed, and the interpreter.
want="$(cat requirements.txt pyproject.toml <("$VENV/bin/python" -VV) | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"

if [[ "$want" == "$have" ]]; then
    if moe_lib_installed; then
        echo "setup-env: .venv is up to date"
        exit 0
    fi
    echo "setup-env: re-installing moe_lib (editable)"
    pip_install -e .
else
    echo "setup-env: installing requirements into .venv (takes a few minutes the first time)"
    rm -f "$STAMP"
    pip_install --upgrade pip
    pip_install -r requirements.txt
    pip_install -e .
    echo "$want" >"$STAMP"
fi

if ! moe_lib_installed; then
    echo "setup-env: note: moe_lib/__init__.py is missing or not importable from outside $ROOT" >&2
fi
echo "setup-env: done"
