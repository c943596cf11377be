#!/usr/bin/env bash
# Install the project and everything its tests use into the current Python.
# Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# torch first, pinned to the CPU build that lies on this machine's disk (a bare
# "torch" would pull the multi-GB CUDA build from the index).
"$PY" -m pip install -q --disable-pip-version-check "torch==2.13.0"
"$PY" -m pip install -q --disable-pip-version-check -e ".[server,ml,dev]"
