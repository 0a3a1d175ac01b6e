# Sourced by ./verify and ./run-tests: a project-local virtual environment with the CPU torch pin, installed once
# and re-installed only when pyproject.toml or constraints.txt change (hash stamp), so both commands are idempotent
# and fast when already set up.  Override the interpreter with PYTHON=..., the folder with ICL_VENV=...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ICL_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    echo "icl-verify needs Python >= 3.10 (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PY" -m venv "$VENV"
fi
STAMP="$VENV/.icl-verify-install"
WANT="$(cat "$ROOT/pyproject.toml" "$ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "installing icl-verify and its test tools into $VENV (CPU torch, constraints.txt)" >&2
    # constraints.txt pins the CPU build of torch: a bare `torch` would pull a multi-GB CUDA build.
    "$VENV/bin/python" -m pip install --quiet -c "$ROOT/constraints.txt" -e "$ROOT[test]"
    echo "$WANT" > "$STAMP"
fi
