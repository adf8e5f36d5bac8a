"""The `rtinfer events` command group: list event types, print or regenerate JSON Schemas."""

from __future__ import annotations

import argparse
import sys

from events.schemas import REGENERATE_COMMAND, generate, render, schema_path
from events.types import EVENT_TYPES


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    events = commands.add_parser(
        "events",
        help="event contracts: CloudEvents types and their JSON Schemas",
        description="Event contracts: the CloudEvents types rtinfer reads and writes.",
    )
    actions = events.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="type names with their dataschema URI")
    listing.set_defaults(handler=_list)
    schema = actions.add_parser(
        "schema",
        help="print one type's JSON Schema, or check or regenerate the committed files",
        description="Print the JSON Schema of TYPE; with --write regenerate every committed "
        "schema file; with --check exit 1 when a committed file differs from the models.",
    )
    schema.add_argument("type_name", nargs="?", metavar="TYPE", help="an event type name")
    modes = schema.add_mutually_exclusive_group()
    modes.add_argument("--write", action="store_true", help="regenerate the committed schema files")
    modes.add_argument("--check", action="store_true", help="fail when a committed file has drifted")
    schema.set_defaults(handler=_schema)
    asyncapi = actions.add_parser(
        "asyncapi",
        help="print or regenerate docs/asyncapi.json from the scoring and feature apps",
        description="Generate the AsyncAPI document from the FastStream apps of the scoring and "
        "feature services, with the CloudEvent JSON Schemas as message payloads.",
    )
    asyncapi.add_argument("--write", action="store_true", help="regenerate the committed docs/asyncapi.json")
    asyncapi.set_defaults(handler=_asyncapi)


def _asyncapi(args: argparse.Namespace) -> int:
    from rtinfer.asyncapi import DOCUMENT, build_document, render

    text = render(build_document())
    if args.write:
        DOCUMENT.write_text(text)
        print(f"wrote {DOCUMENT}")
    else:
        print(text, end="")
    return 0


def _list(args: argparse.Namespace) -> int:
    width = max(len(name) for name in EVENT_TYPES)
    for name, event_type in EVENT_TYPES.items():
        print(f"{name:<{width}}  {event_type.dataschema}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    schemas = generate()
    if args.write or args.check:
        if args.type_name:
            print("error: --write and --check cover every type; drop TYPE", file=sys.stderr)
            return 2
        return _write(schemas) if args.write else _check(schemas)
    if not args.type_name:
        print("error: give a TYPE (see `rtinfer events list`), --write or --check", file=sys.stderr)
        return 2
    if args.type_name not in schemas:
        print(f"error: unknown event type {args.type_name!r}; known: {', '.join(schemas)}", file=sys.stderr)
        return 2
    sys.stdout.write(render(schemas[args.type_name]))
    return 0


def _write(schemas: dict[str, dict[str, object]]) -> int:
    for name, schema in schemas.items():
        path = schema_path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(schema), encoding="utf-8")
        print(f"wrote {name}.json")
    return 0


def _check(schemas: dict[str, dict[str, object]]) -> int:
    drifted = [
        name
        for name, schema in schemas.items()
        if not schema_path(name).is_file() or schema_path(name).read_text(encoding="utf-8") != render(schema)
    ]
    for name in drifted:
        print(f"drifted: {name}.json", file=sys.stderr)
    if drifted:
        print(f"regenerate with: {REGENERATE_COMMAND}", file=sys.stderr)
        return 1
    print(f"{len(schemas)} schemas up to date")
    return 0
