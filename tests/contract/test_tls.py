"""The local server over TLS (``--tls-port``, on by default at 4443): its certificates (devserver/certificates.py),
made once and kept in the data folder, and ``python -m devserver`` serving the same app over HTTPS and WSS beside
plain HTTP, with one set of subscribers for both, to clients that trust the local CA and to no others."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import json
import ssl
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from devserver.certificates import RENEW_DAYS, SERVER_DAYS, fingerprint, local_certificates
from devserver.dynamodb_local import free_port
from tests.contract.http_client import post
from tests.contract.server import ServerProcess

Json = dict[str, Any]

WAIT = 30.0  # a bound on waiting for a message, never an assertion about time
SEEDED_SKU = "GRD-HOSE-25"  # devserver/seed.py: 30 in stock
MOVEMENT = "subscription($itemId: ID) { onStockMovement(itemId: $itemId) { itemId delta reason reference } }"


def _verify(ca: Path, certificate: Path, name: x509.DNSName | x509.IPAddress, now: datetime.datetime) -> None:
    """Path validation as a TLS client does it (RFC 5280 with the CA/Browser Forum's profile); raises when refused."""
    authority = x509.load_pem_x509_certificate(ca.read_bytes())
    leaf = x509.load_pem_x509_certificate(certificate.read_bytes())
    verifier = PolicyBuilder().store(Store([authority])).time(now).build_server_verifier(name)
    verifier.verify(leaf, [])


def _files(data_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((data_dir / "tls").iterdir())}


def test_certificates_are_made_once_for_the_loopback_names_and_reused(tmp_path: Path) -> None:
    made = local_certificates(tmp_path)
    now = datetime.datetime.now(datetime.UTC)
    for name in ("localhost", "127.0.0.1", "::1"):
        _verify(made.ca, made.certificate, _name(name), now)
    with pytest.raises(VerificationError):
        _verify(made.ca, made.certificate, _name("example.com"), now)
    first = _files(tmp_path)
    assert local_certificates(tmp_path) == made
    assert _files(tmp_path) == first  # nothing made again: the CA a developer trusted stays the one in use
    for key in ("ca-key.pem", "server-key.pem"):
        assert (tmp_path / "tls" / key).stat().st_mode & 0o077 == 0  # the owner's alone


def test_an_expiring_server_certificate_is_made_again_by_the_same_authority(tmp_path: Path) -> None:
    made = local_certificates(tmp_path)
    ca, certificate = made.ca.read_bytes(), made.certificate.read_bytes()
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=SERVER_DAYS - RENEW_DAYS + 1)
    local_certificates(tmp_path, now=later)
    assert made.ca.read_bytes() == ca
    assert made.certificate.read_bytes() != certificate
    _verify(made.ca, made.certificate, _name("localhost"), later)


def test_a_lost_authority_is_made_again_with_a_server_certificate_it_signed(tmp_path: Path) -> None:
    made = local_certificates(tmp_path)
    before = fingerprint(made.ca)
    made.ca.unlink()
    local_certificates(tmp_path)
    assert fingerprint(made.ca) != before
    _verify(made.ca, made.certificate, _name("localhost"), datetime.datetime.now(datetime.UTC))


def test_the_authority_cannot_vouch_for_another_site_even_with_its_key(tmp_path: Path) -> None:
    # Its key lies unencrypted in the data folder: what it signs for any other name than this machine's is refused.
    made = local_certificates(tmp_path)
    now = datetime.datetime.now(datetime.UTC)
    _verify(made.ca, _signed_by_the_authority(tmp_path, "localhost", now), _name("localhost"), now)
    with pytest.raises(VerificationError, match="name constraint"):
        _verify(made.ca, _signed_by_the_authority(tmp_path, "bank.example", now), _name("bank.example"), now)


def _signed_by_the_authority(data_dir: Path, name: str, now: datetime.datetime) -> Path:
    """A server certificate for ``name`` made with the stored CA key, as anyone who read it could: its path."""
    folder = data_dir / "tls"
    authority = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((folder / "ca-key.pem").read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(authority.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    path = data_dir / f"{name}.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def _name(name: str) -> x509.DNSName | x509.IPAddress:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _b64(value: Json) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


async def _receive(connection: websockets.ClientConnection) -> Json:
    message: Json = json.loads(await asyncio.wait_for(connection.recv(), WAIT))
    return message


async def _appsync_subscriber(url: str, key: str, item_id: str, context: ssl.SSLContext | None) -> Any:
    """An AppSync real-time connection to ``url`` with a started onStockMovement(itemId), once the server says it
    listens (start_ack)."""
    host = url.split("/")[2]
    header = _b64({"host": host, "x-api-key": key})
    connection = await websockets.connect(
        f"{url}?header={header}&payload={_b64({})}",
        subprotocols=[websockets.Subprotocol("graphql-ws")],
        ssl=context,
    )
    await connection.send(json.dumps({"type": "connection_init"}))
    assert (await _receive(connection))["type"] == "connection_ack"
    assert await _receive(connection) == {"type": "ka"}
    payload = {
        "data": json.dumps({"query": MOVEMENT, "variables": {"itemId": item_id}}),
        "extensions": {"authorization": {"host": host, "x-api-key": key}},
    }
    await connection.send(json.dumps({"id": "1", "type": "start", "payload": payload}))
    assert await _receive(connection) == {"type": "start_ack", "id": "1"}
    return connection


def test_the_tls_port_serves_the_same_api_and_subscribers_to_clients_that_trust_the_local_ca(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", "--memory", "--seed", tls_port=free_port()) as server:
        tls_port = server.tls_port
        assert server.banner("HTTPS").split()[0] == server.tls_url == f"https://localhost:{tls_port}/graphql"
        assert server.banner("WSS").split()[0] == f"wss://localhost:{tls_port}/graphql/realtime"
        assert server.ca_certificate == (tmp_path / "data" / "tls" / "ca.pem").resolve()
        assert f"NODE_EXTRA_CA_CERTS={server.ca_certificate}" in server.banner("Trust it")
        trusted = ssl.create_default_context(cafile=server.ca_certificate)
        query = "query($sku: String!) { getItemBySku(sku: $sku) { id } }"
        item_id = post(server.tls_url, server.api_key, query, {"sku": SEEDED_SKU}, trusted)["data"]["getItemBySku"]
        item_id = item_id["id"]

        # A client that does not trust the local CA is refused by its own TLS check.
        with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
            post(server.tls_url, server.api_key, query, {"sku": SEEDED_SKU}, ssl.create_default_context())

        async def scenario() -> None:
            secure = await _appsync_subscriber(
                f"wss://localhost:{tls_port}/graphql/realtime", server.api_key, item_id, trusted
            )
            plain = await _appsync_subscriber(f"{server.ws_url}/realtime", server.api_key, item_id, None)
            # graphql-transport-ws is served over TLS too
            async with websockets.connect(
                f"wss://localhost:{tls_port}/graphql",
                subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
                ssl=trusted,
            ) as transport_ws:
                await transport_ws.send(
                    json.dumps({"type": "connection_init", "payload": {"x-api-key": server.api_key}})
                )
                assert await _receive(transport_ws) == {"type": "connection_ack"}
            # One app behind both ports: a sale over either is heard by the subscribers of both.
            for url, context in ((server.url, None), (server.tls_url, trusted)):
                reference = f"order-{uuid.uuid4().hex[:8]}"
                lines = [{"itemId": item_id, "quantity": 1}]
                sale = "mutation($input: FulfillOrderInput!) { fulfillOrder(input: $input) { orderId } }"
                await asyncio.to_thread(
                    post, url, server.api_key, sale, {"input": {"orderId": reference, "lines": lines}}, context
                )
                for connection in (secure, plain):
                    heard = await _receive(connection)
                    assert heard["type"] == "data"
                    event = heard["payload"]["data"]["onStockMovement"]
                    assert (event["itemId"], event["delta"], event["reason"]) == (item_id, -1, "SOLD")
            await secure.close()
            await plain.close()

        asyncio.run(scenario())

        # The loopback-only Host check holds on the TLS port too.
        request = urllib.request.Request(
            server.tls_url, b"{}", {"host": "evil.example", "content-type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=WAIT, context=trusted)
        assert refused.value.code == 403


def test_a_second_start_reuses_the_local_ca_and_certificate(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data", "--memory", tls_port=free_port()) as first:
        ca = fingerprint(first.ca_certificate)
    server_certificate = (tmp_path / "data" / "tls" / "server.pem").read_bytes()
    with ServerProcess(tmp_path / "data", "--memory", tls_port=free_port()) as second:
        assert fingerprint(second.ca_certificate) == ca  # trusted once, trusted still
        assert (tmp_path / "data" / "tls" / "server.pem").read_bytes() == server_certificate
        trusted = ssl.create_default_context(cafile=second.ca_certificate)
        assert post(second.tls_url, second.api_key, "{ listLocations { id } }", {}, trusted)["data"]
