"""The inventory's model: its records, the commands that change them, and the rules they obey (stock arithmetic,
status, low stock, the quantity bound), raising the domain errors below. It knows nothing of GraphQL or DynamoDB:
errors carry domain facts, and the edge (errors.py) words them for clients.

Named tuples rather than frozen dataclasses: they are as typed and immutable, and about seven times cheaper to
define, which `make bench` shows in the Lambda cold start (this module holds a dozen of them).
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Generic, NamedTuple, TypeVar


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

MAX_AMOUNT = 1_000_000_000  # quantity, reorder point, |delta| and price share this upper bound


# Domain errors: one per expected refusal, carrying the facts; errors.py shapes them for clients.


class DomainError(Exception):
    """Base class of the refusals the rules make; never raised itself."""


class ItemNotFound(DomainError):
    def __init__(self, item_id: str) -> None:
        super().__init__(item_id)
        self.item_id = item_id


class DuplicateSku(DomainError):
    def __init__(self, sku: str) -> None:
        super().__init__(sku)
        self.sku = sku


class VersionConflict(DomainError):
    def __init__(self, expected_version: int, current_version: int) -> None:
        super().__init__(expected_version, current_version)
        self.expected_version = expected_version
        self.current_version = current_version


class Shortfall(NamedTuple):
    item_id: str
    available: int
    requested: int


class InsufficientStock(DomainError):
    """Stock would go below 0: one shortfall per item that lacks stock."""

    def __init__(self, shortfalls: tuple[Shortfall, ...]) -> None:
        super().__init__(shortfalls)
        self.shortfalls = shortfalls


class QuantityAboveLimit(DomainError):
    """A movement would raise an item's quantity above MAX_AMOUNT."""

    def __init__(self, item_id: str, quantity: int) -> None:
        super().__init__(item_id, quantity)
        self.item_id = item_id
        self.quantity = quantity
        self.limit = MAX_AMOUNT


class IdempotencyConflict(DomainError):
    """A request key already used with different input."""

    def __init__(self, kind: RequestKind, key: str) -> None:
        super().__init__(kind, key)
        self.kind = kind
        self.key = key


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

    def shortfall(self, requested: int) -> Shortfall | None:
        """What taking ``requested`` out of stock would lack, if anything."""
        return Shortfall(self.id, self.quantity, requested) if self.quantity < requested else None

    def moved(
        self, delta: int, reason: MovementReason, reference: str | None, now: str, movement_id: str
    ) -> StockChange:
        """The stock change of one movement: the item after it (status follows the quantity, version is untouched)
        and the movement recorded. Stock never goes below 0 nor above MAX_AMOUNT."""
        quantity = self.quantity + delta
        if quantity < 0:
            raise InsufficientStock((Shortfall(self.id, self.quantity, -delta),))
        if quantity > MAX_AMOUNT:
            raise QuantityAboveLimit(self.id, quantity)
        after = self._replace(
            quantity=quantity,
            status=status_for(quantity, self.status is ItemStatus.DISCONTINUED),
            stock_revision=self.stock_revision + 1,
            updated_at=now,
        )
        movement = StockMovement(movement_id, self.id, delta, quantity, reason, reference, now, after.stock_revision)
        return StockChange(self, after, movement)

    def edited(self, command: UpdateItem, now: str) -> Item:
        """The item after an edit: given fields replaced, status recomputed, version bumped."""
        changes: dict[str, Any] = {
            name: value
            for name, value in (
                ("name", command.name),
                ("description", command.description),
                ("category", command.category),
                ("price", command.price),
                ("reorder_point", command.reorder_point),
            )
            if value is not UNSET
        }
        discontinued = (
            self.status is ItemStatus.DISCONTINUED
            if command.status is UNSET
            else command.status is ItemStatus.DISCONTINUED
        )
        return self._replace(
            **changes, status=status_for(self.quantity, discontinued), version=self.version + 1, updated_at=now
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

    def matches(self, item: Item) -> bool:
        if self.category is not None:
            return item.category == self.category
        if self.status is not None:
            return item.status is self.status
        if self.low_stock:
            return item.low_stock
        return True


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

    @property
    def fingerprint(self) -> str:
        # These key names are part of the records of requests applied before (their digest is stored), so they
        # stay as first written.
        return _digest({"itemId": self.item_id, "delta": self.delta, "reason": self.reason, "ref": self.reference})


class OrderLine(NamedTuple):
    item_id: str
    quantity: int


class FulfillOrder(NamedTuple):
    order_id: str
    lines: tuple[OrderLine, ...] = ()

    @property
    def fingerprint(self) -> str:
        return _digest(sorted([line.item_id, line.quantity] for line in self.lines))


def _digest(request: Any) -> str:
    """A request's input as stored in its record, to tell a replay from a reuse of its key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


class RequestKind(enum.Enum):
    """Which use case a remembered request (idempotency record) belongs to; each has its own key space."""

    ADJUST_STOCK = enum.auto()
    FULFILL_ORDER = enum.auto()


class RequestRecord(NamedTuple):
    """A stock mutation that was applied: written in the same transaction as its stock changes, so a replay finds
    it exactly when the changes happened."""

    kind: RequestKind
    key: str
    fingerprint: str  # digest of the request's input, to tell a replay from a reuse of the key
    movements: tuple[StockMovement, ...]
    expires_at: int | None  # epoch seconds for DynamoDB TTL; None keeps it (orders)
