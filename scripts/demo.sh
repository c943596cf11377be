#!/usr/bin/env bash
# Set everything up, start a hub with its embedded defaults, publish the manual's
# example servables, run them, and print where the catalog is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
exec "${PYTHON:-python3}" scripts/demo.py "$@"
