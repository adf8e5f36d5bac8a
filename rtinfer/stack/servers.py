"""The three native servers: how each is obtained, configured, started and probed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rtinfer.stack import health
from rtinfer.stack.process import Launch, StackError
from rtinfer.stack.settings import StackSettings

KAFKA_POM = Path(__file__).with_name("kafka-pom.xml")
KAFKA_CLUSTER_ID = "cnRpbmZlci1sb2NhbC0x"  # fixed: one single-node dev cluster per folder

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
        props = home / "server.properties"
        props.write_text(_kafka_properties(settings, data))
        classpath = f"{libs}/*"
        if not (data / "meta.properties").exists():
            _run(
                [
                    java,
                    "-cp",
                    classpath,
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    KAFKA_CLUSTER_ID,
                    "-c",
                    str(props),
                ],
                "formatting Kafka storage",
            )
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

    return Server(
        "kafka",
        (settings.kafka_port, settings.kafka_controller_port),
        prepare,
        lambda: health.kafka_healthy(settings.host, settings.kafka_port),
    )


def _kafka_properties(settings: StackSettings, data: Path) -> str:
    host, port, ctl = settings.host, settings.kafka_port, settings.kafka_controller_port
    return "\n".join(
        [
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@{host}:{ctl}",
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{ctl}",
            f"advertised.listeners=PLAINTEXT://{host}:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
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
            "",
        ]
    )


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


def all_servers(settings: StackSettings) -> list[Server]:
    return [kafka_server(settings), redis_server(settings), weaviate_server(settings)]
