#!/usr/bin/env bash
# Quick start, part two: install what is needed, build everything, run every test (unit, plugin, integration).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DRELAIS_BUILD_TESTS=ON -DRELAIS_BUILD_BENCH=ON
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
