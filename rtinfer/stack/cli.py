"""The `rtinfer stack` command group."""

from __future__ import annotations

import argparse
import sys

from rtinfer.stack.manager import Stack
from rtinfer.stack.process import StackError
from rtinfer.stack.servers import CORE_SERVERS, OPTIONAL_SERVERS
from rtinfer.stack.settings import StackSettings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    stack = commands.add_parser(
        "stack",
        help="native local Kafka, Redis, Weaviate and optionally Jaeger (no Docker)",
        description="Run Kafka 4.3.1 (KRaft), Redis and Weaviate natively on 127.0.0.1. "
        "Ports default to 9092/9093, 6379, 8080 (gRPC 50051); override with "
        "RTINFER_STACK_KAFKA_PORT, RTINFER_STACK_REDIS_PORT, RTINFER_STACK_WEAVIATE_PORT, "
        "RTINFER_STACK_WEAVIATE_GRPC_PORT. Downloads and data go to ~/.cache/rtinfer "
        "(RTINFER_STACK_CACHE_DIR). Optional secured Kafka listeners (SCRAM-SHA-512): "
        "RTINFER_STACK_KAFKA_SASL_PORT (SASL_PLAINTEXT) and RTINFER_STACK_KAFKA_SASL_SSL_PORT "
        "(SASL_SSL, a CA made into <state dir>/tls); `env` then also prints their addresses, "
        "the user, the CA file and the password's file (never the password). Optional Jaeger v2 "
        "(traces, in memory; built with go on first use): `up --with jaeger` or "
        "RTINFER_STACK_JAEGER=1, OTLP on 4317 (gRPC) and 4318 (HTTP), UI and query API on 16686; "
        "while it runs `env` also prints RTINFER_SCORING_OTLP_ENDPOINT, RTINFER_OTLP_ENDPOINT and "
        "RTINFER_JAEGER_QUERY_URL.",
    )
    actions = stack.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in [
        ("up", "build or fetch what is missing, start what is not running, wait until healthy"),
        ("down", "stop the servers this stack started (pid files only)"),
        ("status", "show each server, its port, pid and health"),
        ("env", 'print the env settings services and tests read (eval "$(rtinfer stack env)")'),
    ]:
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument(
            "--only",
            action="append",
            choices=[*CORE_SERVERS, *OPTIONAL_SERVERS],
            help="restrict to this server (repeatable)",
        )
        if name != "down":  # down stops every server this stack started
            action.add_argument(
                "--with",
                dest="with_",
                action="append",
                default=[],
                choices=OPTIONAL_SERVERS,
                help="add this optional server (repeatable; or RTINFER_STACK_<NAME>=1); jaeger: Jaeger v2 for "
                "traces (OTLP on 4318, query on 16686), built with Go on first use: about 7 minutes, then cached",
            )
        action.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    settings = StackSettings()
    try:
        if args.action == "down":
            with_: list[str] = list(OPTIONAL_SERVERS)
        elif args.action == "up":
            with_ = args.with_
        else:  # status and env: what was asked for, and what runs
            with_ = [*args.with_, *Stack(settings, with_=OPTIONAL_SERVERS).running_optional()]
        stack = Stack(settings, only=args.only, with_=with_)
        if args.action == "up":
            started = stack.up()
            print(f"stack up: started {', '.join(started) if started else 'nothing (all running)'}")
            print(f"env settings written to {settings.env_file}")
        elif args.action == "down":
            stopped = stack.down()
            print(f"stack down: stopped {', '.join(stopped) if stopped else 'nothing'}")
        elif args.action == "status":
            return _print_status(stack)
        else:
            for key, value in stack.service_env().items():
                print(f"export {key}={value}")
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _print_status(stack: Stack) -> int:
    print(f"{'service':<10} {'port':>6} {'pid':>8}  state")
    all_healthy = True
    for status in stack.status():
        pid = str(status.pid) if status.pid else "-"
        print(f"{status.name:<10} {status.port:>6} {pid:>8}  {status.state}")
        all_healthy &= status.healthy
    return 0 if all_healthy else 3
