"""The load test only ever targets this machine: every address must be a loopback one."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOCAL_NAMES = {"localhost": "127.0.0.1", "ip6-localhost": "::1"}


class NotLoopbackError(ValueError):
    """An address that is not on this machine's loopback interface."""


def loopback_ip(host: str) -> str:
    """The IP literal of a loopback `host` (a name in LOCAL_NAMES or an IP); raises NotLoopbackError."""
    literal = LOCAL_NAMES.get(host.lower(), host).strip("[]")
    try:
        address = ipaddress.ip_address(literal)
    except ValueError:
        raise NotLoopbackError(f"{host!r} is not a loopback address (use 127.0.0.1 or localhost)") from None
    if not address.is_loopback:
        raise NotLoopbackError(f"{host} is not a loopback address; the load test only targets this machine")
    return str(address)


def loopback_bootstrap(bootstrap: str) -> str:
    """`bootstrap` with every host checked and written as an IP literal (no DNS in the Kafka thread)."""
    servers = []
    for server in bootstrap.split(","):
        host, separator, port = server.strip().rpartition(":")
        if not separator or not port.isdigit():
            raise NotLoopbackError(f"bootstrap server {server!r} is not host:port")
        ip = loopback_ip(host)
        servers.append(f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}")
    return ",".join(servers)


def loopback_url(url: str) -> str:
    """`url` if its host is a loopback address; raises NotLoopbackError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotLoopbackError(f"{url!r} is not an http(s) URL")
    loopback_ip(parts.hostname)
    return url
