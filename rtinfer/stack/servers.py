"""The native servers: how each is obtained, configured, started and probed.

Kafka, Redis and Weaviate always; Jaeger (traces) only when asked for (OPTIONAL_SERVERS).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from rtinfer.stack import health
from rtinfer.stack.jaeger import jaeger_binary, jaeger_build_dir, jaeger_build_steps, jaeger_config
from rtinfer.stack.process import Launch, StackError
from rtinfer.stack.settings import KAFKA_SASL_MECHANISM, StackSettings
from rtinfer.stack.tls import BrokerTls, ensure_tls

KAFKA_POM = Path(__file__).with_name("kafka-pom.xml")
KAFKA_CLUSTER_ID = "cnRpbmZlci1sb2NhbC0x"  # fixed: one single-node dev cluster per folder
SCRAM_ITERATIONS = 8192
SCRAM_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"
CORE_SERVERS = ("kafka", "redis", "weaviate")
OPTIONAL_SERVERS = ("jaeger",)  # started only with --with/--only or their StackSettings flag

LOG4J2_PROPERTIES = """\
status = warn
appender.file.type = Console
appender.file.name = STDOUT
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.kafkaserver.name = kafka.server.KafkaRaftServer
logger.kafkaserver.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
"""


@dataclass(frozen=True)
class Server:
    """One server of the stack."""

    name: str
    ports: tuple[int, ...]
    prepare: Callable[[], Launch]  # obtains the binary, writes config, returns how to start
    healthy: Callable[[], bool]
    markers: tuple[str, ...] = ()  # command-line substrings identifying our process

    @property
    def main_port(self) -> int:
        return self.ports[0]


def require_tool(tool: str, how: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise StackError(f"'{tool}' is not on PATH; {how}")
    return path


def _run(argv: list[str], what: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(  # noqa: S603 - fixed argv
        argv, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-25:])
        raise StackError(f"{what} failed (exit {done.returncode}):\n{tail}")


def kafka_server(settings: StackSettings) -> Server:
    home = settings.stack_dir / "kafka"

    def prepare() -> Launch:
        java = require_tool("java", "install a JDK 17+ (Debian: apt-get install openjdk-17-jre-headless)")
        libs = settings.cache_dir / f"kafka-{settings.kafka_version}" / "libs"
        if not (libs / f"kafka_2.13-{settings.kafka_version}.jar").exists():
            mvn = require_tool("mvn", "install Maven (Debian: apt-get install maven)")
            print(f"resolving Kafka {settings.kafka_version} jars with mvn into {libs} ...", flush=True)
            _run(
                [
                    mvn,
                    "-q",
                    "-B",
                    "-f",
                    str(KAFKA_POM),
                    f"-Dkafka.version={settings.kafka_version}",
                    f"-Dmaven.repo.local={settings.cache_dir / 'm2'}",
                    "dependency:copy-dependencies",
                    f"-DoutputDirectory={libs}",
                    "-DincludeScope=runtime",
                ],
                "mvn dependency:copy-dependencies for Kafka",
            )
        data = home / "data"
        home.mkdir(parents=True, exist_ok=True)
        (home / "log4j2.properties").write_text(LOG4J2_PROPERTIES)
        tls = None
        if settings.kafka_sasl_ssl_port:
            tls = ensure_tls(settings.tls_dir, {settings.host, "127.0.0.1", "localhost"})
        props = home / "server.properties"
        props.touch(mode=0o600)
        props.chmod(0o600)  # it names the keystore's password when TLS is on
        props.write_text(_kafka_properties(settings, data, tls))
        classpath = f"{libs}/*"
        scram = home / "scram-user.json"
        if not (data / "meta.properties").exists():
            argv = [java, "-cp", classpath, "kafka.tools.StorageTool", "format"]
            argv += ["-t", KAFKA_CLUSTER_ID, "-c", str(props)]
            record = None
            if settings.kafka_secured:
                salt = secrets.token_bytes(16)
                user, password = settings.kafka_sasl_username, settings.kafka_scram_password()
                argv += ["--add-scram", scram_credential(user, password.get_secret_value(), salt)]
                record = _scram_record(user, password.get_secret_value(), salt)
            _run(argv, "formatting Kafka storage")
            if record is not None:
                scram.write_text(json.dumps(record))
        elif settings.kafka_secured:
            _check_scram_user(settings, scram, data)
        argv = [
            java,
            f"-Xmx{settings.kafka_heap}",
            "-Xms256m",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}",
            "-cp",
            classpath,
            "kafka.Kafka",
            str(props),
        ]
        return Launch("kafka", argv, {}, home)

    secured_ports = tuple(port for port in (settings.kafka_sasl_port, settings.kafka_sasl_ssl_port) if port)
    return Server(
        "kafka",
        (settings.kafka_port, settings.kafka_controller_port, *secured_ports),
        prepare,
        lambda: health.kafka_healthy(settings.host, settings.kafka_port),
    )


def scram_credential(username: str, password: str, salt: bytes) -> str:
    """StorageTool's --add-scram value, salted here so the password is on no command line."""
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, SCRAM_ITERATIONS)
    return (
        f"{KAFKA_SASL_MECHANISM}=[name={username},iterations={SCRAM_ITERATIONS},"
        f'salt="{base64.b64encode(salt).decode()}",saltedpassword="{base64.b64encode(salted).decode()}"]'
    )


def _scram_record(username: str, password: str, salt: bytes) -> dict[str, object]:
    """What the stack keeps of the SCRAM user it formatted (RFC 5802's stored key, no password)."""
    salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, SCRAM_ITERATIONS)
    stored_key = hashlib.sha512(hmac.new(salted, b"Client Key", hashlib.sha512).digest()).digest()
    return {
        "name": username,
        "mechanism": KAFKA_SASL_MECHANISM,
        "iterations": SCRAM_ITERATIONS,
        "salt": base64.b64encode(salt).decode(),
        "stored_key": base64.b64encode(stored_key).decode(),
    }


def _check_scram_user(settings: StackSettings, record_path: Path, data: Path) -> None:
    """StackError unless the storage was formatted with the SCRAM user these settings name."""
    fix = (
        f"stop kafka and delete {data} (its topics go with it) to format it again, "
        "or use another RTINFER_STACK_STATE_DIR"
    )
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        raise StackError(
            f"kafka: {data} was formatted without the SCRAM user the secured listeners need; {fix}"
        ) from None
    password = settings.kafka_scram_password().get_secret_value()
    expected = _scram_record(settings.kafka_sasl_username, password, base64.b64decode(record["salt"]))
    if not hmac.compare_digest(json.dumps(record, sort_keys=True), json.dumps(expected, sort_keys=True)):
        raise StackError(
            f"kafka: the SCRAM user's name or password differs from the one {data} was formatted with; {fix}"
        )


def _kafka_properties(settings: StackSettings, data: Path, tls: BrokerTls | None = None) -> str:
    """server.properties; with secured ports set, SASL_PLAINTEXT and/or SASL_SSL listeners
    (SCRAM-SHA-512, `tls` the keystore of the SASL_SSL one) next to PLAINTEXT."""
    host, port, ctl = settings.host, settings.kafka_port, settings.kafka_controller_port
    listeners = {"PLAINTEXT": port}
    if settings.kafka_sasl_port:
        listeners["SASL_PLAINTEXT"] = settings.kafka_sasl_port
    if settings.kafka_sasl_ssl_port:
        listeners["SASL_SSL"] = settings.kafka_sasl_ssl_port
    advertised = ",".join(f"{name}://{host}:{number}" for name, number in listeners.items())
    protocols = ",".join(f"{name}:{name}" for name in listeners)
    lines = [
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{host}:{ctl}",
        f"listeners={advertised},CONTROLLER://{host}:{ctl}",
        f"advertised.listeners={advertised}",
        "controller.listener.names=CONTROLLER",
        f"listener.security.protocol.map={protocols},CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={data}",
        "num.partitions=3",
        "auto.create.topics.enable=true",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=10",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "log.retention.hours=24",
    ]
    if settings.kafka_secured:
        lines.append(f"sasl.enabled.mechanisms={KAFKA_SASL_MECHANISM}")
        mechanism = KAFKA_SASL_MECHANISM.lower()
        for name in ("SASL_PLAINTEXT", "SASL_SSL"):
            if name in listeners:
                # The broker side of SCRAM needs no credentials of its own: users live in KRaft.
                lines.append(
                    f"listener.name.{name.lower()}.{mechanism}.sasl.jaas.config={SCRAM_LOGIN_MODULE} required;"
                )
    if settings.kafka_sasl_ssl_port:
        if tls is None:
            raise ValueError("the SASL_SSL listener needs the broker's TLS material")
        prefix = "listener.name.sasl_ssl.ssl"
        password = tls.keystore_password()
        lines += [
            f"{prefix}.keystore.type=PKCS12",
            f"{prefix}.keystore.location={tls.keystore}",
            f"{prefix}.keystore.password={password}",
            f"{prefix}.key.password={password}",
            f"{prefix}.client.auth=none",
        ]
    return "\n".join([*lines, ""])


def redis_server(settings: StackSettings) -> Server:
    home = settings.stack_dir / "redis"

    def prepare() -> Launch:
        binary = require_tool("redis-server", "install it (Debian: apt-get install redis-server)")
        home.mkdir(parents=True, exist_ok=True)
        argv = [
            binary,
            "--bind",
            settings.host,
            "--port",
            str(settings.redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(home),
            "--protected-mode",
            "yes",
            "--loglevel",
            "notice",
        ]
        return Launch("redis", argv, {}, home)

    return Server(
        "redis",
        (settings.redis_port,),
        prepare,
        lambda: health.redis_healthy(settings.host, settings.redis_port),
    )


def weaviate_binary(settings: StackSettings) -> Path:
    return settings.cache_dir / "weaviate" / settings.weaviate_version / "weaviate-server"


def weaviate_server(settings: StackSettings) -> Server:
    home = settings.stack_dir / "weaviate"

    def prepare() -> Launch:
        binary = weaviate_binary(settings)
        if not binary.exists():
            go = require_tool("go", "install Go 1.24+ (Debian: apt-get install golang, or go.dev)")
            print(
                f"building weaviate-server {settings.weaviate_version} with go install "
                f"(first run only, several minutes) ...",
                flush=True,
            )
            _run(
                [
                    go,
                    "install",
                    f"github.com/weaviate/weaviate/cmd/weaviate-server@{settings.weaviate_version}",
                ],
                "go install weaviate-server",
                env={**os.environ, "GOBIN": str(binary.parent), "CGO_ENABLED": "0"},
            )
        home.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_DATA_PATH": str(home / "data"),
            "DEFAULT_VECTORIZER_MODULE": "none",
            "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "true",
            "CLUSTER_HOSTNAME": "rtinfer-node1",
            "CLUSTER_ADVERTISE_ADDR": settings.host,
            "CLUSTER_GOSSIP_BIND_PORT": str(settings.weaviate_gossip_port),
            "CLUSTER_DATA_BIND_PORT": str(settings.weaviate_data_port),
            "RAFT_PORT": str(settings.weaviate_raft_port),
            "RAFT_INTERNAL_RPC_PORT": str(settings.weaviate_raft_rpc_port),
            "RAFT_BOOTSTRAP_EXPECT": "1",
            "GRPC_PORT": str(settings.weaviate_grpc_port),
            "DISABLE_TELEMETRY": "true",
            "ENABLE_MODULES": "",
            "LIMIT_RESOURCES": "true",
            "GOMAXPROCS": "2",
            "LOG_LEVEL": "warning",
        }
        argv = [
            str(binary),
            "--host",
            settings.host,
            "--port",
            str(settings.weaviate_port),
            "--scheme",
            "http",
        ]
        return Launch("weaviate", argv, env, home)

    return Server(
        "weaviate",
        (
            settings.weaviate_port,
            settings.weaviate_grpc_port,
            settings.weaviate_gossip_port,
            settings.weaviate_data_port,
            settings.weaviate_raft_port,
            settings.weaviate_raft_rpc_port,
        ),
        prepare,
        lambda: health.weaviate_healthy(settings.host, settings.weaviate_port),
    )


def jaeger_server(settings: StackSettings) -> Server:
    """Jaeger v2 with in-memory storage: OTLP in, the query API and UI out (rtinfer.stack.jaeger)."""
    home = settings.stack_dir / "jaeger"
    config = home / "config.yaml"

    def prepare() -> Launch:
        binary = jaeger_binary(settings)
        if not binary.exists():
            build_jaeger(settings)
        home.mkdir(parents=True, exist_ok=True)
        config.write_text(jaeger_config(settings))
        return Launch("jaeger", [str(binary), "--config", str(config)], {"GOMAXPROCS": "2"}, home)

    return Server(
        "jaeger",
        (
            settings.jaeger_port,
            settings.jaeger_query_grpc_port,
            settings.jaeger_otlp_grpc_port,
            settings.jaeger_otlp_http_port,
            settings.jaeger_health_port,
        ),
        prepare,
        lambda: health.jaeger_healthy(settings.host, settings.jaeger_health_port, settings.jaeger_port),
        markers=(str(config),),
    )


def build_jaeger(settings: StackSettings) -> Path:
    """Build the jaeger binary into the cache with go, in a scratch module; returns its path."""
    binary = jaeger_binary(settings)
    go = require_tool("go", "install Go 1.24+ (Debian: apt-get install golang, or go.dev)")
    print(
        f"building jaeger {settings.jaeger_version} with go (first run only, several minutes) ...",
        flush=True,
    )
    scratch = jaeger_build_dir(settings)
    scratch.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0"}
    if not (scratch / "go.mod").exists():
        _run(
            [go, "mod", "init", "rtinfer.local/jaeger-build"], "go mod init for jaeger", cwd=scratch, env=env
        )
    partial = binary.with_name(f".{binary.name}.{os.getpid()}")
    try:
        for argv in jaeger_build_steps(go, settings.jaeger_version, partial):
            _run(argv, f"go {argv[1]} jaeger", cwd=scratch, env=env)
        partial.replace(binary)  # only a complete binary ever carries the cached name
    finally:
        partial.unlink(missing_ok=True)
    return binary


def all_servers(settings: StackSettings, with_: Collection[str] = ()) -> list[Server]:
    """The core servers, then each optional one named in `with_` or switched on in settings."""
    servers = [kafka_server(settings), redis_server(settings), weaviate_server(settings)]
    if settings.jaeger or "jaeger" in with_:
        servers.append(jaeger_server(settings))
    return servers
