"""The local server's settings: the same environment variables as the Lambda functions, with local defaults.

``INVENTORY_TABLE_NAME`` defaults to ``inventory``. ``INVENTORY_PAGE_TOKEN_SECRET``, when not set, is generated
once and kept in ``<data dir>/devserver.json`` with the API key, so that a restart keeps both: a frontend's stored
key and nextToken values still work. The file lives in the data folder (``.local-data/`` by default, ignored by
git); delete it to get a new key and secret.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from inventory.config import Settings

DEFAULT_TABLE_NAME = "inventory"
FILE_NAME = "devserver.json"


@dataclass(frozen=True)
class LocalSecrets:
    api_key: str
    page_token_secret: str


def new_api_key() -> str:
    """A key shaped like AppSync's (``da2-`` and 26 lower-case letters and digits)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "da2-" + "".join(secrets.choice(alphabet) for _ in range(26))


def local_secrets(data_dir: Path) -> LocalSecrets:
    """The API key and page-token secret kept in ``data_dir``; created on first use."""
    path = data_dir / FILE_NAME
    if path.exists():
        stored = json.loads(path.read_text())
        return LocalSecrets(stored["apiKey"], stored["pageTokenSecret"])
    created = LocalSecrets(new_api_key(), secrets.token_urlsafe(32))
    data_dir.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"apiKey": created.api_key, "pageTokenSecret": created.page_token_secret}, indent=2))
    return created


def inventory_settings(stored: LocalSecrets, env: Mapping[str, str] = os.environ) -> Settings:
    """The service's Settings from the environment, as in Lambda, falling back to the local defaults."""
    return Settings.from_env(
        {
            **env,
            "INVENTORY_TABLE_NAME": env.get("INVENTORY_TABLE_NAME") or DEFAULT_TABLE_NAME,
            "INVENTORY_PAGE_TOKEN_SECRET": env.get("INVENTORY_PAGE_TOKEN_SECRET") or stored.page_token_secret,
        }
    )
