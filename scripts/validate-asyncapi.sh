#!/usr/bin/env bash
# Validates AsyncAPI documents with the official parser (@asyncapi/parser, pinned in
# tools/asyncapi/package-lock.json). With no argument it checks docs/asyncapi.json.
#
#   scripts/validate-asyncapi.sh [--strict] [FILE...]
#
# Installs the pinned packages with `npm ci` (downloads cached under ~/.cache/rtinfer/npm, or
# npm_config_cache when set; skipped while node_modules matches the lock file), then prints one
# line per diagnostic and a summary line per file. Exits 1 when a document has an error (with
# --strict also on a warning), 2 on a usage error, 3 when node or npm is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tool="$root/tools/asyncapi"

for command in node npm; do
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "validate-asyncapi: $command not found (install Node.js 18+ with npm)" >&2
    exit 3
  fi
done

args=()
files=0
for arg in "$@"; do
  case "$arg" in
    -*) args+=("$arg") ;;
    # Relative to where the script was called from; the validator runs in the tool folder.
    *) args+=("$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")"); files=$((files + 1)) ;;
  esac
done
if [[ $files -eq 0 ]]; then
  args+=("$root/docs/asyncapi.json")
fi

export npm_config_cache="${npm_config_cache:-${HOME:?}/.cache/rtinfer/npm}"
export npm_config_update_notifier=false
stamp="$tool/node_modules/.rtinfer-lock"
lock=$(cksum <"$tool/package-lock.json")
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock" ]]; then
  (cd "$tool" && npm ci --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  echo "$lock" >"$stamp"
fi

cd "$tool"
exec node validate.mjs "${args[@]}"
