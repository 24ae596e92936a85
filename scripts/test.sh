#!/usr/bin/env bash
# Set up and run every check: lint, types, the test suite (bit-exact models, plans, allocator, C).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
python3 -m ruff check src tests benchmarks
python3 -m ruff format --check src tests benchmarks
python3 -m mypy
python3 -m pytest -q -n 2 "$@"
