"""A throw-away PKI for the TLS tests, made with ``cryptography`` at the start of a test run.

Two CAs (the test CA, and an unrelated one that nothing trusts), and server certificates issued
by the test CA: valid for 127.0.0.1 and localhost, valid for the nginx endpoint's public name,
valid only for another host name, and expired.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.timezone.utc)


@dataclass
class Issued:
    cert: Path
    key: Path


@dataclass
class Pki:
    ca: Path  # the test CA's certificate (PEM): what `tls.ca_file` points at
    other_ca: Path  # a CA that issued nothing the servers use
    local: Issued  # 127.0.0.1, localhost
    public: Issued  # trainers.example.com (the name in docs/deploy.md)
    wrong_host: Issued  # other.test only
    expired: Issued  # 127.0.0.1, expired yesterday


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for n in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            entries.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(entries)


def _issue(
    ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate],
    names: list[str],
    directory: Path,
    stem: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> Issued:
    ca_key, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_san(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    issued = Issued(directory / f"{stem}.pem", directory / f"{stem}.key")
    # The chain file servers present: leaf, then the CA (as nginx's fullchain.pem).
    issued.cert.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    issued.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return issued


def make(directory: Path) -> Pki:
    ca = _ca("wsbridge test CA")
    other = _ca("some other CA")
    (directory / "ca.pem").write_bytes(ca[1].public_bytes(serialization.Encoding.PEM))
    (directory / "other-ca.pem").write_bytes(other[1].public_bytes(serialization.Encoding.PEM))
    valid = (NOW - dt.timedelta(hours=1), NOW + dt.timedelta(days=7))
    return Pki(
        ca=directory / "ca.pem",
        other_ca=directory / "other-ca.pem",
        local=_issue(ca, ["127.0.0.1", "localhost"], directory, "local", *valid),
        public=_issue(ca, ["trainers.example.com"], directory, "public", *valid),
        wrong_host=_issue(ca, ["other.test"], directory, "wrong-host", *valid),
        expired=_issue(
            ca, ["127.0.0.1"], directory, "expired",
            NOW - dt.timedelta(days=30), NOW - dt.timedelta(days=1),
        ),
    )
