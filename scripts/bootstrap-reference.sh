#!/bin/sh
# Reference data for the fraud use case, once: synthetic payments, Feast batch sources,
# registry and online store (Redis), a trained model artifact and labelled cases in the
# vector store. Used by docker-compose's `trainer` service and the Kubernetes
# `rtinfer-reference-data` Job. Does nothing when the artifact exists (RTINFER_BOOTSTRAP_FORCE=1
# redoes it).
#
# Env: RTINFER_HOME (default /var/lib/rtinfer), RTINFER_REDIS_URL (required),
#      RTINFER_BOOTSTRAP_MODEL_DIR (default $RTINFER_HOME/models/fraud/v1),
#      RTINFER_BOOTSTRAP_CARDS / _MERCHANTS / _DAYS / _SEED (size of the synthetic history),
#      RTINFER_VECTORS_BACKEND + RTINFER_WEAVIATE_URL / _GRPC_PORT / _API_KEY (vector store;
#      RTINFER_BOOTSTRAP_VECTORS=0 skips it).
set -eu

home=${RTINFER_HOME:-/var/lib/rtinfer}
redis_url=${RTINFER_REDIS_URL:?RTINFER_REDIS_URL must name the Feast online store}
model_dir=${RTINFER_BOOTSTRAP_MODEL_DIR:-$home/models/fraud/v1}
days=${RTINFER_BOOTSTRAP_DAYS:-30}
payments=$home/data/payments.parquet

if [ -f "$model_dir/metadata.json" ] && [ "${RTINFER_BOOTSTRAP_FORCE:-0}" != "1" ]; then
  echo "bootstrap: $model_dir/metadata.json exists; nothing to do"
  exit 0
fi

# A history that ends today, so the online features are fresh when the stream starts.
start=$(date -u -d "-${days} days" +%Y-%m-%d)
rtinfer data generate --out "$home/data" --start "$start" --days "$days" --quiet \
  --seed "${RTINFER_BOOTSTRAP_SEED:-42}" \
  --cards "${RTINFER_BOOTSTRAP_CARDS:-2000}" --merchants "${RTINFER_BOOTSTRAP_MERCHANTS:-300}"

set -- --online-store redis --redis-url "$redis_url" \
  --repo-dir "$home/feast" --data-dir "$home/features"
rtinfer features apply "$@" --payments "$payments"
rtinfer features materialize "$@"
rtinfer model train "$@" --payments "$payments" --out "$model_dir"

cases=$home/data/cases.parquet
if [ "${RTINFER_BOOTSTRAP_VECTORS:-1}" = "0" ]; then
  echo "bootstrap: vector store skipped (RTINFER_BOOTSTRAP_VECTORS=0)"
elif [ ! -f "$cases" ]; then
  echo "bootstrap: no $cases from training; the vector store stays empty" >&2
else
  rtinfer vectors index --cases "$cases" --model-dir "$model_dir" --no-progress
fi
echo "bootstrap: artifact in $model_dir"
