#!/usr/bin/env bash
# Installs everything deeploy_tiler's tests need on a fresh Debian machine: the package with its dev
# extras, and (as root) the RV32 cross toolchain and QEMU used by the C-emitter tests, and Chromium for
# the HTML report test.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e ".[dev,ray]"
if ! command -v riscv64-unknown-elf-gcc >/dev/null || ! command -v qemu-system-riscv32 >/dev/null \
        || ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            gcc-riscv64-unknown-elf binutils-riscv64-unknown-elf picolibc-riscv64-unknown-elf \
            qemu-system-misc >/dev/null
        # headless Chromium renders the HTML report in the tests
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "warning: not root; install gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc chromium yourself" >&2
    fi
fi
