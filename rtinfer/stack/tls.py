"""TLS material of the native broker's SASL_SSL listener, made once per state dir.

A private CA (its key is thrown away once it has signed), a server certificate for the stack's
host with IP and DNS names, the broker's PKCS12 keystore (key, certificate, CA) with a generated
password, and the CA as PEM for clients (`ssl_cafile`). Remade only when a file is missing, the
certificate expires within a day or no longer names one of the hosts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rtinfer.stack.settings import generated_secret

if TYPE_CHECKING:  # imported when used: only the secured listeners need the package
    from cryptography import x509

VALID_DAYS = 825
KEYSTORE_ALIAS = b"rtinfer-broker"


@dataclass(frozen=True)
class BrokerTls:
    """The files of one state dir's TLS material."""

    directory: Path

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM): what clients trust."""
        return self.directory / "ca.pem"

    @property
    def cert_file(self) -> Path:
        """The server certificate (PEM), kept to check its names and expiry."""
        return self.directory / "broker.pem"

    @property
    def keystore(self) -> Path:
        """The broker's PKCS12 keystore: key, certificate and CA."""
        return self.directory / "broker.p12"

    @property
    def keystore_password_file(self) -> Path:
        return self.directory / "broker.p12.password"

    def keystore_password(self) -> str:
        return generated_secret(self.keystore_password_file)


def ensure_tls(directory: Path, hosts: Iterable[str], *, valid_days: int = VALID_DAYS) -> BrokerTls:
    """The TLS material in `directory` for a server reached as any of `hosts`; made if needed."""
    tls = BrokerTls(directory)
    names = sorted(set(hosts))
    if not _usable(tls, names):
        _generate(tls, names, valid_days)
    return tls


def _usable(tls: BrokerTls, hosts: list[str]) -> bool:
    from cryptography import x509

    files = (tls.ca_file, tls.cert_file, tls.keystore, tls.keystore_password_file)
    if not all(path.exists() for path in files):
        return False
    cert = x509.load_pem_x509_certificate(tls.cert_file.read_bytes())
    if cert.not_valid_after_utc - dt.timedelta(days=1) < dt.datetime.now(dt.UTC):
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    named = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    named |= set(san.get_values_for_type(x509.DNSName))
    return set(hosts) <= named


def _generate(tls: BrokerTls, hosts: list[str], valid_days: int) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    tls.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate a little clock skew
    until = now + dt.timedelta(days=valid_days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rtinfer local stack CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    password = tls.keystore_password().encode()
    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(50_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password)
    )
    keystore = pkcs12.serialize_key_and_certificates(KEYSTORE_ALIAS, key, cert, [ca_cert], encryption)
    _write(tls.keystore, keystore, 0o600)
    _write(tls.cert_file, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    _write(tls.ca_file, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not cert_sign,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write(path: Path, content: bytes, mode: int) -> None:
    """Replace `path` at once (a reader never sees half a file)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as sink:
        sink.write(content)
    partial.replace(path)
