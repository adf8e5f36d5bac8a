"""The model repository extension of the V2 protocol, as this server implements it.

Server metadata advertises "model_repository_extension" (KServe's name for it), so each part
answers:

- index: `POST /v2/repository/index` (REST) and `RepositoryIndex` (gRPC), read-only, always on.
  KServe serves neither, so they are added here. The gRPC messages are wire-compatible with
  Triton's `inference.RepositoryIndexRequest`/`RepositoryIndexResponse` (tritonclient's
  get_model_repository_index), built in a private descriptor pool so they never clash with
  KServe's (or tritonclient's) `inference.*` messages.
- load/unload: KServe's endpoints, refused by ReadOnlyRepository unless `repository_writes` is on.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

import grpc
from fastapi import Request
from fastapi.responses import JSONResponse
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from services.adapters.kserve.sdk import ModelRepositoryExtension, UnsupportedProtocol, rest_app

EXTENSION = "model_repository_extension"
INDEX_PATH = "/v2/repository/index"
GRPC_SERVICE = "inference.GRPCInferenceService"
READY = "READY"  # Triton's model states, which tritonclient users compare against
UNAVAILABLE = "UNAVAILABLE"


class RepositoryIndexSource(Protocol):
    async def repository_index(self, *, ready_only: bool = False) -> list[dict[str, str]]:
        """One {"name", "version", "state", "reason"} entry per served model."""
        ...


class ReadOnlyRepository(ModelRepositoryExtension):  # type: ignore[misc]
    """KServe's model repository extension with load and unload refused: they are
    unauthenticated, and an unload of the served model is an outage. The index still answers
    (install_rest_index and grpc_index_handler)."""

    async def load(self, model_name: str) -> None:
        raise UnsupportedProtocol(f"loading models is disabled on this server (asked for {model_name!r})")

    async def unload(self, model_name: str) -> None:
        raise UnsupportedProtocol(f"unloading models is disabled on this server (asked for {model_name!r})")


def install_rest_index(source: RepositoryIndexSource) -> None:
    """Serve `POST /v2/repository/index` from `source` on KServe's REST app (replacing an earlier one).

    The body is empty or {"ready": bool}; the answer is a JSON list of index entries.
    """

    async def index(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            options = json.loads(body) if body.strip() else {}
        except ValueError:
            options = None
        if not isinstance(options, dict) or not isinstance(options.get("ready", False), bool):
            return JSONResponse(
                status_code=400,
                content={"error": 'invalid request body: expected nothing or {"ready": true|false}'},
            )
        return JSONResponse(await source.repository_index(ready_only=options.get("ready", False)))

    rest_app.router.routes[:] = [
        route for route in rest_app.router.routes if getattr(route, "path", None) != INDEX_PATH
    ]
    rest_app.add_api_route(INDEX_PATH, index, methods=["POST"], include_in_schema=False)


def _index_messages() -> tuple[Any, Any]:
    field = descriptor_pb2.FieldDescriptorProto
    string, boolean, optional = field.TYPE_STRING, field.TYPE_BOOL, field.LABEL_OPTIONAL
    proto = descriptor_pb2.FileDescriptorProto(
        name="rtinfer_repository_index.proto", package="inference", syntax="proto3"
    )
    request = proto.message_type.add(name="RepositoryIndexRequest")
    request.field.add(name="repository_name", number=1, type=string, label=optional)
    request.field.add(name="ready", number=2, type=boolean, label=optional)
    response = proto.message_type.add(name="RepositoryIndexResponse")
    entry = response.nested_type.add(name="ModelIndex")
    for number, name in enumerate(("name", "version", "state", "reason"), start=1):
        entry.field.add(name=name, number=number, type=string, label=optional)
    response.field.add(
        name="models",
        number=1,
        type=field.TYPE_MESSAGE,
        label=field.LABEL_REPEATED,
        type_name=".inference.RepositoryIndexResponse.ModelIndex",
    )
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(proto.SerializeToString())
    return (
        message_factory.GetMessageClass(pool.FindMessageTypeByName("inference.RepositoryIndexRequest")),
        message_factory.GetMessageClass(pool.FindMessageTypeByName("inference.RepositoryIndexResponse")),
    )


RepositoryIndexRequest, RepositoryIndexResponse = _index_messages()


def grpc_index_handler(source: RepositoryIndexSource) -> grpc.GenericRpcHandler:
    """`inference.GRPCInferenceService/RepositoryIndex` answered from `source`.

    The repository name is ignored: this server has one repository.
    """

    async def index(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        response = RepositoryIndexResponse()
        for entry in await source.repository_index(ready_only=request.ready):
            response.models.add(**entry)
        return response

    handler = grpc.unary_unary_rpc_method_handler(
        index,
        request_deserializer=RepositoryIndexRequest.FromString,
        response_serializer=RepositoryIndexResponse.SerializeToString,
    )
    return grpc.method_handlers_generic_handler(GRPC_SERVICE, {"RepositoryIndex": handler})
