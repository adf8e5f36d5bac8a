"""Wire-level health probes: each asks the server a real question, not just a port."""

from __future__ import annotations

import socket
import struct
import urllib.error
import urllib.request


def kafka_healthy(host: str, port: int, timeout_s: float = 2.0) -> bool:
    """Send a Kafka ApiVersions (v0) request and expect error code 0 back."""
    client_id = b"rtinfer-stack"
    correlation_id = 7
    body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            conn.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exact(conn, 4 + 4 + 2)
    except OSError:
        return False
    if header is None:
        return False
    _size, got_correlation, error_code = struct.unpack(">iih", header)
    return got_correlation == correlation_id and error_code == 0


def redis_healthy(host: str, port: int, timeout_s: float = 2.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as conn:
            conn.sendall(b"PING\r\n")
            reply = conn.recv(64)
    except OSError:
        return False
    return reply.startswith(b"+PONG")


def weaviate_healthy(host: str, port: int, timeout_s: float = 2.0) -> bool:
    url = f"http://{host}:{port}/v1/.well-known/ready"
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def jaeger_healthy(host: str, health_port: int, query_port: int, timeout_s: float = 2.0) -> bool:
    """The collector reports every component up (healthcheckv2 /status), and the query
    service answers a real query (the services with traces)."""
    return _http_ok(f"http://{host}:{health_port}/status", timeout_s) and _http_ok(
        f"http://{host}:{query_port}/api/services", timeout_s
    )


def _http_ok(url: str, timeout_s: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as reply:  # noqa: S310 - our http URL
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _recv_exact(conn: socket.socket, size: int) -> bytes | None:
    chunks = b""
    while len(chunks) < size:
        chunk = conn.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return chunks
