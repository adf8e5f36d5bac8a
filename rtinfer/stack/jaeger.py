"""Jaeger v2, the stack's optional traces backend: its config file and how its binary is built.

Jaeger v2 is an OpenTelemetry Collector distribution: one binary, configured by one YAML file
of receivers, a pipeline and extensions. The stack's configuration receives OTLP (gRPC and
HTTP) and keeps traces in memory (gone on restart); the jaeger_query extension serves the UI
and the query APIs (/api/traces/{id}, /api/v3/traces/{id}); healthcheckv2 answers /status.
Every listener binds the stack's host (127.0.0.1) on a port from StackSettings.
"""

from __future__ import annotations

from pathlib import Path

from rtinfer.stack.settings import StackSettings

JAEGER_MODULE = "github.com/jaegertracing/jaeger"
JAEGER_COMMAND = f"{JAEGER_MODULE}/cmd/jaeger"

# A collector config. Its own metrics (port 8888 by default) are off, and so is the query
# service's self-tracing (it would export to the default OTLP endpoint, maybe someone else's).
_CONFIG = """\
# Written by `rtinfer stack up` on each start; edits are overwritten (change StackSettings).
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info

extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: {max_traces}
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: "{host}:{query_port}"
    grpc:
      endpoint: "{host}:{query_grpc_port}"
  healthcheckv2:
    use_v2: true
    http:
      endpoint: "{host}:{health_port}"

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: "{host}:{otlp_grpc_port}"
      http:
        endpoint: "{host}:{otlp_http_port}"

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"""


def jaeger_config(settings: StackSettings) -> str:
    """The collector config for these settings (YAML)."""
    return _CONFIG.format(
        host=settings.host,
        max_traces=settings.jaeger_max_traces,
        query_port=settings.jaeger_port,
        query_grpc_port=settings.jaeger_query_grpc_port,
        health_port=settings.jaeger_health_port,
        otlp_grpc_port=settings.jaeger_otlp_grpc_port,
        otlp_http_port=settings.jaeger_otlp_http_port,
    )


def jaeger_binary(settings: StackSettings) -> Path:
    return settings.cache_dir / "jaeger" / settings.jaeger_version / "jaeger"


def jaeger_build_dir(settings: StackSettings) -> Path:
    """The scratch Go module the binary is built in (kept: a rebuild reuses its go.sum)."""
    return jaeger_binary(settings).parent / "build"


def jaeger_build_steps(go: str, version: str, output: Path) -> list[list[str]]:
    """The commands, run in the scratch module, that build `output`.

    The jaeger command is a tool of a throwaway module rather than a `go install` target:
    `go install pkg@version` refuses modules whose go.mod has replace directives.
    """
    return [
        [go, "get", "-tool", f"{JAEGER_COMMAND}@{version}"],
        [go, "build", "-o", str(output), JAEGER_COMMAND],
    ]
