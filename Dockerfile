# One image for every rtinfer service: scoring, feature writer, model server, monitor, and the
# `rtinfer` CLI (producer, trainer). It holds the runtime dependencies plus the `tools` extra;
# the load test, benchmarks and tests are not in it.
#
#   docker build -t rtinfer:0.1.0 .
#   docker run --rm rtinfer:0.1.0                      # rtinfer --help
#   docker run --rm rtinfer:0.1.0 python -m services.scoring --ingress http
#
# tini is PID 1 so SIGTERM reaches the service (graceful drain) and zombies are reaped;
# Kubernetes manifests therefore set `args`, never `command`, to keep it.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first (pinned by constraints.txt), so a source change reuses this layer: the
# runtime's and the `tools` extra's, read from pyproject.toml.
COPY pyproject.toml constraints.txt README.md ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['tools']))" > /tmp/requirements.txt \
    && pip install -c constraints.txt -r /tmp/requirements.txt
COPY events events
COPY services services
COPY rtinfer rtinfer
RUN pip install --no-deps .

FROM python:3.11-slim
# libgomp1: LightGBM's OpenMP runtime; tini: signal forwarding as PID 1.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --user-group --create-home --home-dir /home/rtinfer rtinfer \
    && mkdir -p /var/lib/rtinfer \
    && chown rtinfer:rtinfer /var/lib/rtinfer
COPY --from=build /opt/venv /opt/venv
# The Feast repo (for `feast` CLI runs) and the reference-data bootstrap.
COPY services/fraud/repo /opt/rtinfer/feature-repo
COPY scripts/bootstrap-reference.sh /opt/rtinfer/bin/bootstrap-reference
ENV PATH=/opt/venv/bin:/opt/rtinfer/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/home/rtinfer
WORKDIR /var/lib/rtinfer
USER 10001:10001
ENTRYPOINT ["tini", "--"]
CMD ["rtinfer", "--help"]
