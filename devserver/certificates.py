"""The local server's TLS certificates: a certificate authority made on this machine, and the server's certificate
for ``localhost``, ``127.0.0.1`` and ``::1`` signed by it (what mkcert does, without installing anything).

Why: AWS Amplify's GraphQL client opens ``wss://`` whatever the endpoint's scheme, so an Amplify app needs the
server over TLS. A developer trusts the authority once (Node: ``NODE_EXTRA_CA_CERTS``; a browser: import it); it is
kept in ``<data dir>/tls/`` (``.local-data/`` by default, ignored by git) and reused at every start, and the
server's certificate is made again from it when it is missing or about to expire, which needs no new trust.

The authority may sign for loopback names only (a critical name constraint), so that its key, kept unencrypted
beside it, cannot vouch for any other site in a browser that trusts it.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

FOLDER = "tls"
CA_DAYS = 3650  # trusted once, for years
SERVER_DAYS = 365  # browsers refuse longer-lived server certificates (Apple: 825 days at most)
RENEW_DAYS = 30  # a certificate this close to its end is made again at start
DNS_NAMES = ("localhost",)
IP_ADDRESSES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
PERMITTED = (
    x509.DNSName("localhost"),
    x509.IPAddress(ipaddress.ip_network("127.0.0.1/32")),
    x509.IPAddress(ipaddress.ip_network("::1/128")),
)


@dataclass(frozen=True)
class LocalCertificates:
    ca: Path  # the authority's certificate (PEM): the file to trust
    certificate: Path  # the server's certificate (PEM)
    key: Path  # the server's private key (PEM)


def local_certificates(data_dir: Path, now: datetime.datetime | None = None) -> LocalCertificates:
    """The certificates kept in ``<data_dir>/tls/``; the authority is made when missing or expiring, the server's
    certificate when missing, expiring, or not signed by the authority."""
    now = now or datetime.datetime.now(datetime.UTC)
    folder = data_dir / FOLDER
    paths = LocalCertificates(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    ca_key_path = folder / "ca-key.pem"
    ca = _valid(paths.ca, ca_key_path, now)
    if ca is None:
        ca = _authority(now)
        _write(paths.ca, ca_key_path, *ca)
    ca_certificate, ca_key = ca
    if _valid(paths.certificate, paths.key, now, issuer=ca_certificate) is None:
        _write(paths.certificate, paths.key, *_server(ca_certificate, ca_key, now))
    return paths


def fingerprint(certificate: Path) -> str:
    """The SHA-256 fingerprint of a PEM certificate, as browsers show it (hex pairs)."""
    digest = x509.load_pem_x509_certificate(certificate.read_bytes()).fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


def _valid(
    certificate_path: Path,
    key_path: Path,
    now: datetime.datetime,
    *,
    issuer: x509.Certificate | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    """The stored certificate and key, or None when either is missing, unreadable, expiring, or (``issuer``) not
    signed by that authority."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if issuer is not None:
            certificate.verify_directly_issued_by(issuer)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return None
    expiring = certificate.not_valid_after_utc - now < datetime.timedelta(days=RENEW_DAYS)
    if expiring or not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    return certificate, key


def _authority(now: datetime.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "inventory local server"),
            # unique, so that authorities made on several checkouts are told apart in a trust store
            x509.NameAttribute(NameOID.COMMON_NAME, f"inventory local CA {x509.random_serial_number():x}"[:64]),
        ]
    )
    certificate = (
        _builder(name, name, key.public_key(), now, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=list(PERMITTED), excluded_subtrees=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def _server(
    ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, now: datetime.datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    names = [*map(x509.DNSName, DNS_NAMES), *map(x509.IPAddress, IP_ADDRESSES)]
    certificate = (
        _builder(subject, ca.subject, key.public_key(), now, SERVER_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return certificate, key


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime.datetime,
    days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))  # a clock a little behind still accepts it
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """Signing alone (an EC key enciphers nothing): an authority's signs certificates and CRLs too."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _write(
    certificate_path: Path, key_path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> None:
    certificate_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.unlink(missing_ok=True)
    key_path.touch(mode=0o600)  # private keys: readable by their owner only
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
