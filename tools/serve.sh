#!/usr/bin/env bash
# The README's second quick-start command: installs packages, builds surged (optimized) and starts
# it on the embedded default (gRPC on 127.0.0.1:21212, one partition per hardware thread); also
# builds the shell, build/src/shell/surgesql.
# Extra arguments go to surged (tools/serve.sh --partitions 4 --schema app.sql).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
tools/setup.sh >/dev/null
build="${SURGE_BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target surged surgesql surge_proto -j "$(nproc)"
exec "$build/src/server/surged" "$@"
