#!/usr/bin/env bash
# Runs surge-slt over ../shared/sqllogictest against the checked-in baseline of per-file pass
# counts (tests/sqllogictest-baseline.txt). Prints a note and succeeds if ../shared is absent.
set -euo pipefail
slt="$1"
root="$2"
corpus="$root/../shared/sqllogictest"
if [ ! -d "$corpus" ]; then
  echo "sqllogictest corpus not found at $corpus: skipped"
  exit 0
fi
exec "$slt" --baseline "$root/tests/sqllogictest-baseline.txt" "$corpus"
