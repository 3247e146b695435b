"""The API's configuration, read once per process from environment variables into a frozen dataclass."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigurationError(RuntimeError):
    """A deployment mistake (a missing or malformed setting): fails the cold start with a clear log line."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    page_token_secret: bytes  # signs nextToken values (HMAC-SHA256); rotate it to invalidate every token
    default_page_size: int = 20
    max_page_size: int = 100
    default_reorder_point: int = 10
    idempotency_ttl_hours: int = 24  # adjustStock keys are remembered at least this long

    def __post_init__(self) -> None:
        if not self.table_name:
            raise ConfigurationError("INVENTORY_TABLE_NAME is empty")
        if len(self.page_token_secret) < 16:
            raise ConfigurationError("INVENTORY_PAGE_TOKEN_SECRET must be at least 16 characters")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ConfigurationError("page sizes must satisfy 1 <= default <= maximum")
        if self.idempotency_ttl_hours < 24:
            raise ConfigurationError("INVENTORY_IDEMPOTENCY_TTL_HOURS must be at least 24")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
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

        return cls(
            table_name=required("INVENTORY_TABLE_NAME"),
            page_token_secret=required("INVENTORY_PAGE_TOKEN_SECRET").encode(),
            default_page_size=number("INVENTORY_DEFAULT_PAGE_SIZE", cls.default_page_size),
            max_page_size=number("INVENTORY_MAX_PAGE_SIZE", cls.max_page_size),
            default_reorder_point=number("INVENTORY_DEFAULT_REORDER_POINT", cls.default_reorder_point),
            idempotency_ttl_hours=number("INVENTORY_IDEMPOTENCY_TTL_HOURS", cls.idempotency_ttl_hours),
        )
