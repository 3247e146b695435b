"""Expected failures of the inventory API, and the error envelope both transports share.

Each class is one failure a client can act on. It carries the GraphQL ``errorType``, a message for a person and
``errorInfo`` with the details. Transports translate them in exactly one place each: the Lambda handler returns
:func:`envelope` (the AppSync wiring turns it into a GraphQL error), the local server raises a GraphQL error with
the same three values.
"""

from __future__ import annotations

from typing import Any, ClassVar

INTERNAL_ERROR_TYPE = "InternalError"
INTERNAL_ERROR_MESSAGE = "An internal error occurred. Try again later; if it persists, contact support."


class InventoryError(Exception):
    """Base class of every expected failure; never raised itself."""

    error_type: ClassVar[str]

    def __init__(self, message: str, info: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.info = info


class ValidationError(InventoryError):
    error_type = "ValidationError"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"Invalid {field}: {reason}.", {"field": field, "reason": reason})


class ItemNotFound(InventoryError):
    error_type = "ItemNotFound"

    def __init__(self, item_id: str) -> None:
        super().__init__(f"No item has id {item_id!r}.", {"id": item_id})


class DuplicateSku(InventoryError):
    error_type = "DuplicateSku"

    def __init__(self, sku: str) -> None:
        super().__init__(f"The sku {sku!r} is already used by another item.", {"sku": sku})


class VersionConflict(InventoryError):
    error_type = "VersionConflict"

    def __init__(self, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"The item was changed since you read it: expected version {expected_version}, current version "
            f"{current_version}. Read the item again and reapply your change.",
            {"expectedVersion": expected_version, "currentVersion": current_version},
        )


class InsufficientStock(InventoryError):
    error_type = "InsufficientStock"

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        """``lines``: one ``{itemId, available, requested}`` per item that lacks stock."""
        short = ", ".join(f"{line['itemId']} has {line['available']}, needs {line['requested']}" for line in lines)
        super().__init__(f"Not enough stock, nothing was changed: {short}.", {"lines": lines})


class IdempotencyConflict(InventoryError):
    error_type = "IdempotencyConflict"

    def __init__(self, key: str, what: str) -> None:
        super().__init__(
            f"The {what} {key!r} was already used with different input. Use a new {what} for a new request.",
            {"key": key},
        )


def envelope(error_type: str, message: str, info: dict[str, Any] | None) -> dict[str, Any]:
    """The shape a Lambda resolver returns instead of a result; the AppSync response handler maps it to util.error."""
    return {"error": {"type": error_type, "message": message, "info": info}}


def error_envelope(error: InventoryError) -> dict[str, Any]:
    return envelope(error.error_type, error.message, error.info)


def internal_error_envelope() -> dict[str, Any]:
    return envelope(INTERNAL_ERROR_TYPE, INTERNAL_ERROR_MESSAGE, None)
