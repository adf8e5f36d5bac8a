#!/usr/bin/env bash
# Proves the runtime install: what the Docker image and a Kubernetes pod get from
# `pip install .` (no extras) is enough to start the services, and carries none of the tooling.
# Installs a copy of the sources the image copies (events/, services/, rtinfer/) into a new
# virtualenv under a temp folder, then
#   - `python -m services.scoring --help` (and the other three services) must exit 0,
#   - `pip show locust pytest testcontainers matplotlib` must find none of them.
# The pip cache (PIP_CACHE_DIR) makes a second run quick. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
FORBIDDEN=(locust pytest testcontainers matplotlib)

work=$(mktemp -d "${TMPDIR:-/tmp}/rtinfer-runtime.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
cp -R pyproject.toml README.md events services rtinfer "$work/src/"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check -c constraints.txt "$work/src" </dev/null

# From the temp folder, so the installed package is imported, not this checkout.
cd "$work"
unset PYTHONPATH
for service in scoring features model monitor; do
  if ! out=$("$work/venv/bin/python" -m "services.$service" --help 2>&1); then
    echo "error: python -m services.$service --help failed on the runtime install:" >&2
    echo "$out" | tail -20 >&2
    exit 1
  fi
done
shown=$("$work/venv/bin/python" -m pip show "${FORBIDDEN[@]}" 2>/dev/null || true)
if [[ -n $(echo "$shown" | sed -n 's/^Name: //p') ]]; then
  echo "error: the runtime install pulls in tooling (name, and what requires it):" >&2
  echo "$shown" | grep -E '^(Name|Required-by):' >&2
  exit 1
fi
echo "runtime install: the four services start (--help), none of ${FORBIDDEN[*]} installed"
