#!/usr/bin/env bash
# Set up and run the main job on the bundled default model and spec: inspect it, then plan it.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e .
tile-report inspect --hw siracusa
tile-report plan --hw siracusa "$@"
