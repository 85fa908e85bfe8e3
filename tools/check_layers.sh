#!/usr/bin/env bash
# Checks the module layering of src/README.md: a module includes only itself and the modules it
# may depend on. Prints every violation with file and line; exits non-zero if any.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
declare -A allowed=(
  [common]=""
  [types]="common"
  [catalog]="types common"
  [sql]="catalog types common"
  [storage]="catalog types common"
  [exec]="sql storage catalog types common"
  [proc]="exec sql storage catalog types common"
  [txn]="proc exec sql storage catalog types common"
  [durability]="txn storage catalog types common"
  [export]="exec storage catalog types common"
  [server]="txn proc exec sql storage catalog types common durability export"
  [client]=""
  [shell]=""
)
modules="common types catalog sql storage exec proc txn durability export server client shell"
bad=0
for mod in "${!allowed[@]}"; do
  dir="$root/src/$mod"
  [ -d "$dir" ] || continue
  ok=" $mod ${allowed[$mod]} "
  while IFS=: read -r file line inc; do
    dep="${inc%%/*}"
    case " $modules " in *" $dep "*) ;; *) continue ;; esac
    case "$ok" in *" $dep "*) ;; *) echo "layering: $file:$line: $mod may not include $inc"; bad=1 ;; esac
  done < <(grep -rnoE '#include "[a-z_]+/[^"]+"' "$dir" | sed -E 's/#include "([^"]+)"/\1/')
done
if [ "$bad" -eq 0 ]; then echo "layering: ok"; fi
exit "$bad"
