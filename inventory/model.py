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
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
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
    TRANSFER_OUT = "TRANSFER_OUT"
    TRANSFER_IN = "TRANSFER_IN"


# Which sign a movement of each reason may have: stock comes in, goes out, or (CORRECTION) either way.
INBOUND_REASONS = frozenset({MovementReason.RECEIVED, MovementReason.RETURNED})
OUTBOUND_REASONS = frozenset({MovementReason.SOLD, MovementReason.DAMAGED})
TRANSFER_REASONS = frozenset({MovementReason.TRANSFER_OUT, MovementReason.TRANSFER_IN})  # transferStock's alone

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
    available: int  # at the location the units were asked of
    requested: int


class InsufficientStock(DomainError):
    """Stock would go below 0: one shortfall per item that lacks stock."""

    def __init__(self, shortfalls: tuple[Shortfall, ...]) -> None:
        super().__init__(shortfalls)
        self.shortfalls = shortfalls


class QuantityAboveLimit(DomainError):
    """A movement would raise an item's total onHand above MAX_AMOUNT. ``line``: the request line that would (setStock),
    None for a request of one movement (adjustStock)."""

    def __init__(self, item_id: str, quantity: int, line: int | None = None) -> None:
        super().__init__(item_id, quantity, line)
        self.item_id = item_id
        self.quantity = quantity
        self.line = line
        self.limit = MAX_AMOUNT


class BelowReserved(DomainError):
    """A count would set onHand below the units that active reservations hold there (setStock line ``line``)."""

    def __init__(self, item_id: str, reserved: int, line: int) -> None:
        super().__init__(item_id, reserved, line)
        self.item_id = item_id
        self.reserved = reserved
        self.line = line


class CountMismatch(NamedTuple):
    item_id: str
    expected: int
    actual: int


class QuantityConflict(DomainError):
    """setStock's compareOnHand differs from the onHand counted: one mismatch per such line."""

    def __init__(self, mismatches: tuple[CountMismatch, ...]) -> None:
        super().__init__(mismatches)
        self.mismatches = mismatches


class LocationNotFound(DomainError):
    def __init__(self, location_id: str) -> None:
        super().__init__(location_id)
        self.location_id = location_id


class DuplicateLocationCode(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class TooManyLocations(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class ItemReserved(DomainError):
    """The item cannot be deleted while active reservations hold units of it."""

    def __init__(self, item_id: str, reserved: int) -> None:
        super().__init__(item_id, reserved)
        self.item_id = item_id
        self.reserved = reserved


class ReservationNotFound(DomainError):
    def __init__(self, reservation_id: str) -> None:
        super().__init__(reservation_id)
        self.reservation_id = reservation_id


class ReservationNotActive(DomainError):
    def __init__(self, reservation_id: str, status: ReservationStatus) -> None:
        super().__init__(reservation_id, status)
        self.reservation_id = reservation_id
        self.status = status


class IdempotencyConflict(DomainError):
    """A request key already used with different input."""

    def __init__(self, kind: RequestKind, key: str) -> None:
        super().__init__(kind, key)
        self.kind = kind
        self.key = key


def timestamp(moment: datetime) -> str:
    """AWSDateTime as this API writes it: UTC, millisecond precision, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Instant(NamedTuple):
    """One reading of the clock, as text (stored timestamps) and as epoch milliseconds (expiry arithmetic)."""

    text: str
    ms: int

    @classmethod
    def of(cls, moment: datetime) -> Instant:
        ms = int(moment.timestamp()) * 1000 + moment.microsecond // 1000  # truncated like the text
        return cls(timestamp(moment), ms)

    @classmethod
    def from_ms(cls, ms: int) -> Instant:
        return cls.of(datetime.fromtimestamp(ms / 1000, UTC).replace(microsecond=ms % 1000 * 1000))


def status_for(quantity: int, discontinued: bool) -> ItemStatus:
    """The one rule for status: discontinued wins; otherwise OUT_OF_STOCK exactly when nothing is in stock."""
    if discontinued:
        return ItemStatus.DISCONTINUED
    return ItemStatus.OUT_OF_STOCK if quantity == 0 else ItemStatus.AVAILABLE


class Location(NamedTuple):
    id: str
    code: str
    name: str
    created_at: str

    @property
    def is_default(self) -> bool:
        return self.id == MAIN_LOCATION_ID


# The default location exists whether or not anyone stored it: every v1 operation acts on it. Its id is fixed, and
# it predates everything (createdAt is the epoch), so its answers never depend on whether its record was written.
MAIN_LOCATION_ID = "MAIN"
MAIN_LOCATION = Location(MAIN_LOCATION_ID, "MAIN", "Main location", "1970-01-01T00:00:00.000Z")
MAX_LOCATIONS = 100  # MAIN included


class Level(NamedTuple):
    """An item's stock at one location, as stored: units on hand, and the units reservations hold, by the epoch
    millisecond at which their hold ends. Holds are never cleaned up for correctness: one whose end has passed
    simply counts for nothing (reserved_at), so expiry is exact without any background work."""

    code: str  # the location's code, kept here so that an item's levels read in one call (codes never change)
    on_hand: int = 0
    holds: Mapping[int, int] = MappingProxyType({})

    def reserved_at(self, now_ms: int) -> int:
        return sum(units for ends, units in self.holds.items() if ends > now_ms)

    def available_at(self, now_ms: int) -> int:
        return max(0, self.on_hand - self.reserved_at(now_ms))

    def ended(self, now_ms: int) -> list[int]:
        """The ends of the holds that ended by ``now_ms`` holding units: instants at which the figures changed. A hold
        emptied in place (a release gives its units back without tidying: dynamodb.py) changes nothing at its end."""
        return [ends for ends, units in self.holds.items() if ends <= now_ms and units]

    def tidied(self, now_ms: int) -> Level:
        """Without the holds that count for nothing any more (ended or empty): changes no figure."""
        return self._replace(holds={ends: units for ends, units in self.holds.items() if ends > now_ms and units})

    @property
    def empty(self) -> bool:
        return self.on_hand == 0 and not self.holds


class StockLevel(NamedTuple):
    """An item's figures at one location at one instant (Item.levels in the contract)."""

    location_id: str
    location_code: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved)


NO_LEVELS: Mapping[str, Level] = MappingProxyType({})


class Item(NamedTuple):
    id: str
    sku: str
    name: str
    description: str | None
    category: str
    price: Decimal
    quantity: int  # onHand, all locations together (the v1 name, kept: status and the indexes follow it)
    reorder_point: int
    status: ItemStatus
    version: int
    created_at: str
    updated_at: str
    # How many stock movements the item has had: numbers its movements (the ledger's sequence) and guards writes.
    stock_revision: int = 0
    # Stock per location id. Sums of on_hand equal quantity; locations with nothing on hand and no hold are left out.
    levels: Mapping[str, Level] = NO_LEVELS
    # How many times reservations changed the item's holds: guards writes like stock_revision, numbers nothing.
    holds_revision: int = 0

    @property
    def low_stock(self) -> bool:
        """Discontinued items are never low stock: nobody reorders them."""
        return self.status is not ItemStatus.DISCONTINUED and self.quantity <= self.reorder_point

    def level(self, location: Location) -> Level:
        return self.levels.get(location.id) or Level(location.code)

    def reserved_at(self, now_ms: int) -> int:
        return sum(level.reserved_at(now_ms) for level in self.levels.values())

    def available_at(self, now_ms: int) -> int:
        return sum(level.available_at(now_ms) for level in self.levels.values())

    def updated_at_as_of(self, now_ms: int) -> str:
        """updatedAt at ``now_ms``: when the item last changed. A hold's end changes the figures with nothing written
        (reserved_at), so the end of the last hold ended by then dates the item when it is later than the stored
        updatedAt: reads answer the same before and after a write tidies that hold away (tidied stores this)."""
        ends = [end for level in self.levels.values() for end in level.ended(now_ms)]
        return max(self.updated_at, Instant.from_ms(max(ends)).text) if ends else self.updated_at

    def stock_levels(self, now_ms: int) -> tuple[StockLevel, ...]:
        """The item's figures per location at ``now_ms``: where anything is on hand or held, by location code."""
        figures = (
            StockLevel(location_id, level.code, level.on_hand, level.reserved_at(now_ms))
            for location_id, level in self.levels.items()
        )
        return tuple(sorted((f for f in figures if f.on_hand or f.reserved), key=lambda f: f.location_code))

    def shortfall(self, location: Location, requested: int, now_ms: int) -> Shortfall | None:
        """What taking ``requested`` out of what is available at ``location`` would lack, if anything."""
        available = self.level(location).available_at(now_ms)
        return Shortfall(self.id, available, requested) if available < requested else None

    def moved(
        self,
        location: Location,
        delta: int,
        reason: MovementReason,
        reference: str | None,
        *,
        now: Instant,
        movement_id: str,
    ) -> StockChange:
        """The stock change of one movement at one location: the item after it (status follows the quantity, version
        is untouched) and the movement recorded. A decrease draws on what is available there (held units stay
        held); the total never exceeds MAX_AMOUNT."""
        if delta < 0 and (short := self.shortfall(location, -delta, now.ms)) is not None:
            raise InsufficientStock((short,))
        return self._moved_at(location.id, self.level(location), delta, reason, reference, now, movement_id)

    def held(self, location: Location, units: int, ends_ms: int, now: Instant) -> Item:
        """The item with ``units`` more held at ``location`` until ``ends_ms``: drawn on what is available there."""
        if (short := self.shortfall(location, units, now.ms)) is not None:
            raise InsufficientStock((short,))
        level = self.level(location)
        holds = {**level.holds, ends_ms: level.holds.get(ends_ms, 0) + units}
        return self._with_level(location.id, level._replace(holds=holds), now)._replace(
            holds_revision=self.holds_revision + 1
        )

    def unheld(self, location_id: str, units: int, ends_ms: int, now: Instant) -> Item | None:
        """The item with a hold of ``units`` until ``ends_ms`` given back, or None if that hold is gone (it ended,
        and a write since tidied it away)."""
        level = self.levels.get(location_id)
        if level is None or level.holds.get(ends_ms, 0) < units:
            return None
        holds = {**level.holds, ends_ms: level.holds[ends_ms] - units}
        return self._with_level(location_id, level._replace(holds=holds), now)._replace(
            holds_revision=self.holds_revision + 1
        )

    def committed(
        self, location_id: str, units: int, ends_ms: int, *, reference: str, now: Instant, movement_id: str
    ) -> StockChange | None:
        """A held quantity sold: the hold given back and a SOLD movement of it; None if that hold is gone."""
        unheld = self.unheld(location_id, units, ends_ms, now)
        if unheld is None:
            return None
        level = unheld.levels[location_id]
        change = unheld._moved_at(location_id, level, -units, MovementReason.SOLD, reference, now, movement_id)
        return StockChange(self, change.after, change.movements)

    def tidied(self, now_ms: int) -> Item:
        """The item without the holds that ended by ``now_ms`` (every location, Level.tidied), so that a write makes
        their end heard; the item itself when none has ended holding units (an emptied hold's end changes nothing to
        hear: its release was heard). No answer changes at any instant from ``now_ms`` on: updatedAt is stored as
        reads answer it then (updated_at_as_of), the same whoever tidies and whenever. holdsRevision moves, as for any
        change of holds."""
        if not any(level.ended(now_ms) for level in self.levels.values()):
            return self
        levels = {location_id: level.tidied(now_ms) for location_id, level in self.levels.items()}
        return self._replace(
            levels={location_id: level for location_id, level in levels.items() if not level.empty},
            updated_at=self.updated_at_as_of(now_ms),
            holds_revision=self.holds_revision + 1,
        )

    def counted(
        self, location: Location, on_hand: int, reference: str | None, *, now: Instant, movement_id: str
    ) -> StockChange:
        """A count of ``on_hand`` units at ``location``: a CORRECTION movement of the difference, or no change."""
        delta = on_hand - self.level(location).on_hand
        if delta == 0:
            return StockChange(self, self, ())
        return self.moved(location, delta, MovementReason.CORRECTION, reference, now=now, movement_id=movement_id)

    def _moved_at(  # noqa: PLR0917 (private: every caller names what it passes)
        self,
        location_id: str,
        level: Level,
        delta: int,
        reason: MovementReason,
        reference: str | None,
        now: Instant,
        movement_id: str,
    ) -> StockChange:
        quantity = self.quantity + delta
        if quantity > MAX_AMOUNT:
            raise QuantityAboveLimit(self.id, quantity)
        on_hand = level.on_hand + delta
        after = self._with_level(location_id, level._replace(on_hand=on_hand), now)._replace(
            quantity=quantity,
            status=status_for(quantity, self.status is ItemStatus.DISCONTINUED),
            stock_revision=self.stock_revision + 1,
        )
        movement = StockMovement(
            id=movement_id,
            item_id=self.id,
            delta=delta,
            quantity_after=quantity,
            reason=reason,
            reference=reference,
            created_at=now.text,
            sequence=after.stock_revision,
            location_id=location_id,
            location_quantity_after=on_hand,
        )
        return StockChange(self, after, (movement,))

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

    def _with_level(self, location_id: str, level: Level, now: Instant) -> Item:
        """The item with ``level`` at ``location_id``; every write tidies ended holds away (no figure changes)."""
        levels = {other_id: other.tidied(now.ms) for other_id, other in self.levels.items()}
        levels[location_id] = level.tidied(now.ms)
        return self._replace(
            levels={other_id: other for other_id, other in levels.items() if not other.empty},
            updated_at=now.text,
        )


class StockMovement(NamedTuple):
    id: str
    item_id: str
    delta: int
    quantity_after: int  # the item's onHand, all locations together, right after the movement
    reason: MovementReason
    reference: str | None
    created_at: str
    sequence: int  # the item's stock_revision after this movement: 1, 2, 3... with no gap
    location_id: str = MAIN_LOCATION_ID
    location_quantity_after: int = 0  # onHand at location_id right after the movement


class StockChange(NamedTuple):
    """One item's write: the state it was read in, the state to write, and the movements to record. ``after is
    before`` means nothing changes, but the request's decision rests on that state (a condition check)."""

    before: Item
    after: Item
    movements: tuple[StockMovement, ...]


class OrderResult(NamedTuple):
    order_id: str
    movements: tuple[StockMovement, ...]


class TransferResult(NamedTuple):
    id: str
    from_location_id: str
    to_location_id: str
    movements: tuple[StockMovement, ...]


class ReservationStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    COMMITTED = "COMMITTED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"  # never stored: an ACTIVE reservation is EXPIRED from the instant its hold ends


class Reservation(NamedTuple):
    id: str
    location_id: str
    lines: tuple[OrderLine, ...]
    ends_ms: int  # epoch milliseconds at which the hold ends: expiresAt
    reference: str | None
    created_at: str
    fingerprint: str  # digest of the request's input, to tell a replay from a reuse of the id
    state: ReservationStatus  # as stored: ACTIVE, COMMITTED or RELEASED
    movements: tuple[StockMovement, ...] = ()  # the SOLD movements, once committed

    @property
    def expires_at(self) -> str:
        return Instant.from_ms(self.ends_ms).text

    def status_at(self, now_ms: int) -> ReservationStatus:
        if self.state is ReservationStatus.ACTIVE and now_ms >= self.ends_ms:
            return ReservationStatus.EXPIRED
        return self.state


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
    location_id: str = MAIN_LOCATION_ID  # where the initial quantity goes


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
    location_id: str = MAIN_LOCATION_ID

    @property
    def fingerprint(self) -> str:
        # These key names are part of the records of requests applied before (their digest is stored), so they
        # stay as first written; the location joins them only when it is not MAIN, so v1 records still replay.
        request = {"itemId": self.item_id, "delta": self.delta, "reason": self.reason, "ref": self.reference}
        return _digest(_at(request, self.location_id))


class OrderLine(NamedTuple):
    item_id: str
    quantity: int


def _sorted_lines(lines: tuple[OrderLine, ...]) -> list[list[Any]]:
    return sorted([line.item_id, line.quantity] for line in lines)  # the same lines in any order: the same request


class FulfillOrder(NamedTuple):
    order_id: str
    lines: tuple[OrderLine, ...] = ()
    location_id: str = MAIN_LOCATION_ID  # the whole order comes from one location

    @property
    def fingerprint(self) -> str:
        if self.location_id == MAIN_LOCATION_ID:
            return _digest(_sorted_lines(self.lines))  # as v1 stored it
        return _digest({"lines": _sorted_lines(self.lines), "loc": self.location_id})


class CreateLocation(NamedTuple):
    code: str
    name: str


class UpdateLocation(NamedTuple):
    id: str
    name: str


DEFAULT_HOLD_SECONDS = 900


class ReserveStock(NamedTuple):
    reservation_id: str
    lines: tuple[OrderLine, ...]
    location_id: str = MAIN_LOCATION_ID
    expires_in_seconds: int = DEFAULT_HOLD_SECONDS
    reference: str | None = None

    @property
    def fingerprint(self) -> str:
        return _digest(
            {
                "lines": _sorted_lines(self.lines),
                "loc": self.location_id,
                "seconds": self.expires_in_seconds,
                "ref": self.reference,
            }
        )


class TransferStock(NamedTuple):
    idempotency_key: str
    from_location_id: str
    to_location_id: str
    lines: tuple[OrderLine, ...]
    reference: str | None = None

    @property
    def fingerprint(self) -> str:
        return _digest(
            {
                "op": "transferStock",
                "from": self.from_location_id,
                "to": self.to_location_id,
                "lines": _sorted_lines(self.lines),
                "ref": self.reference,
            }
        )


class CountLine(NamedTuple):
    item_id: str
    on_hand: int
    compare_on_hand: int | None = None


class SetStock(NamedTuple):
    idempotency_key: str
    lines: tuple[CountLine, ...]
    location_id: str = MAIN_LOCATION_ID
    reference: str | None = None

    @property
    def fingerprint(self) -> str:
        lines = sorted([line.item_id, line.on_hand, line.compare_on_hand] for line in self.lines)
        return _digest({"op": "setStock", "loc": self.location_id, "lines": lines, "ref": self.reference})


def _at(request: dict[str, Any], location_id: str) -> dict[str, Any]:
    return request if location_id == MAIN_LOCATION_ID else {**request, "loc": location_id}


def _digest(request: Any) -> str:
    """A request's input as stored in its record, to tell a replay from a reuse of its key."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


class RequestKind(enum.Enum):
    """Which use case a remembered request (idempotency record) belongs to; each has its own key space."""

    ADJUST_STOCK = enum.auto()
    FULFILL_ORDER = enum.auto()
    TRANSFER_STOCK = enum.auto()
    SET_STOCK = enum.auto()
    RESERVE_STOCK = enum.auto()  # its key is the reservation's id; the reservation itself is the record

    @property
    def key_space(self) -> RequestKind:
        """adjustStock, transferStock and setStock share one namespace of idempotency keys; orders and reservations
        have one each."""
        if self in (RequestKind.TRANSFER_STOCK, RequestKind.SET_STOCK):
            return RequestKind.ADJUST_STOCK
        return self


class RequestRecord(NamedTuple):
    """A stock mutation that was applied: written in the same transaction as its stock changes, so a replay finds
    it exactly when the changes happened."""

    kind: RequestKind
    key: str
    fingerprint: str  # digest of the request's input, to tell a replay from a reuse of the key
    movements: tuple[StockMovement, ...]
    expires_at: int | None  # epoch seconds for DynamoDB TTL; None keeps it (orders)
    result_id: str | None = None  # the id the request's answer carries (a transfer's), so a replay returns it
