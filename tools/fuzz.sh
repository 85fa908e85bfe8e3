#!/usr/bin/env bash
# Builds the libFuzzer target (clang, ASan+UBSan) in build-fuzz/ and runs it for a while.
#   tools/fuzz.sh            30 seconds (what CI runs)
#   tools/fuzz.sh 3600       a soak run of an hour
# The seed corpus is every statement of tests/sql (one file each); inputs the fuzzer finds that
# add coverage accumulate in build-fuzz/corpus. A crash leaves crash-<hash> in build-fuzz/ and
# fails the script.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-30}"
build="${SURGE_FUZZ_BUILD_DIR:-$root/build-fuzz}"

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSURGE_FUZZ=ON -DSURGE_TESTS=OFF -DSURGE_BENCH=OFF -DSURGE_WERROR=ON >/dev/null
cmake --build "$build" --target sql_fuzz -j "$(nproc)"

# Seed corpus: the SQL of each sqllogictest record in tests/sql.
seeds="$build/seeds"
rm -rf "$seeds"
mkdir -p "$seeds" "$build/corpus"
find "$root/tests/sql" -name '*.test' -print0 | sort -z | xargs -0 awk -v dir="$seeds" '
    function flush() { if (sql != "") { n++; f = dir "/seed-" n ".sql"; printf "%s", sql > f; close(f) } sql = ""; in_sql = 0 }
    /^(statement|query)/ { flush(); in_sql = 1; next }
    /^----/ || /^$/ { flush(); next }
    in_sql { sql = sql $0 "\n" }
    END { flush() }'
echo "fuzz: $(ls "$seeds" | wc -l) seeds from tests/sql, running ${seconds}s"

cd "$build"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ./tests/fuzz/sql_fuzz corpus "$seeds" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=4096 -print_final_stats=1 2>&1 | tail -25
