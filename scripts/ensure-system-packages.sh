#!/usr/bin/env bash
# The Debian packages the native stack needs, installed when missing: redis-server always, a
# kcat (the interop and unreadable-record tests produce with librdkafka), Node.js and npm (the
# official AsyncAPI parser validates docs/asyncapi.json), a Java runtime and Maven only when `java` / `mvn` are not on PATH (any JDK 17+ and Maven will
# do). As root it runs apt-get, without prompts and without reading stdin; otherwise it prints
# the exact command to run and exits 1. Go (for the Weaviate build) is not a Debian package
# here: Debian's is older than the 1.24 Weaviate needs, so the stack reports it when missing.
#
# Used by `make test` (native stack only), `make stack-up`, `make load` and .ci/run.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "error: the native stack needs ${missing[*]}; install with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: the native stack needs ${missing[*]} and there is no apt-get here;" \
    "install them with this system's package manager" >&2
  exit 1
fi

echo "installing ${missing[*]} (apt-get) ..."
export DEBIAN_FRONTEND=noninteractive
# The package would start its own redis-server on the stack's port 6379; a policy-rc.d that
# says "no" (as in container images) keeps the maintainer scripts from starting services.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef \
  -o Dpkg::Options::=--force-confold "${missing[@]}" </dev/null >/dev/null

for tool in redis-server java mvn kcat node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: '$tool' is still not on PATH after apt-get install ${missing[*]}" >&2
    exit 1
  fi
done
echo "installed ${missing[*]}"
