"""The GraphQL edge's errors: the failures a client can act on, the one translation of the model's domain errors
into them (:func:`api_error`), and the error envelope both transports share.

Each class here is one ``errorType`` a client sees: it carries that name, a message for a person and ``errorInfo``
with the details, in the contract's camelCase and argument paths. The model raises domain errors that carry facts
only (model.py); operations.py hands them to :func:`api_error`. Transports translate these errors in exactly one
place each: the Lambda handler returns :func:`envelope` (the AppSync wiring turns it into a GraphQL error), the
local server raises a GraphQL error with the same three values.
"""

from __future__ import annotations

from typing import Any, ClassVar

from inventory import model

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


# The arguments that name a remembered request's key, as clients spell them.
_KEY_ARGUMENTS = {model.RequestKind.ADJUST_STOCK: "idempotencyKey", model.RequestKind.FULFILL_ORDER: "orderId"}
# Only adjustStock's delta can raise a quantity: createItem's quantity is bounded by inputs.py, orders only take.
_RAISING_ARGUMENT = "input.delta"


def api_error(error: model.DomainError) -> InventoryError:
    """The client's view of a domain error."""
    match error:
        case model.ItemNotFound():
            return ItemNotFound(error.item_id)
        case model.DuplicateSku():
            return DuplicateSku(error.sku)
        case model.VersionConflict():
            return VersionConflict(error.expected_version, error.current_version)
        case model.InsufficientStock():
            return InsufficientStock(
                [{"itemId": s.item_id, "available": s.available, "requested": s.requested} for s in error.shortfalls]
            )
        case model.QuantityAboveLimit():
            return ValidationError(_RAISING_ARGUMENT, f"would raise the quantity above {error.limit}")
        case model.IdempotencyConflict():
            return IdempotencyConflict(error.key, _KEY_ARGUMENTS[error.kind])
    raise TypeError(f"no client wording for {type(error).__name__}")  # a new domain error needs its case above


def envelope(error_type: str, message: str, info: dict[str, Any] | None) -> dict[str, Any]:
    """The shape a Lambda resolver returns instead of a result; the AppSync response handler maps it to util.error."""
    return {"error": {"type": error_type, "message": message, "info": info}}


def error_envelope(error: InventoryError) -> dict[str, Any]:
    return envelope(error.error_type, error.message, error.info)


def internal_error_envelope() -> dict[str, Any]:
    return envelope(INTERNAL_ERROR_TYPE, INTERNAL_ERROR_MESSAGE, None)
