"""A local stand-in for the stack's Cognito user pool: tokens with a Cognito access token's claims (``sub``,
``username``, ``cognito:groups``, ``exp``), signed with HS256 by a key kept in the data folder's devserver.json.

Cognito signs with RS256 keys of its own; what the local server needs is only that a token it did not issue, or one
that expired, is refused as AppSync refuses it (HTTP 401 ``UnauthorizedException``), and that the groups a token
carries decide what it may do. ``python -m devserver token`` mints one.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
ISSUER = "inventory-devserver"
GROUPS_CLAIM = "cognito:groups"
DEFAULT_LIFETIME_SECONDS = 3600  # Cognito's default access token validity: one hour
_SUBJECTS = uuid.UUID("6f1c0c43-58a5-4c5e-9a57-3b3c5d0e2a61")  # namespace: one stable sub per username
# AppSync's messages for a token it refuses (HTTP 401): one that expired, and any other it cannot accept.
EXPIRED = "Token has expired."
NOT_VALID = "Valid authorization header not provided."


class InvalidToken(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SignedInUser:
    sub: str
    username: str
    groups: frozenset[str]


def mint(
    secret: str,
    *,
    username: str,
    groups: Sequence[str] = (),
    lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
    now: float | None = None,
) -> str:
    """A token for ``username``, member of ``groups``; like Cognito, no groups claim when there is no group."""
    issued_at = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": str(uuid.uuid5(_SUBJECTS, username)),
        "username": username,
        "token_use": "access",
        "iss": ISSUER,
        "iat": issued_at,
        "exp": issued_at + lifetime_seconds,
    }
    if groups:
        claims[GROUPS_CLAIM] = list(groups)
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str) -> SignedInUser:
    """The user a token names, if this server signed it and it has not expired; :class:`InvalidToken` otherwise.

    As on AppSync, the ``Authorization`` header holds the token alone: ``Bearer <token>`` is not a token.
    """
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # only HS256: a token signed otherwise (or "none") is refused
            issuer=ISSUER,
            options={"require": ["sub", "username", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken(EXPIRED) from None
    except jwt.InvalidTokenError:
        raise InvalidToken(NOT_VALID) from None
    groups = claims.get(GROUPS_CLAIM, [])
    if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
        raise InvalidToken(NOT_VALID)
    return SignedInUser(str(claims["sub"]), str(claims["username"]), frozenset(groups))
