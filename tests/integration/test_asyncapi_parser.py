"""docs/asyncapi.json passes the official AsyncAPI parser (scripts/validate-asyncapi.sh).

Needs node and npm (the parser is an npm package, pinned in tools/asyncapi); skipped without
them, and failing instead with RTINFER_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from rtinfer.asyncapi import DOCUMENT
from tests.servers import unavailable

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "validate-asyncapi.sh"
SUMMARY = re.compile(r": (\d+) errors, (\d+) warnings, (\d+) infos, (\d+) hints$")
# Warnings left on purpose (docs/events.md says why): the project publishes no contact.
ACCEPTED_WARNINGS = {"asyncapi-info-contact"}

Validate = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="module")
def validate() -> Validate:
    missing = [command for command in ("node", "npm", "bash") if shutil.which(command) is None]
    if missing:
        unavailable("AsyncAPI parser", f"{', '.join(missing)} not on PATH")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    return run


def _diagnostics(output: str, severity: str) -> list[tuple[str, str]]:
    """(code, line) of each diagnostic of `severity` in the validator's output."""
    found = []
    for line in output.splitlines():
        match = re.match(rf"^.*?:\d+:\d+ {severity} (\S+) ", line)
        if match:
            found.append((match.group(1), line))
    return found


def _summary(output: str) -> tuple[int, int]:
    lines = [line for line in output.splitlines() if SUMMARY.search(line)]
    assert len(lines) == 1, f"no single summary line in:\n{output}"
    match = SUMMARY.search(lines[0])
    assert match is not None
    return int(match.group(1)), int(match.group(2))


def test_committed_document_has_no_parser_errors(validate: Validate) -> None:
    done = validate()
    report = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, report
    errors, warnings = _summary(done.stdout)
    assert errors == 0, report
    unexpected = [
        line for code, line in _diagnostics(done.stdout, "warning") if code not in ACCEPTED_WARNINGS
    ]
    assert not unexpected, report
    assert warnings <= len(ACCEPTED_WARNINGS), report


def test_a_dangling_reference_is_reported(validate: Validate, tmp_path: Path) -> None:
    document = json.loads(DOCUMENT.read_text())
    schema = document["components"]["schemas"]["dev.rtinfer.payment.authorized.v1"]
    schema["properties"]["card_type"] = {"$ref": "#/$defs/CardType"}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))

    done = validate(str(broken))

    report = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 1, report
    errors, _ = _summary(done.stdout)
    assert errors >= 1, report
    assert any(
        "#/$defs/CardType" in line and "card_type" in line for _, line in _diagnostics(done.stdout, "error")
    ), report


def test_a_discriminator_object_is_reported(validate: Validate, tmp_path: Path) -> None:
    document = json.loads(DOCUMENT.read_text())
    origin = document["components"]["schemas"]["dev.rtinfer.deadletter.v2"]["properties"]["origin"]
    origin["discriminator"] = {"propertyName": "kind"}
    broken = tmp_path / "discriminator.json"
    broken.write_text(json.dumps(document))

    done = validate(str(broken))

    assert done.returncode == 1, done.stdout + done.stderr
    assert any("discriminator" in line for _, line in _diagnostics(done.stdout, "error")), done.stdout
