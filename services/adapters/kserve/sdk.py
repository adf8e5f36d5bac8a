"""The KServe SDK, imported with sys.argv hidden.

kserve.model_server runs its own argparse over sys.argv at import time and uses the result as
default arguments. Flags of whatever program imports it (pytest's --co, a demo's --timeout N)
would be taken as abbreviations of kserve's flags and crash or silently reconfigure it, so the
import sees a bare argv; our entry point passes every server setting explicitly instead.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _bare_argv() -> Iterator[None]:
    saved = sys.argv
    sys.argv = saved[:1]
    try:
        yield
    finally:
        sys.argv = saved


with _bare_argv():
    from kserve import InferInput, InferOutput, InferRequest, InferResponse, Model, ModelServer
    from kserve.errors import InvalidInput, UnsupportedProtocol
    from kserve.model_server import app as rest_app
    from kserve.protocol.dataplane import DataPlane
    from kserve.protocol.grpc import grpc_predict_v2_pb2, grpc_predict_v2_pb2_grpc
    from kserve.protocol.model_repository_extension import ModelRepositoryExtension

__all__ = [
    "DataPlane",
    "InferInput",
    "InferOutput",
    "InferRequest",
    "InferResponse",
    "InvalidInput",
    "Model",
    "ModelRepositoryExtension",
    "ModelServer",
    "UnsupportedProtocol",
    "grpc_predict_v2_pb2",
    "grpc_predict_v2_pb2_grpc",
    "rest_app",
]
