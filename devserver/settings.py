"""The local server's settings: the same environment variables as the Lambda functions, with local defaults.

``INVENTORY_TABLE_NAME`` defaults to ``inventory``. ``INVENTORY_PAGE_TOKEN_SECRET``, when not set, is generated
once and kept in ``<data dir>/devserver.json`` with the API key and the key that signs local Cognito tokens
(``--auth cognito``), so that a restart keeps them: a frontend's stored key, tokens and nextToken values still work.
The file lives in the data folder (``.local-data/`` by default, ignored by git); delete it to get new ones.
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
    user_pool_secret: str  # HS256 key of the local Cognito tokens (devserver/user_pool.py)


def new_api_key() -> str:
    """A key shaped like AppSync's (``da2-`` and 26 lower-case letters and digits)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "da2-" + "".join(secrets.choice(alphabet) for _ in range(26))


def local_secrets(data_dir: Path) -> LocalSecrets:
    """The secrets kept in ``data_dir``; each one missing (a new folder, or a file from an older version) is created
    and stored, the others are kept."""
    path = data_dir / FILE_NAME
    stored = json.loads(path.read_text()) if path.exists() else {}
    fresh = {
        "apiKey": new_api_key(),
        "pageTokenSecret": secrets.token_urlsafe(32),
        "userPoolSecret": secrets.token_urlsafe(32),
    }
    kept = {**fresh, **stored}
    if kept != stored:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(kept, indent=2))
    return LocalSecrets(kept["apiKey"], kept["pageTokenSecret"], kept["userPoolSecret"])


def inventory_settings(stored: LocalSecrets, env: Mapping[str, str] = os.environ) -> Settings:
    """The service's Settings from the environment, as in Lambda, falling back to the local defaults."""
    return Settings.from_env(
        {
            **env,
            "INVENTORY_TABLE_NAME": env.get("INVENTORY_TABLE_NAME") or DEFAULT_TABLE_NAME,
            "INVENTORY_PAGE_TOKEN_SECRET": env.get("INVENTORY_PAGE_TOKEN_SECRET") or stored.page_token_secret,
        }
    )
