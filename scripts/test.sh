#!/usr/bin/env bash
# Set everything up and run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PY=${PYTHON:-python3}
"$PY" -m ruff check src tests bench
"$PY" -m mypy
# Each test has its own time limit (pyproject.toml); this one bounds the whole run,
# teardown and interpreter exit included, well inside CI's 90 minutes.
timeout --kill-after=60 2700 "$PY" -m pytest -n 2 -q -p no:cacheprovider "$@"
