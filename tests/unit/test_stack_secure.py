"""The native stack's optional secured Kafka listeners: the broker properties they add, the SCRAM
user's credential at format time, the TLS material, and what `rtinfer stack env` prints."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import SecretStr, ValidationError

from rtinfer.cli import main
from rtinfer.stack.process import StackError
from rtinfer.stack.servers import (
    SCRAM_ITERATIONS,
    _check_scram_user,
    _kafka_properties,
    _scram_record,
    kafka_server,
    scram_credential,
)
from rtinfer.stack.settings import StackSettings
from rtinfer.stack.tls import BrokerTls, ensure_tls

pytestmark = pytest.mark.unit

JAAS = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
HOSTS = {"127.0.0.1", "localhost"}


def _props(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return dict(pairs)


def _settings(tmp_path: Path, **overrides: object) -> StackSettings:
    return StackSettings(state_dir=tmp_path / "stack", **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> BrokerTls:
    return ensure_tls(tmp_path_factory.mktemp("tls"), HOSTS)


def test_defaults_add_no_listener_and_no_variable(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    props = _props(_kafka_properties(settings, tmp_path / "data"))
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["listener.security.protocol.map"] == "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    assert not [key for key in props if "sasl" in key or "ssl" in key]
    assert not settings.kafka_secured
    assert sorted(settings.service_env()) == [
        "RTINFER_KAFKA_BOOTSTRAP",
        "RTINFER_REDIS_URL",
        "RTINFER_WEAVIATE_GRPC_PORT",
        "RTINFER_WEAVIATE_URL",
    ]
    assert kafka_server(settings).ports == (9092, 9093)


def test_sasl_plaintext_listener_with_scram(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kafka_sasl_port=9094)
    props = _props(_kafka_properties(settings, tmp_path / "data"))
    assert props["listeners"] == (
        "PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9093"
    )
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092,SASL_PLAINTEXT://127.0.0.1:9094"
    assert props["listener.security.protocol.map"] == (
        "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"
    )
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"] == JAAS
    assert not [key for key in props if "ssl" in key.replace("sasl", "")]
    assert kafka_server(settings).ports == (9092, 9093, 9094)


def test_sasl_ssl_listener_names_the_keystore(tmp_path: Path, tls: BrokerTls) -> None:
    settings = _settings(tmp_path, kafka_sasl_port=9094, kafka_sasl_ssl_port=9095)
    props = _props(_kafka_properties(settings, tmp_path / "data", tls))
    assert props["listeners"].split(",") == [
        "PLAINTEXT://127.0.0.1:9092",
        "SASL_PLAINTEXT://127.0.0.1:9094",
        "SASL_SSL://127.0.0.1:9095",
        "CONTROLLER://127.0.0.1:9093",
    ]
    assert "SASL_SSL:SASL_SSL" in props["listener.security.protocol.map"].split(",")
    for listener in ("sasl_plaintext", "sasl_ssl"):
        assert props[f"listener.name.{listener}.scram-sha-512.sasl.jaas.config"] == JAAS
    assert props["listener.name.sasl_ssl.ssl.keystore.type"] == "PKCS12"
    assert props["listener.name.sasl_ssl.ssl.keystore.location"] == str(tls.keystore)
    assert props["listener.name.sasl_ssl.ssl.keystore.password"] == tls.keystore_password()
    assert props["listener.name.sasl_ssl.ssl.key.password"] == tls.keystore_password()
    assert props["listener.name.sasl_ssl.ssl.client.auth"] == "none"
    assert kafka_server(settings).ports == (9092, 9093, 9094, 9095)


def test_sasl_ssl_without_tls_material_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="TLS material"):
        _kafka_properties(_settings(tmp_path, kafka_sasl_ssl_port=9095), tmp_path / "data")


def test_keystore_holds_a_server_certificate_the_ca_signed_for_both_names(tls: BrokerTls) -> None:
    key, cert, extra = pkcs12.load_key_and_certificates(
        tls.keystore.read_bytes(), tls.keystore_password().encode()
    )
    ca = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    assert key is not None and cert is not None
    assert [c.subject for c in extra] == [ca.subject]
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert stat.S_IMODE(tls.keystore.stat().st_mode) == 0o600
    assert stat.S_IMODE(tls.keystore_password_file.stat().st_mode) == 0o600


def test_a_client_trusting_the_ca_completes_a_handshake_and_one_without_does_not(
    tls: BrokerTls, tmp_path: Path
) -> None:
    """A loopback TLS server with the keystore's key and certificate (no Kafka involved)."""
    key, cert, _ = pkcs12.load_key_and_certificates(
        tls.keystore.read_bytes(), tls.keystore_password().encode()
    )
    assert key is not None and cert is not None
    pem = tmp_path / "server.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pem)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        port = listener.getsockname()[1]

        def serve(handshakes: int) -> None:
            for _ in range(handshakes):
                conn, _ = listener.accept()
                try:
                    with server.wrap_socket(conn, server_side=True):
                        pass
                except (ssl.SSLError, OSError):
                    pass  # the refused client
                finally:
                    conn.close()

        worker = threading.Thread(target=serve, args=(3,), daemon=True)
        worker.start()
        trusting = ssl.create_default_context(cafile=str(tls.ca_file))
        for name in ("127.0.0.1", "localhost"):
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                trusting.wrap_socket(raw, server_hostname=name) as secured,
            ):
                assert secured.version() in ("TLSv1.2", "TLSv1.3")
        stranger = ssl.create_default_context()
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            stranger.wrap_socket(raw, server_hostname="127.0.0.1")
        worker.join(timeout=5)


def test_tls_material_is_made_once_and_again_for_a_new_host(tmp_path: Path) -> None:
    first = ensure_tls(tmp_path / "tls", HOSTS)
    ca, keystore = first.ca_file.read_bytes(), first.keystore.read_bytes()
    again = ensure_tls(tmp_path / "tls", HOSTS)
    assert (again.ca_file.read_bytes(), again.keystore.read_bytes()) == (ca, keystore)
    ensure_tls(tmp_path / "tls", {*HOSTS, "10.1.2.3"})
    assert first.ca_file.read_bytes() != ca


def test_password_is_generated_once_per_state_dir_owner_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kafka_sasl_port=9094)
    password = settings.kafka_scram_password().get_secret_value()
    assert len(password) >= 24
    assert settings.kafka_scram_password().get_secret_value() == password
    assert stat.S_IMODE(settings.kafka_sasl_password_file.stat().st_mode) == 0o600
    other = StackSettings(state_dir=tmp_path / "other", kafka_sasl_port=9094)
    assert other.kafka_scram_password().get_secret_value() != password
    given = _settings(tmp_path, kafka_sasl_port=9094, kafka_sasl_password=SecretStr("from-settings"))
    assert given.kafka_scram_password().get_secret_value() == "from-settings"
    assert "from-settings" not in repr(given)


def test_username_that_would_break_the_scram_argument_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        _settings(tmp_path, kafka_sasl_username="alice,password=x")


def test_scram_argument_carries_the_salted_password_not_the_password() -> None:
    salt = b"0123456789abcdef"
    argument = scram_credential("alice", "alice-secret", salt)
    assert "alice-secret" not in argument
    match = re.fullmatch(
        r'SCRAM-SHA-512=\[name=alice,iterations=(\d+),salt="([^"]+)",saltedpassword="([^"]+)"\]', argument
    )
    assert match is not None, argument
    assert int(match[1]) == SCRAM_ITERATIONS >= 4096
    assert base64.b64decode(match[2]) == salt
    assert base64.b64decode(match[3]) == hashlib.pbkdf2_hmac(
        "sha512", b"alice-secret", salt, SCRAM_ITERATIONS
    )


def test_storage_formatted_for_another_user_or_none_is_named(tmp_path: Path) -> None:
    right, other = "pw-right-7f3a", "pw-other-91c2"
    settings = _settings(tmp_path, kafka_sasl_port=9094, kafka_sasl_password=SecretStr(right))
    record = tmp_path / "scram-user.json"
    with pytest.raises(StackError, match="formatted without the SCRAM user"):
        _check_scram_user(settings, record, tmp_path / "data")
    salt = b"salt-salt-salt-1"
    record.write_text(json.dumps(_scram_record("rtinfer", right, salt)))
    _check_scram_user(settings, record, tmp_path / "data")  # the user it was formatted with: fine
    assert right not in record.read_text()
    for name, password in (("rtinfer", other), ("someone", right)):
        record.write_text(json.dumps(_scram_record(name, password, salt)))
        with pytest.raises(StackError, match="name or password differs") as refused:
            _check_scram_user(settings, record, tmp_path / "data")
        assert right not in str(refused.value) and other not in str(refused.value)


def test_stack_env_prints_secured_variables_only_when_on_and_never_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [name for name in os.environ if name.startswith("RTINFER_STACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("RTINFER_STACK_STATE_DIR", str(tmp_path / "stack"))
    assert main(["stack", "env"]) == 0
    assert "SASL" not in capsys.readouterr().out

    monkeypatch.setenv("RTINFER_STACK_KAFKA_SASL_PORT", "9094")
    monkeypatch.setenv("RTINFER_STACK_KAFKA_SASL_SSL_PORT", "9095")
    assert main(["stack", "env"]) == 0
    printed = dict(
        line.removeprefix("export ").split("=", 1) for line in capsys.readouterr().out.splitlines()
    )
    settings = StackSettings()
    assert printed["RTINFER_KAFKA_BOOTSTRAP"] == "127.0.0.1:9092"
    assert printed["RTINFER_KAFKA_SASL_BOOTSTRAP"] == "127.0.0.1:9094"
    assert printed["RTINFER_KAFKA_SASL_SSL_BOOTSTRAP"] == "127.0.0.1:9095"
    assert printed["RTINFER_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert printed["RTINFER_KAFKA_SASL_USERNAME"] == "rtinfer"
    assert printed["RTINFER_KAFKA_SSL_CAFILE"] == str(settings.kafka_ca_file)
    password_file = Path(printed["RTINFER_KAFKA_SASL_PASSWORD_FILE"])
    assert password_file == settings.kafka_sasl_password_file
    password = settings.kafka_scram_password().get_secret_value()  # made now, if not yet
    assert main(["stack", "env"]) == 0
    assert password not in capsys.readouterr().out
