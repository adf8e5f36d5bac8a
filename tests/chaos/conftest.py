"""The chaos suite's report: each scenario records its figures; the table is printed at the end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

_ROWS: list[tuple[str, dict[str, Any]]] = []


@pytest.fixture
def chaos_report(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record one scenario's figures under the test's name (printed in the summary)."""

    def record(**figures: Any) -> None:
        _ROWS.append((request.node.name, figures))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ROWS:
        return
    columns = sorted({name for _, figures in _ROWS for name in figures})
    width = max(len(name) for name, _ in _ROWS)
    terminalreporter.section("chaos scenarios")
    terminalreporter.write_line(f"{'scenario':<{width}}  " + "  ".join(f"{c:>13}" for c in columns))
    for name, figures in _ROWS:
        cells = "  ".join(f"{figures.get(c, ''):>13}" for c in columns)
        terminalreporter.write_line(f"{name:<{width}}  {cells}")
