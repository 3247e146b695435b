"""The shape of an AppSync direct resolver event, checked before anything reads it.

AppSync always sends ``info.parentTypeName``, ``info.fieldName`` and ``arguments``; an event without them comes from
a wiring mistake or a direct invocation. It is refused as BadRequest (its own envelope, or one per batch entry)
instead of raising KeyError or TypeError out of the handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from inventory.errors import InventoryError


class BadRequest(InventoryError):
    """The Lambda event is not an AppSync resolver event this function can resolve."""

    error_type = "BadRequest"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Bad request: {reason}.", {"reason": reason})


class Field(NamedTuple):
    parent_type: str
    name: str

    def __str__(self) -> str:
        return f"{self.parent_type}.{self.name}"


def field_of(event: Any) -> Field:
    """The field ``event`` asks to resolve; BadRequest unless the event has the parts a resolver reads."""
    if not isinstance(event, Mapping):
        raise BadRequest("the event must be an object (or, for a batched field, a list of objects)")
    info = event.get("info")
    if not isinstance(info, Mapping):
        raise BadRequest("the event has no info object")
    parent_type, name = info.get("parentTypeName"), info.get("fieldName")
    if not isinstance(parent_type, str) or not parent_type:
        raise BadRequest("the event has no info.parentTypeName")
    if not isinstance(name, str) or not name:
        raise BadRequest("the event has no info.fieldName")
    if not isinstance(event.get("arguments"), Mapping):
        raise BadRequest("the event's arguments must be an object")
    return Field(parent_type, name)
