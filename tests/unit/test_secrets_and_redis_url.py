"""Doors: no secret in any deployable's --help, and the Feast Redis connection honours TLS,
the ACL user and an escaped password."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.adapters.feast.settings import FeastSettings
from services.adapters.settings_help import masked_url

pytestmark = pytest.mark.unit
SECRET = "hunter2-s3cr3t"


@pytest.mark.parametrize("service", ["scoring", "features", "model", "monitor"])
def test_help_never_prints_a_secret(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "RTINFER_REDIS_URL": f"redis://app:{SECRET}@127.0.0.1:6379/0",
        "RTINFER_KAFKA_BOOTSTRAP": "127.0.0.1:9092",
        f"RTINFER_{service.upper()}_KAFKA__SASL_PASSWORD": SECRET,
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
    assert SECRET not in done.stdout + done.stderr


def test_masked_url_hides_only_the_password() -> None:
    assert masked_url(f"redis://app:{SECRET}@host:6379/0") == "redis://app:****@host:6379/0"
    assert masked_url("redis://host:6379/0") == "redis://host:6379/0"
    assert masked_url("not a url") == "not a url"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "127.0.0.1:6379,db=0"),
        ("redis://:pw@10.0.0.5:6380", "10.0.0.5:6380,db=0,password=pw"),
        (
            "rediss://app:s3cr%40t@cache.internal:6380/2",
            "cache.internal:6380,db=2,ssl=true,username=app,password=s3cr@t",
        ),
    ],
)
def test_redis_url_becomes_feasts_connection_string(url: str, expected: str) -> None:
    assert FeastSettings(redis_url=url).redis_connection_string() == expected


def test_a_url_of_another_scheme_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="redis:// or rediss://"):
        FeastSettings(redis_url="http://127.0.0.1:6379").redis_connection_string()
