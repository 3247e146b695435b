"""Opaque, signed page tokens.

A token carries the DynamoDB key to resume from and the scope it was issued for (a listing filter, or one item's
movements). It is HMAC-signed with the configured secret, so it survives restarts and cold starts, and a token
that was altered, forged or reused with another scope is refused as a ValidationError instead of being followed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from inventory.errors import ValidationError

_SIGNATURE_BYTES = 16  # 128 bits of HMAC-SHA256: plenty against forgery, keeps tokens short


class PageTokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def issue(self, scope: str, key: dict[str, Any]) -> str:
        payload = json.dumps({"s": scope, "k": key}, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(self._sign(payload) + payload).decode().rstrip("=")

    def open(self, token: str, scope: str, path: str = "nextToken") -> dict[str, Any]:
        """The resume key inside ``token``; ValidationError unless we issued it for this very scope."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            raise ValidationError(path, "is not a token this API issued") from None
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        # Only the exact text we issued: lenient base64 would accept padded or bit-twiddled variants of a token.
        canonical = base64.urlsafe_b64encode(raw).decode().rstrip("=") == token
        if (
            not canonical
            or len(signature) < _SIGNATURE_BYTES
            or not hmac.compare_digest(signature, self._sign(payload))
        ):
            raise ValidationError(path, "is not a token this API issued")
        content = json.loads(payload)
        if content["s"] != scope:
            raise ValidationError(path, "belongs to another listing; use it with the same filter it came from")
        key: dict[str, Any] = content["k"]
        return key
