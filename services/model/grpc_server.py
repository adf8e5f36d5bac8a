"""KServe's V2 gRPC service, completed: RepositoryIndex answers, ModelMetadata carries versions.

KServe's GRPCServer registers a fixed servicer; this server registers the same servicer (same
interceptors, so the same error mapping and per-request log line) plus the RepositoryIndex
method the advertised repository extension requires, and fills ModelMetadata's `versions`,
which KServe's servicer drops.
"""

from __future__ import annotations

from concurrent import futures
from typing import Any

from grpc import aio

from services.adapters.kserve.sdk import ModelRepositoryExtension
from services.adapters.kserve.sdk import grpc_predict_v2_pb2 as pb
from services.adapters.kserve.sdk import grpc_predict_v2_pb2_grpc as pb_grpc
from services.model.repository import grpc_index_handler
from services.model.server import ArtifactDataPlane


class _MetadataWithVersions:
    """KServe's servicer with ModelMetadata answering the data plane's `versions` too."""

    def __init__(self, servicer: Any, data_plane: ArtifactDataPlane) -> None:
        self._servicer = servicer
        self._data_plane = data_plane

    def __getattr__(self, name: str) -> Any:
        return getattr(self._servicer, name)

    async def ModelMetadata(self, request: Any, context: Any) -> Any:  # noqa: N802 - the RPC's name
        metadata = await self._data_plane.model_metadata(model_name=request.name)
        return pb.ModelMetadataResponse(
            name=metadata["name"],
            versions=metadata.get("versions") or [],
            platform=metadata["platform"],
            inputs=metadata["inputs"],
            outputs=metadata["outputs"],
        )


class IndexedGRPCServer:
    """Drop-in for kserve's GRPCServer (start(max_workers), stop(sig)) serving the full service.

    Args:
        data_plane: answers every RPC, RepositoryIndex included.
        repository: KServe's repository extension (load and unload).
        max_message_length: gRPC send and receive limit in bytes.
    """

    def __init__(
        self,
        port: int,
        data_plane: ArtifactDataPlane,
        repository: ModelRepositoryExtension,
        *,
        max_message_length: int,
        grace_period: float = 30,
    ) -> None:
        self._port = port
        self._data_plane = data_plane
        self._repository = repository
        self._max_message_length = max_message_length
        self._grace_period = grace_period
        self._server: aio.Server | None = None

    async def start(self, max_workers: int) -> None:
        """Serve on all interfaces until stopped, as KServe's gRPC server does."""
        # KServe is imported (argv hidden) by services.adapters.kserve.sdk above.
        from kserve.protocol.grpc.interceptors import ExceptionToStatusInterceptor, LoggingInterceptor
        from kserve.protocol.grpc.servicer import InferenceServicer

        server = aio.server(
            futures.ThreadPoolExecutor(max_workers=max_workers),
            interceptors=(LoggingInterceptor(), ExceptionToStatusInterceptor()),
            options=[
                ("grpc.max_send_message_length", self._max_message_length),
                ("grpc.max_receive_message_length", self._max_message_length),
            ],
        )
        servicer = InferenceServicer(self._data_plane, self._repository)
        pb_grpc.add_GRPCInferenceServiceServicer_to_server(
            _MetadataWithVersions(servicer, self._data_plane), server
        )
        server.add_generic_rpc_handlers((grpc_index_handler(self._data_plane),))
        server.add_insecure_port(f"[::]:{self._port}")
        self._server = server
        await server.start()
        await server.wait_for_termination()

    async def stop(self, sig: int | None = None) -> None:
        if self._server is not None:
            await self._server.stop(grace=self._grace_period)
