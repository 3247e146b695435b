"""The mirror's GraphQL types: schema.graphql's scalars, enums, objects and inputs, with the same descriptions.

Each object type is built from the JSON an operation of :mod:`inventory.operations` returns, or from a mutation
response published to subscribers (which holds only the fields that mutation selected: the others are null and, if
they are non-null in the schema, GraphQL reports it, as on AppSync).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any, NewType, TypeVar, cast

import strawberry
from graphql import GraphQLError
from strawberry import UNSET

from devserver.context import InventoryInfo, Json, arguments, run
from inventory import operations

# AppSync's scalars

AWSDateTime = NewType("AWSDateTime", str)

# Extended ISO 8601, as AppSync accepts it: seconds and 1 to 9 fraction digits optional, the offset required.
_AWS_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}(:\d{2})?)")


def _aws_date_time(value: object) -> str:
    if not isinstance(value, str) or not _AWS_DATE_TIME.fullmatch(value):
        raise GraphQLError(f"AWSDateTime cannot represent {value!r}: expected an extended ISO 8601 date and time.")
    return value


AWS_DATE_TIME = strawberry.scalar(
    name="AWSDateTime",
    description="AppSync's AWSDateTime: an extended ISO 8601 date and time string, such as 2024-05-01T12:30:00.000Z.",
    serialize=_aws_date_time,
    parse_value=_aws_date_time,
)


def _get(data: Mapping[str, Any], name: str) -> Any:
    """A field of an operation's JSON; None when a published mutation response does not hold it."""
    return data.get(name)


T = TypeVar("T")
E = TypeVar("E", bound=enum.Enum)


def _not_null(value: T | None) -> T:
    """A value of a non-null field that may be missing from a subscription payload: GraphQL reports the null."""
    return cast(T, value)


# Enums


@strawberry.enum(
    description="Where an item stands. OUT_OF_STOCK exactly when quantity is 0 and the item is not discontinued."
)
class ItemStatus(enum.Enum):
    AVAILABLE = strawberry.enum_value("AVAILABLE", description="On sale with stock.")
    OUT_OF_STOCK = strawberry.enum_value(
        "OUT_OF_STOCK", description="On sale, none in stock: follows the stock, cannot be set directly."
    )
    DISCONTINUED = strawberry.enum_value(
        "DISCONTINUED", description="No longer sold or reordered; its remaining stock can still move."
    )


@strawberry.enum(description="Why stock moved.")
class MovementReason(enum.Enum):
    RECEIVED = strawberry.enum_value("RECEIVED", description="Stock came in from a supplier (delta > 0).")
    SOLD = strawberry.enum_value("SOLD", description="Stock went to a customer (delta < 0).")
    RETURNED = strawberry.enum_value("RETURNED", description="A customer sent stock back (delta > 0).")
    DAMAGED = strawberry.enum_value("DAMAGED", description="Stock was lost or broken (delta < 0).")
    CORRECTION = strawberry.enum_value("CORRECTION", description="A count corrected the stock (delta of either sign).")


def _enum(kind: type[E], value: Any) -> E:
    return cast(E, None) if value is None else kind(value)


# Object types


@strawberry.type(description="One change of an item's stock, kept for audit.")
class StockMovement:
    id: strawberry.ID = strawberry.field(description="Assigned by the API.")
    item_id: strawberry.ID = strawberry.field(description="The item whose stock moved.")
    delta: int = strawberry.field(description="Units added (positive) or removed (negative).")
    quantity_after: int = strawberry.field(description="The item's quantity right after this movement.")
    reason: MovementReason = strawberry.field(description="Why the stock moved.")
    reference: str | None = strawberry.field(
        description="Free text such as a delivery note or, for orders, the orderId."
    )
    created_at: AWSDateTime = strawberry.field(description="When the movement happened (UTC, millisecond precision).")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StockMovement:
        return cls(
            id=_get(data, "id"),
            item_id=_get(data, "itemId"),
            delta=_get(data, "delta"),
            quantity_after=_get(data, "quantityAfter"),
            reason=_enum(MovementReason, _get(data, "reason")),
            reference=_get(data, "reference"),
            created_at=_get(data, "createdAt"),
        )


@strawberry.type(description="A page of stock movements.")
class StockMovementConnection:
    items: list[StockMovement] = strawberry.field(description="The movements of this page, newest first.")
    next_token: str | None = strawberry.field(description="Pass it back to get the next page; null on the last page.")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StockMovementConnection:
        items = _get(data, "items")
        return cls(
            items=_not_null(None if items is None else [StockMovement.from_json(entry) for entry in items]),
            next_token=_get(data, "nextToken"),
        )


async def item_movements(
    root: Item, info: InventoryInfo, limit: int | None = UNSET, next_token: str | None = UNSET
) -> StockMovementConnection:
    """``Item.movements``: AppSync hands the resolver its parent Item, as its resolver returned it, as the source."""
    if root.published:
        sent = _get(root.source, "movements")
        return _not_null(None if sent is None else StockMovementConnection.from_json(sent))
    page = await run(info, operations.item_movements, root.source, arguments(limit=limit, next_token=next_token))
    return StockMovementConnection.from_json(page)


@strawberry.type(description="An article the business stocks.")
class Item:
    id: strawberry.ID = strawberry.field(description="Assigned by the API when the item is created.")
    sku: str = strawberry.field(
        description="The business's unique code for the item: 1 to 64 characters, no leading or trailing space. "
        "Fixed at creation."
    )
    name: str = strawberry.field(description="1 to 200 characters.")
    description: str | None = strawberry.field(description="Up to 2,000 characters; null when there is none.")
    category: str = strawberry.field(description="1 to 64 characters; listItems can filter on it.")
    price: float = strawberry.field(
        description="Unit price, 0 to 1,000,000,000 with at most 2 decimals, stored exactly."
    )
    quantity: int = strawberry.field(
        description="Units in stock, never below 0. Changed only by adjustStock, fulfillOrder and createItem's "
        "initial quantity."
    )
    reorder_point: int = strawberry.field(description="The stock level at or below which the item is low on stock.")
    status: ItemStatus = strawberry.field(description="AVAILABLE, OUT_OF_STOCK (follows the quantity) or DISCONTINUED.")
    low_stock: bool = strawberry.field(
        description="True when quantity <= reorderPoint and the item is not discontinued."
    )
    version: int = strawberry.field(
        description="Counts changes to the descriptive fields (starts at 1). Stock movements do not change it. "
        "Pass it to updateItem as expectedVersion."
    )
    created_at: AWSDateTime = strawberry.field(description="When the item was created (UTC, millisecond precision).")
    updated_at: AWSDateTime = strawberry.field(
        description="When the item last changed, stock movements included (UTC, millisecond precision)."
    )
    # The JSON this item was built from: the parent AppSync hands to Item.movements as its source.
    source: strawberry.Private[Json]
    # Built from a mutation response sent to subscribers: fields come from that response, no resolver runs.
    published: strawberry.Private[bool] = False

    movements: StockMovementConnection = strawberry.field(
        resolver=item_movements,
        description="The item's stock movements, newest first. limit: 1 to 100, default 20.",
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, published: bool = False) -> Item:
        return cls(
            id=_get(data, "id"),
            sku=_get(data, "sku"),
            name=_get(data, "name"),
            description=_get(data, "description"),
            category=_get(data, "category"),
            price=_get(data, "price"),
            quantity=_get(data, "quantity"),
            reorder_point=_get(data, "reorderPoint"),
            status=_enum(ItemStatus, _get(data, "status")),
            low_stock=_get(data, "lowStock"),
            version=_get(data, "version"),
            created_at=_get(data, "createdAt"),
            updated_at=_get(data, "updatedAt"),
            source=dict(data),
            published=published,
        )

    @classmethod
    def from_optional(cls, data: Mapping[str, Any] | None) -> Item | None:
        return None if data is None else cls.from_json(data)


@strawberry.type(description="A page of items.")
class ItemConnection:
    items: list[Item] = strawberry.field(description="The items of this page, ordered by sku.")
    next_token: str | None = strawberry.field(description="Pass it back to get the next page; null on the last page.")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemConnection:
        return cls(items=[Item.from_json(entry) for entry in data["items"]], next_token=data["nextToken"])


@strawberry.type(description="What fulfillOrder did.")
class OrderResult:
    order_id: strawberry.ID = strawberry.field(description="The order's id, as given.")
    movements: list[StockMovement] = strawberry.field(
        description="One SOLD movement per order line, in the order of the lines."
    )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrderResult:
        return cls(order_id=data["orderId"], movements=[StockMovement.from_json(entry) for entry in data["movements"]])


# Inputs: every optional field defaults to UNSET, so an omitted field stays absent from the arguments.


@strawberry.input(description="Narrows listItems. Give at most one field.")
class ItemFilter:
    category: str | None = strawberry.field(default=UNSET, description="Items of this category.")
    status: ItemStatus | None = strawberry.field(default=UNSET, description="Items with this status.")
    low_stock: bool | None = strawberry.field(
        default=UNSET, description="Only true: items at or below their reorder point (discontinued items excluded)."
    )


@strawberry.input(description="A new item.")
class CreateItemInput:
    sku: str = strawberry.field(
        description="Unique code, 1 to 64 characters, no leading or trailing space. A taken sku gives DuplicateSku."
    )
    name: str = strawberry.field(description="1 to 200 characters.")
    description: str | None = strawberry.field(default=UNSET, description="Up to 2,000 characters.")
    category: str = strawberry.field(description="1 to 64 characters.")
    price: float = strawberry.field(description="0 to 1,000,000,000, at most 2 decimals.")
    quantity: int | None = strawberry.field(
        default=UNSET,
        description="Initial stock, 0 to 1,000,000,000 (default 0). Above 0 it is recorded as a RECEIVED movement.",
    )
    reorder_point: int | None = strawberry.field(
        default=UNSET, description="0 to 1,000,000,000; the configured default (10) when omitted."
    )


@strawberry.input(
    description="Changes to an item's descriptive fields. Give at least one field besides id and expectedVersion."
)
class UpdateItemInput:
    id: strawberry.ID = strawberry.field(description="The item to change.")
    expected_version: int = strawberry.field(
        description="The version you read; a different current version gives VersionConflict."
    )
    name: str | None = strawberry.field(default=UNSET, description="1 to 200 characters; cannot be null.")
    description: str | None = strawberry.field(
        default=UNSET, description="Up to 2,000 characters; an explicit null clears it."
    )
    category: str | None = strawberry.field(default=UNSET, description="1 to 64 characters; cannot be null.")
    price: float | None = strawberry.field(
        default=UNSET, description="0 to 1,000,000,000, at most 2 decimals; cannot be null."
    )
    reorder_point: int | None = strawberry.field(default=UNSET, description="0 to 1,000,000,000; cannot be null.")
    status: ItemStatus | None = strawberry.field(
        default=UNSET,
        description="AVAILABLE or DISCONTINUED. AVAILABLE on an item with no stock makes it OUT_OF_STOCK.",
    )


@strawberry.input(description="A stock movement to apply.")
class AdjustStockInput:
    item_id: strawberry.ID = strawberry.field(description="The item whose stock moves.")
    delta: int = strawberry.field(
        description="Non-zero, at most 1,000,000,000 either way. Stock never goes below 0 (InsufficientStock) nor "
        "above 1,000,000,000."
    )
    reason: MovementReason = strawberry.field(
        description="RECEIVED and RETURNED need delta > 0; SOLD and DAMAGED need delta < 0; CORRECTION takes either."
    )
    reference: str | None = strawberry.field(default=UNSET, description="Up to 200 characters.")
    idempotency_key: str = strawberry.field(
        description="1 to 128 characters, your choice, remembered at least 24 hours. Sending it again with the same "
        "input returns the first movement and applies nothing; with other input gives IdempotencyConflict. A refused "
        "request does not use it up."
    )


@strawberry.input(description="One line of an order.")
class OrderLineInput:
    item_id: strawberry.ID = strawberry.field(description="The item sold; each item at most once per order.")
    quantity: int = strawberry.field(description="Units sold, 1 to 1,000,000,000.")


@strawberry.input(description="An order to take out of stock, all lines or none.")
class FulfillOrderInput:
    order_id: strawberry.ID = strawberry.field(
        description="1 to 128 characters. An order id applies once: sending it again with the same lines returns the "
        "first result; with other lines gives IdempotencyConflict. A refused order does not use it up."
    )
    lines: list[OrderLineInput] = strawberry.field(description="1 to 25 lines.")
