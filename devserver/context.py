"""What every resolver of the mirror shares: the request's context, the arguments as AppSync hands them to a
resolver, and the call into the service, in a worker thread so that a DynamoDB call never holds up the websockets."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strawberry import UNSET, Info
from strawberry.utils.str_converters import to_camel_case

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


InventoryInfo = Info[Context, None]


def arguments(**values: Any) -> Json:
    """Arguments as AppSync hands them to a resolver: JSON values under their GraphQL names; an omitted argument or
    input field is absent, an explicit null is there (updateItem tells the two apart)."""
    return {to_camel_case(name): _json(value) for name, value in values.items() if value is not UNSET}


def _json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list):
        return [_json(element) for element in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a Strawberry input
        return arguments(**{entry.name: getattr(value, entry.name) for entry in dataclasses.fields(value)})
    return value


async def run(info: InventoryInfo, operation: Callable[..., Any], *operation_arguments: Any) -> Any:
    """``operation(service, *operation_arguments)``: one of inventory.operations, the functions Lambda calls."""
    return await asyncio.to_thread(operation, info.context.service, *operation_arguments)
