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


class LocationNotFound(InventoryError):
    error_type = "LocationNotFound"

    def __init__(self, location_id: str) -> None:
        super().__init__(f"No location has id {location_id!r}.", {"id": location_id})


class DuplicateLocationCode(InventoryError):
    error_type = "DuplicateLocationCode"

    def __init__(self, code: str) -> None:
        super().__init__(f"The code {code!r} is already used by another location.", {"code": code})


class ReservationNotFound(InventoryError):
    error_type = "ReservationNotFound"

    def __init__(self, reservation_id: str) -> None:
        super().__init__(f"No reservation has id {reservation_id!r}.", {"id": reservation_id})


class ReservationNotActive(InventoryError):
    error_type = "ReservationNotActive"

    def __init__(self, reservation_id: str, status: str) -> None:
        super().__init__(
            f"The reservation {reservation_id!r} is {status}, no longer ACTIVE: nothing was changed."
            + (" Reserve the stock again to sell it." if status != "COMMITTED" else ""),
            {"id": reservation_id, "status": status},
        )


class ItemReserved(InventoryError):
    error_type = "ItemReserved"

    def __init__(self, item_id: str, reserved: int) -> None:
        super().__init__(
            f"The item {item_id!r} cannot be deleted while reservations hold {reserved} of its units. Commit or "
            "release them, or let them expire, then delete it.",
            {"id": item_id, "reserved": reserved},
        )


class QuantityConflict(InventoryError):
    error_type = "QuantityConflict"

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        """``lines``: one ``{itemId, expected, actual}`` per line whose compareOnHand differs from the stock."""
        wrong = ", ".join(f"{line['itemId']} has {line['actual']}, not {line['expected']}" for line in lines)
        super().__init__(
            f"The stock changed since it was counted, nothing was changed: {wrong}. Count again and resend.",
            {"lines": lines},
        )


# The arguments that name a remembered request's key, as clients spell them.
_KEY_ARGUMENTS = {
    model.RequestKind.ADJUST_STOCK: "idempotencyKey",
    model.RequestKind.TRANSFER_STOCK: "idempotencyKey",
    model.RequestKind.SET_STOCK: "idempotencyKey",
    model.RequestKind.FULFILL_ORDER: "orderId",
    model.RequestKind.RESERVE_STOCK: "reservationId",
}


def api_error(error: model.DomainError) -> InventoryError:  # noqa: PLR0912 (one case per domain error)
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
            # Only adjustStock's delta and setStock's counts can raise a quantity: createItem's is bounded by
            # inputs.py, and transfers move units between locations of one item.
            field = "input.delta" if error.line is None else f"input.lines[{error.line}].onHand"
            return ValidationError(field, f"would raise the quantity above {error.limit}")
        case model.BelowReserved():
            return ValidationError(
                f"input.lines[{error.line}].onHand",
                f"must be at least {error.reserved}: active reservations hold that many units there",
            )
        case model.QuantityConflict():
            return QuantityConflict(
                [{"itemId": m.item_id, "expected": m.expected, "actual": m.actual} for m in error.mismatches]
            )
        case model.IdempotencyConflict():
            return IdempotencyConflict(error.key, _KEY_ARGUMENTS[error.kind])
        case model.LocationNotFound():
            return LocationNotFound(error.location_id)
        case model.DuplicateLocationCode():
            return DuplicateLocationCode(error.code)
        case model.TooManyLocations():
            return ValidationError("input.code", f"cannot add a location: an API has at most {error.limit}")
        case model.ItemReserved():
            return ItemReserved(error.item_id, error.reserved)
        case model.ReservationNotFound():
            return ReservationNotFound(error.reservation_id)
        case model.ReservationNotActive():
            return ReservationNotActive(error.reservation_id, error.status.value)
    raise TypeError(f"no client wording for {type(error).__name__}")  # a new domain error needs its case above


def envelope(error_type: str, message: str, info: dict[str, Any] | None) -> dict[str, Any]:
    """The shape a Lambda resolver returns instead of a result; the AppSync response handler maps it to util.error."""
    return {"error": {"type": error_type, "message": message, "info": info}}


def error_envelope(error: InventoryError) -> dict[str, Any]:
    return envelope(error.error_type, error.message, error.info)


def internal_error_envelope() -> dict[str, Any]:
    return envelope(INTERNAL_ERROR_TYPE, INTERNAL_ERROR_MESSAGE, None)
