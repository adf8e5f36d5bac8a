#!/usr/bin/env bash
# `make load`: a bounded locust run against the native stack. Brings the stack up, builds the
# reference data once (var/load), starts the model server and the scoring service on
# loopback, runs locust headless for LOAD_TIME at LOAD_RATE payments/s, prints p50/p99
# event->prediction latency, and stops the two services it started.
set -euo pipefail
BIN="${VENV:-.venv}/bin"
export PATH="$PWD/$BIN:$PATH"
WORK="${RTINFER_LOAD_WORK:-var/load}"
RATE="${LOAD_RATE:-200}"
RUN_TIME="${LOAD_TIME:-60s}"
MODEL_HTTP=${RTINFER_LOAD_MODEL_PORT:-8085}
SCORING_HTTP=${RTINFER_LOAD_SCORING_PORT:-8090}
RUN_ID="load-$(date +%s)"

rtinfer stack up
eval "$(rtinfer stack env)"
mkdir -p "$WORK/logs"
RTINFER_HOME="$WORK" RTINFER_BOOTSTRAP_MODEL_DIR="$WORK/model" RTINFER_VECTORS_BACKEND=weaviate \
  RTINFER_VECTORS_COLLECTION=LoadCases sh scripts/bootstrap-reference.sh

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

python -m services.model --model-dir "$WORK/model" --http-port "$MODEL_HTTP" \
  --grpc-port $((MODEL_HTTP + 1)) > "$WORK/logs/model.log" 2>&1 &
pids+=($!)
export RTINFER_SCORING_MODEL_DIR="$WORK/model"
export RTINFER_SCORING_MODEL__TARGET="http://127.0.0.1:$MODEL_HTTP"
export RTINFER_SCORING_FEAST__ONLINE_STORE=redis
export RTINFER_SCORING_FEAST__REDIS_URL="$RTINFER_REDIS_URL"
export RTINFER_SCORING_FEAST__REPO_DIR="$WORK/feast"
export RTINFER_SCORING_FEAST__DATA_DIR="$WORK/features"
export RTINFER_SCORING_VECTORS__BACKEND=weaviate
export RTINFER_SCORING_VECTORS__COLLECTION=LoadCases
export RTINFER_SCORING_TOPICS__PAYMENTS="$RUN_ID-payments"
export RTINFER_SCORING_TOPICS__PREDICTIONS="$RUN_ID-predictions"
export RTINFER_SCORING_TOPICS__EXPLANATIONS="$RUN_ID-explanations"
export RTINFER_SCORING_TOPICS__DLQ="$RUN_ID-dlq"
export RTINFER_SCORING_GROUP_ID="$RUN_ID-scoring"
export RTINFER_SCORING_HTTP_PORT="$SCORING_HTTP"
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$MODEL_HTTP/v2/health/ready" >/dev/null && break
  sleep 0.5
done
python -m services.scoring --ingress both --log-level WARNING > "$WORK/logs/scoring.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$SCORING_HTTP/readyz" >/dev/null && break
  sleep 0.5
done
curl -sf "http://127.0.0.1:$SCORING_HTTP/readyz" >/dev/null || {
  echo "scoring service not ready; last log lines:" >&2; tail -20 "$WORK/logs/scoring.log" >&2; exit 1; }

python -m loadtest.run --rate "$RATE" --run-time "$RUN_TIME" \
  --payments-topic "$RUN_ID-payments" --predictions-topic "$RUN_ID-predictions" \
  --host "http://127.0.0.1:$SCORING_HTTP" --payments-file "$WORK/data/payments.parquet" ${LOAD_ARGS:-}
