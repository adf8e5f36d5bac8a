"""The model server process: FraudModels (the main one, any extra ones) behind one
kserve.ModelServer (REST + gRPC)."""

from __future__ import annotations

import logging
import signal
import socket
from typing import Any

from services.adapters.kserve.sdk import ModelServer
from services.model.artifact import ArtifactError
from services.model.grpc_server import IndexedGRPCServer
from services.model.repository import ReadOnlyRepository
from services.model.server import ArtifactDataPlane, FraudModel
from services.model.settings import ModelServerSettings

# KServe's default gRPC message limit (kserve.constants MAX_GRPC_MESSAGE_LENGTH).
GRPC_MAX_MESSAGE_LENGTH = 8 << 20

# A child of KServe's logger, so our lines share its handler and format.
log = logging.getLogger("kserve.rtinfer")


class PortInUseError(Exception):
    """A port the server needs is taken; raised before anything starts."""


class ModelLoadError(ArtifactError):
    """One of the served models cannot load; `model_name` says which."""

    def __init__(self, model_name: str, error: ArtifactError) -> None:
        super().__init__(str(error))
        self.model_name = model_name


class ModelServerApp:
    """Serves model artifacts over KServe's V1/V2 REST and V2 gRPC protocols: the main model
    (settings.model_name) and the extra ones (settings.extra_models), each on its own paths.

    Synchronous, unlike the other three apps: kserve's ModelServer.start() creates and runs its
    own event loop (asyncio.run) and returns only once its servers have stopped, and it installs
    its own SIGINT/SIGTERM/SIGQUIT handlers, whose ModelServer.stop() schedules the shutdown on
    that loop. Nothing can await it from an outer loop, so:

    - start(): everything that can fail before a port opens: load every artifact, check that
      the ports are free, build the server. Raises ModelLoadError (an ArtifactError naming the
      model) or PortInUseError, each with a one-line message.
    - run_until_signal(): start() unless done, then serve (blocking) until a signal stops KServe.
    - stop(): while serving, raise SIGTERM in this process, so KServe's own handler stops it as
      it would on a SIGTERM from outside; before serving, unload the models.

    Args:
        model: an injected main model; default a FraudModel over settings.model_dir. The extra
            models are always FraudModels over their settings.extra_models directories.
    """

    def __init__(self, settings: ModelServerSettings, *, model: FraudModel | None = None) -> None:
        self.settings = settings
        self.model = model or FraudModel(
            settings.model_name, settings.model_dir, predict_threads=settings.predict_threads
        )
        self.models = [self.model] + [
            FraudModel(name, directory, predict_threads=settings.predict_threads)
            for name, directory in settings.extra_models.items()
        ]
        self.server: FraudModelServer | None = None
        self._serving = False

    def start(self) -> None:
        """Load every artifact, check the ports, build the server; no port is open yet."""
        settings = self.settings
        for model in self.models:
            try:
                model.load()
            except ArtifactError as error:
                self._unload()
                raise ModelLoadError(model.name, error) from None
        ports = [settings.http_port] + ([settings.grpc_port] if settings.enable_grpc else [])
        for port in ports:
            _check_port_free(port)
        self.server = build_server(settings)
        directories = settings.served_models()
        for model in self.models:
            log.info(
                "loaded model %s version %s from %s", model.name, model.version, directories.get(model.name)
            )

    def run_until_signal(self) -> None:
        """Serve until SIGINT, SIGTERM or SIGQUIT (KServe's handlers stop the servers)."""
        if self.server is None:
            self.start()
        assert self.server is not None
        self._serving = True
        try:
            self.server.start(self.models)
        finally:
            self._serving = False

    def stop(self) -> None:
        """Stop serving as SIGTERM does; before serving, unload the models."""
        if self._serving:
            signal.raise_signal(signal.SIGTERM)
            return
        self.server = None
        self._unload()

    def _unload(self) -> None:
        for model in self.models:
            model.stop()


class FraudModelServer(ModelServer):  # type: ignore[misc]
    """KServe's ModelServer with its gRPC server replaced by IndexedGRPCServer (RepositoryIndex,
    ModelMetadata versions). Everything else, REST included, is KServe's own.

    KServe builds its gRPC server inside start() only when enable_grpc is set, so it is built
    with enable_grpc=False and ours joins the servers start() runs, from _serve(), the coroutine
    start() hands to asyncio.run (kserve 0.21).
    """

    def __init__(self, *, enable_grpc: bool = True, **options: Any) -> None:
        super().__init__(enable_grpc=False, **options)
        self.serve_grpc = enable_grpc

    async def _serve(self) -> None:
        if self.serve_grpc:
            self._grpc_server = IndexedGRPCServer(
                self.grpc_port,
                self.dataplane,
                self.model_repository_extension,
                max_message_length=GRPC_MAX_MESSAGE_LENGTH,
                grace_period=self.grace_period,
            )
            self.servers.append(self._grpc_server.start(self.max_threads))
        await super()._serve()


def build_server(settings: ModelServerSettings) -> FraudModelServer:
    """A FraudModelServer configured only from `settings` (never from kserve's argv defaults)."""
    server = FraudModelServer(
        http_port=settings.http_port,
        grpc_port=settings.grpc_port,
        workers=settings.workers,
        max_threads=settings.grpc_max_threads,
        enable_grpc=settings.enable_grpc,
        enable_docs_url=False,
        enable_latency_logging=settings.request_logging,
        access_log_format=None,
    )
    server.dataplane = ArtifactDataPlane(model_registry=server.registered_models)
    if not settings.repository_writes:
        server.model_repository_extension = ReadOnlyRepository(model_registry=server.registered_models)
    if not settings.request_logging:
        _quiet_request_logs()
    return server


def _check_port_free(port: int) -> None:
    # Uvicorn and gRPC would fail later with a traceback from deep inside the event loop.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))  # noqa: S104 - the servers listen on all interfaces
        except OSError as error:
            raise PortInUseError(f"port {port} is not available: {error.strerror}") from None


class _DropPerRequestLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("grpc method:")


def _quiet_request_logs() -> None:
    # One log line per request costs more than a small batch's prediction.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("kserve.trace").setLevel(logging.WARNING)
    logging.getLogger("kserve").addFilter(_DropPerRequestLines())
