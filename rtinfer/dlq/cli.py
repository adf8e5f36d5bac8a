"""`rtinfer dlq replay|show`: inspect and re-publish dead letters."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rtinfer.dlq.replay import Inventory, Plan, ReplayFilter
    from services.adapters.kafka.settings import KafkaSettings


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    dlq = commands.add_parser("dlq", help="inspect and replay the dead-letter topic")
    actions = dlq.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text in {
        "show": "count dead letters (ours and Knative's) by reason, stage and origin",
        "replay": "re-publish dead letters, byte for byte, to their origin topic if it is allowed",
    }.items():
        action = actions.add_parser(name, help=help_text, description=help_text)
        action.add_argument("--topic", default="payments.dlq", help="the dead-letter topic to read")
        action.add_argument("--bootstrap", help="default: RTINFER_KAFKA_BOOTSTRAP or 127.0.0.1:9092")
        action.add_argument("--reason", action="append", default=[], help="only this reason (repeatable)")
        action.add_argument("--stage", action="append", default=[], help="only this stage (repeatable)")
        action.add_argument("--since", type=_aware, help="first seen at or after (ISO, with offset)")
        action.add_argument("--until", type=_aware, help="first seen at or before (ISO, with offset)")
        action.add_argument("--timeout", type=float, default=5.0, help="stop reading after this idle time")
        action.add_argument(
            "--max-bytes", type=int, help="largest record read (default RTINFER_DLQ_MAX_LETTER_BYTES, 8 MiB)"
        )
        if name == "replay":
            action.add_argument(
                "--to", help="target topic for letters that carry none (HTTP-origin and Knative letters)"
            )
            action.add_argument(
                "--allow-topic",
                action="append",
                default=[],
                help="a topic replay may publish to (repeatable; default RTINFER_DLQ_REPLAY_TOPICS, "
                "else the topics the services consume)",
            )
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
    from rtinfer.dlq.kafka import read_dead_letters
    from rtinfer.dlq.replay import ReplayFilter
    from rtinfer.dlq.settings import DlqSettings
    from services.adapters.kafka.settings import KafkaSettings

    settings = DlqSettings()
    max_bytes = args.max_bytes or settings.max_letter_bytes
    allowed = frozenset(getattr(args, "allow_topic", None) or settings.replay_topics)
    target = getattr(args, "to", None)
    if target is not None and target not in allowed:
        print(f"error: --to {target} is not an allowed topic ({_names(allowed)}); add --allow-topic {target}")
        return 2
    kafka = KafkaSettings(bootstrap=args.bootstrap) if args.bootstrap else KafkaSettings()
    inventory = asyncio.run(read_dead_letters(kafka, args.topic, args.timeout, max_bytes))
    keep = ReplayFilter(frozenset(args.reason), args.since, args.until, frozenset(args.stage))
    if args.action == "show":
        return _show(inventory, keep)
    return _replay(inventory, keep, target, allowed, kafka, max_bytes, dry_run=args.dry_run)


def _show(inventory: Inventory, keep: ReplayFilter) -> int:
    chosen = [entry for entry in inventory.entries if keep.accepts(entry)]
    print(f"{len(chosen)} of {len(inventory.entries)} dead letters match ({_others(inventory)})")
    counts = Counter((entry.reason, entry.stage, entry.origin) for entry in chosen)
    for (reason, stage, origin), count in counts.most_common():
        print(f"  {count:>7}  reason={_safe(reason)}  stage={_safe(stage)}  origin={_safe(origin)}")
    return 0


def _replay(
    inventory: Inventory,
    keep: ReplayFilter,
    target: str | None,
    allowed: frozenset[str],
    kafka: KafkaSettings,
    max_bytes: int,
    *,
    dry_run: bool,
) -> int:
    from rtinfer.dlq.kafka import publish_replays
    from rtinfer.dlq.replay import plan_replay

    plan = plan_replay(inventory.entries, keep, target, allowed)
    by_topic = Counter(item.topic for item in plan.replays)
    verb = "would re-publish" if dry_run else "re-publishing"
    print(
        f"{verb} {len(plan.replays)} of {len(inventory.entries)} dead letters: "
        + (", ".join(f"{count} to {topic}" for topic, count in by_topic.items()) or "nothing")
        + f" ({_others(inventory)})"
    )
    _report_held_back(plan, allowed)
    if dry_run or not plan.replays:
        for item in plan.replays[:20]:
            size = len(item.record.value) if item.record.value is not None else "null"
            print(f"  {_safe(item.letter_id)} -> {item.topic} ({size} bytes)")
        return 0 if plan.held_back == 0 else 1
    sent = asyncio.run(publish_replays(kafka, plan.replays, max_bytes))
    failed = len(plan.replays) - sent
    print(f"re-published {sent} records" + (f", {failed} failed" if failed else ""))
    return 0 if sent == len(plan.replays) and plan.held_back == 0 else 1


def _report_held_back(plan: Plan, allowed: frozenset[str]) -> None:
    if plan.refused:
        refused = ", ".join(f"{_safe(topic)} ({count})" for topic, count in plan.refused.most_common())
        print(
            f"error: refused {sum(plan.refused.values())} letters whose topic is not allowed: {refused}; "
            f"allowed: {_names(allowed)} (--allow-topic, RTINFER_DLQ_REPLAY_TOPICS)",
            file=sys.stderr,
        )
    if plan.no_target:
        print(f"held back {plan.no_target} letters that name no topic (HTTP-origin or Knative): give --to")
    for problem, count in plan.not_replayable.most_common():
        print(f"held back {count} letters that cannot be replayed: {problem}")


def _others(inventory: Inventory) -> str:
    knative = sum(entry.kind == "knative" for entry in inventory.entries)
    return (
        f"{knative} from Knative, {inventory.legacy_v1} v1 letters not replayable, "
        f"{inventory.unreadable} unreadable records"
    )


def _names(topics: frozenset[str]) -> str:
    return ", ".join(sorted(topics)) or "none"


def _safe(text: str, limit: int = 120) -> str:
    # Letters are written by whoever can write the topic: no terminal escapes reach the screen.
    shown = text if text.isprintable() else repr(text)
    return shown if len(shown) <= limit else shown[:limit] + "…"
