"""The inventory's records and the commands that change them: immutable named tuples.

Named tuples rather than frozen dataclasses: they are as typed and immutable, and about seven times cheaper to
define, which `make bench` shows in the Lambda cold start (this module holds a dozen of them).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, NamedTuple, TypeVar


class ItemStatus(enum.StrEnum):
    AVAILABLE = "AVAILABLE"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    DISCONTINUED = "DISCONTINUED"


class MovementReason(enum.StrEnum):
    RECEIVED = "RECEIVED"
    SOLD = "SOLD"
    RETURNED = "RETURNED"
    DAMAGED = "DAMAGED"
    CORRECTION = "CORRECTION"


# Which sign a movement of each reason may have: stock comes in, goes out, or (CORRECTION) either way.
INBOUND_REASONS = frozenset({MovementReason.RECEIVED, MovementReason.RETURNED})
OUTBOUND_REASONS = frozenset({MovementReason.SOLD, MovementReason.DAMAGED})


def timestamp(moment: datetime) -> str:
    """AWSDateTime as this API writes it: UTC, millisecond precision, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def status_for(quantity: int, discontinued: bool) -> ItemStatus:
    """The one rule for status: discontinued wins; otherwise OUT_OF_STOCK exactly when nothing is in stock."""
    if discontinued:
        return ItemStatus.DISCONTINUED
    return ItemStatus.OUT_OF_STOCK if quantity == 0 else ItemStatus.AVAILABLE


class Item(NamedTuple):
    id: str
    sku: str
    name: str
    description: str | None
    category: str
    price: Decimal
    quantity: int
    reorder_point: int
    status: ItemStatus
    version: int
    created_at: str
    updated_at: str
    # How many stock movements the item has had: orders its movements and guards stock writes against races.
    stock_revision: int = 0

    @property
    def low_stock(self) -> bool:
        """Discontinued items are never low stock: nobody reorders them."""
        return self.status is not ItemStatus.DISCONTINUED and self.quantity <= self.reorder_point

    def with_stock(self, quantity: int, now: str) -> Item:
        """The item after a stock movement: status follows the quantity, version is untouched."""
        return self._replace(
            quantity=quantity,
            status=status_for(quantity, self.status is ItemStatus.DISCONTINUED),
            stock_revision=self.stock_revision + 1,
            updated_at=now,
        )


class StockMovement(NamedTuple):
    id: str
    item_id: str
    delta: int
    quantity_after: int
    reason: MovementReason
    reference: str | None
    created_at: str
    sequence: int  # the item's stock_revision after this movement


class StockChange(NamedTuple):
    """One item's stock write: the state it was read in, the state to write, and the movement to record."""

    before: Item
    after: Item
    movement: StockMovement


class OrderResult(NamedTuple):
    order_id: str
    movements: tuple[StockMovement, ...]


T = TypeVar("T")


class Page(NamedTuple, Generic[T]):
    items: tuple[T, ...]
    next_token: str | None


# Commands: validated input of one use case each (see inputs.py for the parsing).


class ItemFilter(NamedTuple):
    category: str | None = None
    status: ItemStatus | None = None
    low_stock: bool = False


class CreateItem(NamedTuple):
    sku: str
    name: str
    category: str
    price: Decimal
    quantity: int
    description: str | None
    reorder_point: int | None  # None: the configured default


# Sentinel for "field not given" in UpdateItem, where an explicit None means "clear it".
class Unset(enum.Enum):
    UNSET = "UNSET"


UNSET = Unset.UNSET


class UpdateItem(NamedTuple):
    id: str
    expected_version: int
    name: str | Unset = UNSET
    description: str | Unset | None = UNSET
    category: str | Unset = UNSET
    price: Decimal | Unset = UNSET
    reorder_point: int | Unset = UNSET
    status: ItemStatus | Unset = UNSET


class AdjustStock(NamedTuple):
    item_id: str
    delta: int
    reason: MovementReason
    reference: str | None
    idempotency_key: str


class OrderLine(NamedTuple):
    item_id: str
    quantity: int


class FulfillOrder(NamedTuple):
    order_id: str
    lines: tuple[OrderLine, ...] = ()


class RequestKind(enum.StrEnum):
    """Which mutation a remembered request (idempotency record) belongs to; each has its own key space."""

    ADJUST_STOCK = "adjustStock"
    FULFILL_ORDER = "fulfillOrder"


class RequestRecord(NamedTuple):
    """A stock mutation that was applied: written in the same transaction as its stock changes, so a replay finds
    it exactly when the changes happened."""

    kind: RequestKind
    key: str
    fingerprint: str  # digest of the request's input, to tell a replay from a reuse of the key
    movements: tuple[StockMovement, ...]
    expires_at: int | None  # epoch seconds for DynamoDB TTL; None keeps it (orders)
