"""The request's context, which every resolver of the mirror reads: the service, the subscriptions, the caller."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devserver.authorization import Access
from devserver.subscriptions import Subscriptions
from inventory.service import InventoryService

Json = dict[str, Any]


@dataclass
class Context:
    """Per HTTP request, or per websocket connection."""

    service: InventoryService
    subscriptions: Subscriptions
    headers: Mapping[str, str] = field(default_factory=dict)
    connection_params: Json | None = None  # the payload of a websocket's connection_init
    access: Access | None = None  # who calls, and what they may reach; None: nothing is checked (--no-auth)
    listening: asyncio.Event | None = None  # set once a subscription of this operation listens (realtime.py)
