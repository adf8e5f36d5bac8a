"""OpenTelemetry metrics set-up: a Prometheus endpoint, and OTLP when configured."""

from __future__ import annotations

from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.resources import Resource

_started_ports: set[int] = set()


def setup_metrics(
    service_name: str, prometheus_port: int | None, *, prometheus: bool = False
) -> metrics.Meter:
    """A meter for the service; exposes /metrics on the port when one is given.

    Args:
        prometheus: register with the default Prometheus registry even without a port
            (the service serves /metrics itself).
    """
    readers = []
    if prometheus and prometheus_port is None:
        readers.append(PrometheusMetricReader())
    if prometheus_port is not None:
        from prometheus_client import start_http_server

        readers.append(PrometheusMetricReader())
        if prometheus_port not in _started_ports:
            start_http_server(prometheus_port, addr="0.0.0.0")  # noqa: S104 - scraped in-cluster
            _started_ports.add(prometheus_port)
    provider = MeterProvider(resource=Resource.create({"service.name": service_name}), metric_readers=readers)
    return provider.get_meter(service_name)
