"""Integration fixtures shared by the scoring tests."""

from __future__ import annotations

# The model server fixtures (module scope: each test module gets its own server).
from tests.integration.model_server_fixtures import artifact_dir, server  # noqa: F401
