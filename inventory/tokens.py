"""Opaque page tokens: encrypted and authenticated with keys derived from the configured secret.

A token carries the DynamoDB key to resume from and the scope it was issued for (a listing filter, or one item's
movements). Clients see only random-looking bytes: no table keys, ids or skus. A token that was altered, forged,
issued under another secret or reused with another scope is refused as a ValidationError instead of being followed;
nothing but the secret is needed to open one, so tokens survive restarts and cold starts. A function that serves no
pages (the expiry handler) has no secret: asked for a token anyway, it fails with a ConfigurationError, a deployment
mistake, never a client's.

The construction uses the standard library only (the Lambda bundle may depend on nothing but boto3 and Powertools,
and the Python runtime has no ``cryptography``): encrypt-then-MAC.

- Two keys, derived from the secret by HMAC-SHA256 with distinct labels, so neither use can stand for the other.
- Encryption: a random 16-byte nonce; keystream blocks HMAC-SHA256(k_enc, nonce || counter), XORed with the
  plaintext (HMAC as a PRF in counter mode). The plaintext is the JSON of scope and key, raw-deflated to keep
  tokens short (it holds nothing the client cannot see in the page, so its length tells nothing worth hiding).
- Authentication: tag = HMAC-SHA256(k_mac, version || nonce || ciphertext), first 16 bytes, compared in constant
  time before anything is decrypted.

Token = base64url(version || nonce || ciphertext || tag), unpadded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import zlib
from collections.abc import Callable
from typing import Any

from inventory.config import PAGE_TOKEN_SECRET_VARIABLE, ConfigurationError
from inventory.errors import ValidationError

_VERSION = b"\x01"
_NONCE_BYTES = 16  # random: with 128 bits, two tokens never share a keystream
_TAG_BYTES = 16  # 128 bits of HMAC-SHA256: plenty against forgery, keeps tokens short
_BLOCK_BYTES = hashlib.sha256().digest_size
_ENCRYPTION_LABEL = b"inventory page token v1: encryption key"
_AUTHENTICATION_LABEL = b"inventory page token v1: authentication key"
_NOT_ISSUED = "is not a token this API issued"


def _derive(secret: bytes, label: bytes) -> bytes:
    return hmac.new(secret, label, hashlib.sha256).digest()


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: no header or checksum, the tag covers it
    return compressor.compress(data) + compressor.flush()


def _inflate(data: bytes) -> bytes:
    return zlib.decompressobj(-15).decompress(data)


class _Keys:
    def __init__(self, secret: bytes) -> None:
        self._encryption_key = _derive(secret, _ENCRYPTION_LABEL)
        self._authentication_key = _derive(secret, _AUTHENTICATION_LABEL)

    def keystream_xor(self, nonce: bytes, data: bytes) -> bytes:
        stream = b"".join(
            hmac.new(self._encryption_key, nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest()
            for counter in range(-(-len(data) // _BLOCK_BYTES))
        )
        return bytes(a ^ b for a, b in zip(data, stream, strict=False))

    def tag(self, sealed: bytes) -> bytes:
        return hmac.new(self._authentication_key, sealed, hashlib.sha256).digest()[:_TAG_BYTES]


class PageTokens:
    def __init__(self, secret: bytes | None, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self._keys = None if secret is None else _Keys(secret)
        self._random_bytes = random_bytes

    def _required_keys(self) -> _Keys:
        if self._keys is None:
            raise ConfigurationError(
                f"no page-token secret is configured ({PAGE_TOKEN_SECRET_VARIABLE}): this function was set up to "
                "serve no pages, so it can neither issue nor open a nextToken"
            )
        return self._keys

    def issue(self, scope: str, key: dict[str, Any]) -> str:
        keys = self._required_keys()
        plaintext = _deflate(json.dumps({"s": scope, "k": key}, separators=(",", ":"), sort_keys=True).encode())
        nonce = self._random_bytes(_NONCE_BYTES)
        sealed = _VERSION + nonce + keys.keystream_xor(nonce, plaintext)
        return base64.urlsafe_b64encode(sealed + keys.tag(sealed)).decode().rstrip("=")

    def open(self, token: str, scope: str, path: str = "nextToken") -> dict[str, Any]:
        """The resume key inside ``token``; ValidationError unless we issued it for this very scope."""
        keys = self._required_keys()  # before the token is judged: without a secret no token is ours to refuse
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            raise ValidationError(path, _NOT_ISSUED) from None
        sealed, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        # Only the exact text we issued: lenient base64 would accept padded or bit-twiddled variants of a token.
        canonical = base64.urlsafe_b64encode(raw).decode().rstrip("=") == token
        if (
            not canonical
            or len(sealed) <= len(_VERSION) + _NONCE_BYTES
            or not sealed.startswith(_VERSION)
            or not hmac.compare_digest(tag, keys.tag(sealed))
        ):
            raise ValidationError(path, _NOT_ISSUED)
        nonce, ciphertext = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        content = json.loads(_inflate(keys.keystream_xor(nonce, ciphertext)))
        if content["s"] != scope:
            raise ValidationError(path, "belongs to another listing; use it with the same filter it came from")
        key: dict[str, Any] = content["k"]
        return key
