#!/usr/bin/env bash
# Quick start, part one: install what is needed, build, and run relais on the embedded default configuration.
# Runs in the foreground; Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh -DRELAIS_BUILD_TESTS=OFF -DRELAIS_BUILD_BENCH=OFF
exec build/bin/relais run "$@"
