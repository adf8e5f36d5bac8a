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
    flags = {"extra_models": "--extra-model NAME=DIR"}  # one model per (repeatable) flag
    for name in ModelServerSettings.model_fields:
        assert flags.get(name, f"--{name.replace('_', '-')}") in text
        assert f"RTINFER_MODEL_{name.upper()}" in text


def test_settings_are_frozen() -> None:
    settings = ModelServerSettings(model_dir=Path("x"))

    with pytest.raises(ValidationError):
        settings.http_port = 1  # type: ignore[misc]


def test_extra_models_from_repeated_flags_win_over_the_env_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTINFER_MODEL_EXTRA_MODELS", '{"from-env": "artifacts/env"}')

    from_env = settings_from_args(["--model-dir", "artifacts/fraud"])
    from_flags = settings_from_args(
        [
            "--model-dir",
            "artifacts/fraud",
            "--extra-model",
            "fraud-b=artifacts/b",
            "--extra-model=fraud-c=c=d",
        ]
    )

    assert from_env.extra_models == {"from-env": Path("artifacts/env")}
    assert from_flags.extra_models == {"fraud-b": Path("artifacts/b"), "fraud-c": Path("c=d")}
    assert list(from_flags.served_models().items()) == [
        ("fraud", Path("artifacts/fraud")),
        ("fraud-b", Path("artifacts/b")),
        ("fraud-c", Path("c=d")),
    ]


def test_no_extra_models_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RTINFER_MODEL_EXTRA_MODELS", raising=False)

    settings = settings_from_args(["--model-dir", "m"])

    assert settings.extra_models == {} and settings.served_models() == {"fraud": Path("m")}


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--extra-model", "fraud=elsewhere"], "extra model 'fraud' has the main model's name"),
        (
            ["--model-name", "champ", "--extra-model", "champ=x"],
            "extra model 'champ' has the main model's name",
        ),
        (["--extra-model", "b=x", "--extra-model", "b=y"], "model 'b' is given twice"),
        (["--extra-model", "b"], "expected NAME=DIR, got 'b'"),
        (["--extra-model", "=x"], "expected NAME=DIR"),
        (["--extra-model", "a/b=x"], "model name 'a/b' cannot be an endpoint path segment"),
    ],
    ids=["main name", "renamed main", "twice", "no dir", "no name", "slash"],
)
def test_unusable_extra_models_are_validation_errors(arguments: list[str], problem: str) -> None:
    with pytest.raises(ValidationError, match="extra_models") as caught:
        settings_from_args(["--model-dir", "m", *arguments])

    assert problem in str(caught.value)


def test_a_clash_in_the_env_json_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RTINFER_MODEL_EXTRA_MODELS", '{"fraud": "x"}')

    with pytest.raises(ValidationError, match="extra model 'fraud' has the main model's name"):
        settings_from_args(["--model-dir", "m"])
