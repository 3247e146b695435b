"""The GraphQL edge's input: parsing of GraphQL arguments (as JSON-shaped dicts) into commands, with every bound of
the contract.

Both transports hand their raw arguments to these functions, so a value is accepted or refused identically on
AppSync and on the local server. Every refusal is a ValidationError naming the argument path (``input.sku``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from inventory.errors import ValidationError
from inventory.model import (
    INBOUND_REASONS,
    MAX_AMOUNT,
    OUTBOUND_REASONS,
    UNSET,
    AdjustStock,
    CreateItem,
    FulfillOrder,
    ItemFilter,
    ItemStatus,
    MovementReason,
    OrderLine,
    Unset,
    UpdateItem,
)

MAX_ORDER_LINES = 25
SKU_MAX, NAME_MAX, DESCRIPTION_MAX, CATEGORY_MAX, REFERENCE_MAX, KEY_MAX = 64, 200, 2_000, 64, 200, 128
ID_MAX = 128  # ids are ours (UUIDs) or the client's order ids; anything longer cannot be one


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


def adjust_stock(raw: Any) -> AdjustStock:
    data = _object(raw, "input")
    delta = _int(data.get("delta"), "input.delta", -MAX_AMOUNT, MAX_AMOUNT)
    if delta == 0:
        raise ValidationError("input.delta", "must not be 0")
    reason = _enum(MovementReason, data.get("reason"), "input.reason")
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
    )


def fulfill_order(raw: Any) -> FulfillOrder:
    data = _object(raw, "input")
    order_id = _text(data.get("orderId"), "input.orderId", KEY_MAX)
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list) or not 1 <= len(raw_lines) <= MAX_ORDER_LINES:
        raise ValidationError("input.lines", f"must hold 1 to {MAX_ORDER_LINES} lines")
    lines: list[OrderLine] = []
    seen: set[str] = set()
    for index, raw_line in enumerate(raw_lines):
        path = f"input.lines[{index}]"
        line = _object(raw_line, path)
        line_item = item_id(line.get("itemId"), f"{path}.itemId")
        if line_item in seen:
            raise ValidationError(f"{path}.itemId", "names an item that an earlier line already names")
        seen.add(line_item)
        lines.append(OrderLine(line_item, _int(line.get("quantity"), f"{path}.quantity", 1, MAX_AMOUNT)))
    return FulfillOrder(order_id=order_id, lines=tuple(lines))
