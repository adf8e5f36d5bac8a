"""Rendering a settings class as help text (names, env vars, defaults, descriptions)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, SecretStr
from pydantic_core import to_jsonable_python
from pydantic_settings import BaseSettings


def settings_env(settings: BaseSettings) -> dict[str, str]:
    """`settings` as the environment variables that rebuild them (prefix and nesting delimiter of
    its class; lists, dicts and nested models in lists as JSON), as a deployment sets them."""
    config = type(settings).model_config
    delimiter = str(config.get("env_nested_delimiter") or "__")
    flat: dict[str, str] = {}

    def walk(prefix: str, model: BaseModel) -> None:
        for name in type(model).model_fields:
            value: Any = getattr(model, name)
            key = f"{prefix}{name.upper()}"
            if isinstance(value, BaseModel):
                walk(f"{key}{delimiter}", value)
            elif value is None:
                continue
            elif isinstance(value, SecretStr):
                flat[key] = value.get_secret_value()
            elif isinstance(value, dict | list | tuple):
                flat[key] = json.dumps(to_jsonable_python(value))
            else:
                flat[key] = str(value)

    walk(str(config.get("env_prefix", "")).upper(), settings)
    return flat


def describe_settings(settings_class: type[BaseSettings]) -> str:
    config = settings_class.model_config
    prefix = str(config.get("env_prefix", ""))
    delimiter = str(config.get("env_nested_delimiter") or "__")
    lines = ["settings (environment variables):"]
    lines += _fields(settings_class, prefix.upper(), delimiter)
    return "\n".join(lines)


def _fields(model: type[BaseModel], prefix: str, delimiter: str) -> list[str]:
    lines = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            lines += _fields(annotation, f"{prefix}{name.upper()}{delimiter}", delimiter)
            continue
        default: Any = info.get_default(call_default_factory=True)
        if isinstance(default, SecretStr) or "SecretStr" in str(annotation):
            default = "****" if default else None
        elif isinstance(default, str):
            default = masked_url(default)
        description = f"  {info.description}" if info.description else ""
        lines.append(f"  {prefix}{name.upper()}={default!s}{description}")
    return lines


def masked_url(text: str) -> str:
    """`text` with the password of a URL (scheme://user:password@host) replaced by ****."""
    parts = urlsplit(text)
    if not parts.scheme or not parts.netloc or parts.password is None:
        return text
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:****@{host}"))
