"""The GraphQL edge's input: parsing of GraphQL arguments (as JSON-shaped dicts) into commands, with every bound of
the contract.

Both transports hand their raw arguments to these functions, so a value is accepted or refused identically on
AppSync and on the local server. Every refusal is a ValidationError naming the argument path (``input.sku``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from inventory.errors import ValidationError
from inventory.model import (
    DEFAULT_HOLD_SECONDS,
    INBOUND_REASONS,
    MAIN_LOCATION_ID,
    MAX_AMOUNT,
    OUTBOUND_REASONS,
    TRANSFER_REASONS,
    UNSET,
    AdjustStock,
    CountLine,
    CreateItem,
    CreateLocation,
    FulfillOrder,
    ItemFilter,
    ItemStatus,
    MovementReason,
    OrderLine,
    ReserveStock,
    SetStock,
    TransferStock,
    Unset,
    UpdateItem,
    UpdateLocation,
)

MAX_ORDER_LINES = 25
SKU_MAX, NAME_MAX, DESCRIPTION_MAX, CATEGORY_MAX, REFERENCE_MAX, KEY_MAX = 64, 200, 2_000, 64, 200, 128
ID_MAX = 128  # ids are ours (UUIDs) or the client's order ids; anything longer cannot be one
MAX_HOLD_SECONDS = 86_400
LOCATION_CODE = re.compile(r"[A-Z0-9-]{1,32}")


def _text(value: Any, path: str, max_length: int, min_length: int = 1) -> str:
    if not isinstance(value, str):
        raise ValidationError(path, "must be a string")
    if not min_length <= len(value) <= max_length:
        raise ValidationError(path, f"must be {min_length} to {max_length} characters long")
    if not value.isascii():
        _check_unicode(value, path)
    return value


def _check_unicode(value: str, path: str) -> None:
    # JSON may escape a lone UTF-16 surrogate ("\ud800"); it is no character, cannot be stored as UTF-8 (moto
    # fails, DynamoDB Local stores it anyway) and would make keys and fingerprints differ from what the client sent.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(path, "must be valid Unicode text: it holds a lone UTF-16 surrogate") from None


def _trimmed_text(value: Any, path: str, max_length: int) -> str:
    text = _text(value, path, max_length)
    if text != text.strip():
        raise ValidationError(path, "must not start or end with white space")
    return text


def _optional_text(value: Any, path: str, max_length: int) -> str | None:
    return None if value is None else _text(value, path, max_length, min_length=0)


def _int(value: Any, path: str, low: int, high: int) -> int:
    # bool is an int in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(path, "must be an integer")
    if not low <= value <= high:
        raise ValidationError(path, f"must be between {low} and {high}")
    return value


def _price(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError(path, "must be a number")
    try:
        # repr of a float is its shortest round-trip form: 0.1 becomes Decimal("0.1"), not the binary expansion.
        price = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValidationError(path, "must be a number") from None
    if not price.is_finite() or not 0 <= price <= MAX_AMOUNT:
        raise ValidationError(path, f"must be between 0 and {MAX_AMOUNT}")
    if price != price.quantize(Decimal("0.01")):
        raise ValidationError(path, "must have at most 2 decimal places")
    return price.normalize() if price != 0 else Decimal(0)


E = TypeVar("E", ItemStatus, MovementReason)


def _enum(kind: type[E], value: Any, path: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValidationError(path, f"must be one of {allowed}") from None


def _object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(path, "must be an object")
    return value


def item_id(value: Any, path: str = "id") -> str:
    return _text(value, path, ID_MAX)


def limit(value: Any, default: int, maximum: int, path: str = "limit") -> int:
    return default if value is None else _int(value, path, 1, maximum)


def next_token(value: Any, path: str = "nextToken") -> str | None:
    return None if value is None else _text(value, path, 4_096)


def sku_or_none(value: Any) -> str | None:
    """getItemBySku: a sku that breaks the bounds cannot exist, so the lookup answers null rather than an error."""
    try:
        return _trimmed_text(value, "sku", SKU_MAX)
    except ValidationError:
        return None


def create_item(raw: Any) -> CreateItem:
    data = _object(raw, "input")
    reorder_point = data.get("reorderPoint")
    return CreateItem(
        sku=_trimmed_text(data.get("sku"), "input.sku", SKU_MAX),
        name=_text(data.get("name"), "input.name", NAME_MAX),
        category=_text(data.get("category"), "input.category", CATEGORY_MAX),
        price=_price(data.get("price"), "input.price"),
        quantity=_int(0 if data.get("quantity") is None else data["quantity"], "input.quantity", 0, MAX_AMOUNT),
        description=_optional_text(data.get("description"), "input.description", DESCRIPTION_MAX),
        reorder_point=None if reorder_point is None else _int(reorder_point, "input.reorderPoint", 0, MAX_AMOUNT),
        location_id=location_id(data.get("locationId"), "input.locationId"),
    )


_REQUIRED_UPDATE_FIELDS = ("name", "category", "price", "reorderPoint", "status")


def update_item(raw: Any) -> UpdateItem:
    data = _object(raw, "input")
    if not any(key in data for key in (*_REQUIRED_UPDATE_FIELDS, "description")):
        raise ValidationError("input", "give at least one field to change besides id and expectedVersion")
    for key in _REQUIRED_UPDATE_FIELDS:
        if key in data and data[key] is None:
            raise ValidationError(f"input.{key}", "cannot be null: the field is required")
    status: ItemStatus | Unset = UNSET
    if "status" in data:
        status = _enum(ItemStatus, data["status"], "input.status")
        if status is ItemStatus.OUT_OF_STOCK:
            raise ValidationError("input.status", "must be AVAILABLE or DISCONTINUED: OUT_OF_STOCK follows the stock")
    return UpdateItem(
        id=item_id(data.get("id"), "input.id"),
        expected_version=_int(data.get("expectedVersion"), "input.expectedVersion", 1, 2**31 - 1),
        name=_text(data["name"], "input.name", NAME_MAX) if "name" in data else UNSET,
        description=(
            _optional_text(data["description"], "input.description", DESCRIPTION_MAX)
            if "description" in data
            else UNSET
        ),
        category=_text(data["category"], "input.category", CATEGORY_MAX) if "category" in data else UNSET,
        price=_price(data["price"], "input.price") if "price" in data else UNSET,
        reorder_point=(
            _int(data["reorderPoint"], "input.reorderPoint", 0, MAX_AMOUNT) if "reorderPoint" in data else UNSET
        ),
        status=status,
    )


def item_filter(raw: Any) -> ItemFilter:
    if raw is None:
        return ItemFilter()
    data = {key: value for key, value in _object(raw, "filter").items() if value is not None}
    if len(data) > 1:
        raise ValidationError("filter", "give at most one of category, status and lowStock")
    if "lowStock" in data and data["lowStock"] is not True:
        raise ValidationError("filter.lowStock", "only true is supported")
    unknown = set(data) - {"category", "status", "lowStock"}
    if unknown:
        raise ValidationError(f"filter.{sorted(unknown)[0]}", "is not a filter field")
    return ItemFilter(
        category=_text(data["category"], "filter.category", CATEGORY_MAX) if "category" in data else None,
        status=_enum(ItemStatus, data["status"], "filter.status") if "status" in data else None,
        low_stock="lowStock" in data,
    )


def location_id(value: Any, path: str) -> str:
    """An optional location: omitted or null is MAIN."""
    return MAIN_LOCATION_ID if value is None else item_id(value, path)


def adjust_stock(raw: Any) -> AdjustStock:
    data = _object(raw, "input")
    delta = _int(data.get("delta"), "input.delta", -MAX_AMOUNT, MAX_AMOUNT)
    if delta == 0:
        raise ValidationError("input.delta", "must not be 0")
    reason = _enum(MovementReason, data.get("reason"), "input.reason")
    if reason in TRANSFER_REASONS:
        raise ValidationError("input.reason", "cannot be a transfer: only transferStock makes transfer movements")
    if reason in INBOUND_REASONS and delta < 0:
        raise ValidationError("input.delta", f"must be positive for {reason.value}")
    if reason in OUTBOUND_REASONS and delta > 0:
        raise ValidationError("input.delta", f"must be negative for {reason.value}")
    return AdjustStock(
        item_id=item_id(data.get("itemId"), "input.itemId"),
        delta=delta,
        reason=reason,
        reference=_optional_text(data.get("reference"), "input.reference", REFERENCE_MAX),
        idempotency_key=_text(data.get("idempotencyKey"), "input.idempotencyKey", KEY_MAX),
        location_id=location_id(data.get("locationId"), "input.locationId"),
    )


def fulfill_order(raw: Any) -> FulfillOrder:
    data = _object(raw, "input")
    return FulfillOrder(
        order_id=_text(data.get("orderId"), "input.orderId", KEY_MAX),
        lines=_lines(data, _order_line),
        location_id=location_id(data.get("locationId"), "input.locationId"),
    )


def create_location(raw: Any) -> CreateLocation:
    data = _object(raw, "input")
    code = _text(data.get("code"), "input.code", 32)
    if not LOCATION_CODE.fullmatch(code):
        raise ValidationError("input.code", "must hold only capital letters A-Z, digits and '-'")
    return CreateLocation(code=code, name=_text(data.get("name"), "input.name", NAME_MAX))


def update_location(raw: Any) -> UpdateLocation:
    data = _object(raw, "input")
    return UpdateLocation(id=item_id(data.get("id"), "input.id"), name=_text(data.get("name"), "input.name", NAME_MAX))


def reserve_stock(raw: Any) -> ReserveStock:
    data = _object(raw, "input")
    seconds = data.get("expiresInSeconds")
    return ReserveStock(
        reservation_id=_text(data.get("reservationId"), "input.reservationId", KEY_MAX),
        lines=_lines(data, _order_line),
        location_id=location_id(data.get("locationId"), "input.locationId"),
        expires_in_seconds=(
            DEFAULT_HOLD_SECONDS if seconds is None else _int(seconds, "input.expiresInSeconds", 1, MAX_HOLD_SECONDS)
        ),
        reference=_optional_text(data.get("reference"), "input.reference", REFERENCE_MAX),
    )


def transfer_stock(raw: Any) -> TransferStock:
    data = _object(raw, "input")
    key = _text(data.get("idempotencyKey"), "input.idempotencyKey", KEY_MAX)
    source = item_id(data.get("fromLocationId"), "input.fromLocationId")
    destination = item_id(data.get("toLocationId"), "input.toLocationId")
    if source == destination:
        raise ValidationError("input.toLocationId", "must differ from fromLocationId")
    return TransferStock(
        idempotency_key=key,
        from_location_id=source,
        to_location_id=destination,
        lines=_lines(data, _order_line),
        reference=_optional_text(data.get("reference"), "input.reference", REFERENCE_MAX),
    )


def set_stock(raw: Any) -> SetStock:
    data = _object(raw, "input")
    return SetStock(
        idempotency_key=_text(data.get("idempotencyKey"), "input.idempotencyKey", KEY_MAX),
        lines=_lines(data, _count_line),
        location_id=location_id(data.get("locationId"), "input.locationId"),
        reference=_optional_text(data.get("reference"), "input.reference", REFERENCE_MAX),
    )


def _order_line(line_item: str, line: Mapping[str, Any], path: str) -> OrderLine:
    return OrderLine(line_item, _int(line.get("quantity"), f"{path}.quantity", 1, MAX_AMOUNT))


def _count_line(line_item: str, line: Mapping[str, Any], path: str) -> CountLine:
    compare = line.get("compareOnHand")
    return CountLine(
        line_item,
        _int(line.get("onHand"), f"{path}.onHand", 0, MAX_AMOUNT),
        None if compare is None else _int(compare, f"{path}.compareOnHand", 0, MAX_AMOUNT),
    )


L = TypeVar("L", OrderLine, CountLine)


def _lines(data: Mapping[str, Any], parse: Callable[[str, Mapping[str, Any], str], L]) -> tuple[L, ...]:
    """``input.lines``: 1 to MAX_ORDER_LINES objects, each naming a different item, parsed one after the other."""
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_ORDER_LINES:
        raise ValidationError("input.lines", f"must hold 1 to {MAX_ORDER_LINES} lines")
    lines = []
    seen: set[str] = set()
    for index, raw_line in enumerate(raw_lines):
        path = f"input.lines[{index}]"
        line = _object(raw_line, path)
        line_item = item_id(line.get("itemId"), f"{path}.itemId")
        if line_item in seen:
            raise ValidationError(f"{path}.itemId", "names an item that an earlier line already names")
        seen.add(line_item)
        lines.append(parse(line_item, line, path))
    return tuple(lines)
