"""The standard gRPC health check (grpc.health.v1), for adapters that probe a server at start."""

from __future__ import annotations

import grpc
from grpc import aio
from grpc_health.v1.health_pb2 import HealthCheckRequest, HealthCheckResponse
from grpc_health.v1.health_pb2_grpc import HealthStub


async def grpc_serving(target: str, *, secure: bool, timeout_s: float) -> bool:
    """Whether the server at `target` (host:port) reports SERVING.

    Raises:
        grpc.RpcError: the server could not be reached in time or does not speak gRPC.
    """
    channel = (
        aio.secure_channel(target, grpc.ssl_channel_credentials()) if secure else aio.insecure_channel(target)
    )
    async with channel:
        answer = await HealthStub(channel).Check(HealthCheckRequest(), timeout=timeout_s)
    return bool(answer.status == HealthCheckResponse.SERVING)
