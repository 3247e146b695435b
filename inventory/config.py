"""The API's configuration: environment variables into a frozen dataclass, optionally overlaid with the values the
deployed stack keeps in Parameter Store and Secrets Manager (resolvers/runtime.py fetches those and caches them)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# The deployed functions find their configuration through these variables (set by the CDK stack); without them (tests,
# the local server) the environment variables below are the whole configuration.
PARAMETER_PATH_VARIABLE = "INVENTORY_PARAMETER_PATH"  # e.g. /inventory/prod/config/
PAGE_TOKEN_SECRET_ID_VARIABLE = "INVENTORY_PAGE_TOKEN_SECRET_ID"  # the Secrets Manager secret (ARN) signing nextToken
PAGE_TOKEN_SECRET_VARIABLE = "INVENTORY_PAGE_TOKEN_SECRET"  # the secret's value itself (tests, the local server)
CONFIGURATION_MAX_AGE_VARIABLE = "INVENTORY_CONFIGURATION_MAX_AGE_SECONDS"  # how long fetched values are reused
DEFAULT_CONFIGURATION_MAX_AGE_SECONDS = 300
# The stream handler (resolvers/stream.py) publishes each event to the API and to the bus these name (set by the stack).
GRAPHQL_URL_VARIABLE = "INVENTORY_GRAPHQL_URL"
EVENT_BUS_NAME_VARIABLE = "INVENTORY_EVENT_BUS_NAME"
# The holds queue (SQS): the stream handler sends each new reservation's hold timer there, and the expiry handler
# (resolvers/expiry.py) reads it and sends not-yet-due timers back for another hop (set by the stack for both).
HOLDS_QUEUE_URL_VARIABLE = "INVENTORY_HOLDS_QUEUE_URL"

# The parameters under the path, each standing for the environment variable it overrides.
PARAMETER_VARIABLES: Mapping[str, str] = {
    "default-page-size": "INVENTORY_DEFAULT_PAGE_SIZE",
    "max-page-size": "INVENTORY_MAX_PAGE_SIZE",
    "default-reorder-point": "INVENTORY_DEFAULT_REORDER_POINT",
    "idempotency-ttl-hours": "INVENTORY_IDEMPOTENCY_TTL_HOURS",
}


class ConfigurationError(RuntimeError):
    """A deployment mistake (a missing or malformed setting): fails the cold start with a clear log line."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    # Encrypts and authenticates nextToken values; rotate it to invalidate every token. None in a function that serves
    # no pages (the expiry handler), which then never reads the secret (inventory/tokens.py refuses to use None).
    page_token_secret: bytes | None
    default_page_size: int = 20
    max_page_size: int = 100
    default_reorder_point: int = 10
    idempotency_ttl_hours: int = 24  # adjustStock keys are remembered at least this long

    def __post_init__(self) -> None:
        if not self.table_name:
            raise ConfigurationError("INVENTORY_TABLE_NAME is empty")
        if self.page_token_secret is not None and len(self.page_token_secret) < 16:
            raise ConfigurationError(f"{PAGE_TOKEN_SECRET_VARIABLE} must be at least 16 characters")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ConfigurationError("page sizes must satisfy 1 <= default <= maximum")
        if self.idempotency_ttl_hours < 24:
            raise ConfigurationError("INVENTORY_IDEMPOTENCY_TTL_HOURS must be at least 24")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, *, serves_pages: bool = True) -> Settings:
        """``serves_pages``: the function answers paginated queries, so the page-token secret is required (the
        resolvers, the local server); without it the secret is read only when set (the expiry handler)."""

        def number(name: str, default: int) -> int:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                return int(raw)
            except ValueError:
                raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None

        def required(name: str) -> str:
            value = env.get(name)
            if not value:
                raise ConfigurationError(f"{name} is not set")
            return value

        def page_token_secret() -> bytes | None:
            value = required(PAGE_TOKEN_SECRET_VARIABLE) if serves_pages else env.get(PAGE_TOKEN_SECRET_VARIABLE)
            return value.encode() if value else None

        return cls(
            table_name=required("INVENTORY_TABLE_NAME"),
            page_token_secret=page_token_secret(),
            default_page_size=number("INVENTORY_DEFAULT_PAGE_SIZE", cls.default_page_size),
            max_page_size=number("INVENTORY_MAX_PAGE_SIZE", cls.max_page_size),
            default_reorder_point=number("INVENTORY_DEFAULT_REORDER_POINT", cls.default_reorder_point),
            idempotency_ttl_hours=number("INVENTORY_IDEMPOTENCY_TTL_HOURS", cls.idempotency_ttl_hours),
        )

    @classmethod
    def from_sources(
        cls,
        env: Mapping[str, str],
        parameters: Mapping[str, str],
        page_token_secret: str | None,
        *,
        serves_pages: bool = True,
    ) -> Settings:
        """The environment overlaid with Parameter Store values (named as in PARAMETER_VARIABLES, relative to the
        path; other names are ignored) and the page-token secret, validated like :meth:`from_env`."""
        merged = dict(env)
        merged.update(
            {PARAMETER_VARIABLES[name]: value for name, value in parameters.items() if name in PARAMETER_VARIABLES}
        )
        if page_token_secret is not None:
            merged[PAGE_TOKEN_SECRET_VARIABLE] = page_token_secret
        return cls.from_env(merged, serves_pages=serves_pages)
