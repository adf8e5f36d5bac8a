"""`rtinfer dlq replay|show`: inspect and re-publish dead letters."""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from datetime import datetime


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    dlq = commands.add_parser("dlq", help="inspect and replay the dead-letter topic")
    actions = dlq.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in {
        "show": "count dead letters by reason, stage and origin topic",
        "replay": "re-publish dead letters to their origin topic (original bytes, headers and key)",
    }.items():
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("--topic", default="payments.dlq", help="the dead-letter topic")
        action.add_argument("--bootstrap", help="default: RTINFER_KAFKA_BOOTSTRAP or 127.0.0.1:9092")
        action.add_argument("--reason", action="append", default=[], help="only this reason (repeatable)")
        action.add_argument("--stage", action="append", default=[], help="only this stage (repeatable)")
        action.add_argument("--since", type=_aware, help="first seen at or after (ISO, with offset)")
        action.add_argument("--until", type=_aware, help="first seen at or before (ISO, with offset)")
        action.add_argument("--timeout", type=float, default=5.0, help="stop reading after this idle time")
        if name == "replay":
            action.add_argument("--to", help="target topic for letters that came over HTTP")
            action.add_argument(
                "--dry-run", action="store_true", help="list what would be sent, send nothing"
            )
        action.set_defaults(handler=_run)


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone offset, e.g. 2026-01-01T00:00:00+00:00")
    return moment


def _run(args: argparse.Namespace) -> int:
    from rtinfer.dlq.kafka import publish_replays, read_dead_letters
    from rtinfer.dlq.replay import ReplayFilter, plan_replay
    from services.adapters.kafka.settings import KafkaSettings

    kafka = KafkaSettings(bootstrap=args.bootstrap) if args.bootstrap else KafkaSettings()
    letters, undecodable = asyncio.run(read_dead_letters(kafka, args.topic, args.timeout))
    keep = ReplayFilter(frozenset(args.reason), args.since, args.until, frozenset(args.stage))
    chosen = [letter for letter in letters if keep.accepts(letter)]
    if args.action == "show":
        counts = Counter(
            (letter.data.reason, letter.data.stage, getattr(letter.data.origin, "topic", "http"))
            for letter in chosen
        )
        print(f"{len(chosen)} of {len(letters)} dead letters match ({undecodable} unreadable records)")
        for (reason, stage, topic), count in counts.most_common():
            print(f"  {count:>7}  reason={reason}  stage={stage}  origin={topic}")
        return 0
    plan = plan_replay(chosen, keep, args.to)
    by_topic = Counter(item.topic for item in plan)
    verb = "would re-publish" if args.dry_run else "re-publishing"
    print(
        f"{verb} {len(plan)} of {len(letters)} dead letters: "
        + ", ".join(f"{count} to {topic}" for topic, count in by_topic.items())
    )
    if args.dry_run or not plan:
        for item in plan[:20]:
            print(f"  {item.letter_id} -> {item.topic} ({len(item.record.value)} bytes)")
        return 0
    sent = asyncio.run(publish_replays(kafka, plan))
    print(f"re-published {sent} records")
    return 0 if sent == len(plan) else 1
