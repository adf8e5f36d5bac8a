"""The model server's settings: flags win over RTINFER_MODEL_* env, which wins over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from services.model.settings import ModelServerSettings, settings_from_args

pytestmark = pytest.mark.unit


def test_defaults_with_only_the_required_model_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTINFER_MODEL_MODEL_DIR", raising=False)

    settings = settings_from_args(["--model-dir", "artifacts/fraud"])

    assert settings.model_dir == Path("artifacts/fraud")
    assert (settings.model_name, settings.http_port, settings.grpc_port, settings.workers) == (
        "fraud",
        8085,
        8086,
        1,
    )
    assert settings.enable_grpc and not settings.request_logging


def test_flags_win_over_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTINFER_MODEL_MODEL_DIR", "from-env")
    monkeypatch.setenv("RTINFER_MODEL_HTTP_PORT", "9000")
    monkeypatch.setenv("RTINFER_MODEL_GRPC_PORT", "9001")

    settings = settings_from_args(["--http-port", "7000", "--no-enable-grpc", "--model-name", "fraud-b"])

    assert settings.model_dir == Path("from-env")
    assert (settings.http_port, settings.grpc_port, settings.model_name) == (7000, 9001, "fraud-b")
    assert not settings.enable_grpc


def test_missing_model_dir_and_bad_port_are_validation_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTINFER_MODEL_MODEL_DIR", raising=False)

    with pytest.raises(ValidationError, match="model_dir"):
        settings_from_args([])
    with pytest.raises(ValidationError, match="http_port"):
        settings_from_args(["--model-dir", "x", "--http-port", "70000"])


def test_help_lists_every_setting_with_its_env_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        settings_from_args(["--help"])

    text = " ".join(capsys.readouterr().out.split())
    for name in ModelServerSettings.model_fields:
        assert f"--{name.replace('_', '-')}" in text
        assert f"RTINFER_MODEL_{name.upper()}" in text


def test_settings_are_frozen() -> None:
    settings = ModelServerSettings(model_dir=Path("x"))

    with pytest.raises(ValidationError):
        settings.http_port = 1  # type: ignore[misc]
