#!/usr/bin/env bash
# Runs the whole suite with RTINFER_REQUIRE_SERVICES=1. Servers come from env vars when
# set, else testcontainers when a Docker daemon answers, else the native stack, which this
# script brings up (idempotent; missing Debian packages installed first) and whose env settings
# it exports. RTINFER_STACK_* (e.g. RTINFER_STACK_STATE_DIR) choose which stack.
set -euo pipefail
VENV=${VENV:-.venv}
BIN="$VENV/bin"
if [[ -z "${RTINFER_KAFKA_BOOTSTRAP:-}${RTINFER_REDIS_URL:-}${RTINFER_WEAVIATE_URL:-}" ]] \
    && ! docker info >/dev/null 2>&1; then
  bash "$(dirname "$0")/ensure-system-packages.sh"
  "$BIN/rtinfer" stack up
  eval "$("$BIN/rtinfer" stack env)"
fi
export RTINFER_REQUIRE_SERVICES=1
exec "$BIN/pytest" "$@"
