#!/usr/bin/env bash
# The one-line test command from README: installs packages, builds, runs the whole suite.
#   tools/test.sh            release build in build/, all tests
#   SURGE_BUILD_DIR=... tools/test.sh   use another build directory
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tools/setup.sh
build="${SURGE_BUILD_DIR:-build}"
jobs="$(nproc)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSURGE_WERROR=ON
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs"
