"""The inventory's use cases: one method each, over a repository port (repository.py). The rules themselves live
on the model (model.py, locations.py); storage enforces the ones that must hold under concurrency (conditions and
transactions), and a lost race is retried by retry.py."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from inventory.config import Settings
from inventory.locations import Locations
from inventory.model import (
    MAIN_LOCATION_ID,
    MAX_AMOUNT,
    AdjustStock,
    BelowReserved,
    CountMismatch,
    CreateItem,
    CreateLocation,
    FulfillOrder,
    IdempotencyConflict,
    Instant,
    InsufficientStock,
    Item,
    ItemFilter,
    ItemNotFound,
    ItemReserved,
    ItemStatus,
    Location,
    MovementReason,
    OrderLine,
    OrderResult,
    Page,
    QuantityAboveLimit,
    QuantityConflict,
    RequestKind,
    RequestRecord,
    Reservation,
    ReservationNotActive,
    ReservationNotFound,
    ReservationStatus,
    ReserveStock,
    SetStock,
    StockChange,
    StockMovement,
    TransferResult,
    TransferStock,
    UpdateItem,
    UpdateLocation,
    VersionConflict,
)
from inventory.repository import (
    InventoryRepository,
    LocationsChanged,
    RequestAlreadyApplied,
    ReservationChanged,
    Stale,
    StaleItems,
)
from inventory.retry import TooMuchContention, retry_on_stale
from inventory.tokens import PageTokens

__all__ = ["InventoryService", "TooMuchContention"]

# A plan turns the items and locations as read into the stock changes to write, or raises the domain error that
# forbids them. It is made again, at a new instant, after every lost race.
T = TypeVar("T")
StockPlan = Callable[[dict[str, Item], Locations, Instant], list[StockChange]]


class InventoryService:
    def __init__(
        self,
        repository: InventoryRepository,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        max_attempts: int = 50,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._clock = clock
        self._new_id = new_id
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._tokens = PageTokens(settings.page_token_secret)

    @property
    def settings(self) -> Settings:
        return self._settings

    def now(self) -> Instant:
        """The instant answers are computed at: reservations whose hold ended by then are EXPIRED, hold nothing."""
        return Instant.of(self._clock())

    # Queries

    def get_item(self, item_id: str) -> Item | None:
        return self._repository.get_item(item_id)

    def get_item_by_sku(self, sku: str) -> Item | None:
        item_id = self._repository.find_item_id_by_sku(sku)
        return None if item_id is None else self._repository.get_item(item_id)

    def list_items(self, item_filter: ItemFilter, limit: int, next_token: str | None) -> Page[Item]:
        scope = "items:" + json.dumps([item_filter.category, item_filter.status, item_filter.low_stock])
        start = None if next_token is None else self._tokens.open(next_token, scope)
        items, last = self._repository.list_items(item_filter, limit, start)
        # Indexes are eventually consistent; the items are read afresh. Drop the few that stopped matching meanwhile,
        # so a status- or low-stock-filtered page never shows an item outside its filter.
        matching = tuple(item for item in items if item_filter.matches(item))
        return Page(matching, None if last is None else self._tokens.issue(scope, last))

    def list_movements(self, item_id: str, limit: int, next_token: str | None) -> Page[StockMovement]:
        scope = f"movements:{item_id}"
        start = None if next_token is None else self._tokens.open(next_token, scope)
        movements, last = self._repository.list_movements(item_id, limit, start)
        return Page(tuple(movements), None if last is None else self._tokens.issue(scope, last))

    def get_location(self, location_id: str) -> Location | None:
        return self._repository.get_locations().get(location_id)

    def list_locations(self) -> tuple[Location, ...]:
        return self._repository.get_locations().all()

    def get_reservation(self, reservation_id: str) -> Reservation | None:
        return self._repository.get_reservation(reservation_id)

    # Mutations: items

    def create_item(self, command: CreateItem) -> Item:
        now = self.now()
        location = self._locations_for([command.location_id]).require(command.location_id)
        reorder_point = self._settings.default_reorder_point if command.reorder_point is None else command.reorder_point
        item = Item(
            id=self._new_id(),
            sku=command.sku,
            name=command.name,
            description=command.description,
            category=command.category,
            price=command.price,
            quantity=0,
            reorder_point=reorder_point,
            status=ItemStatus.OUT_OF_STOCK,
            version=1,
            created_at=now.text,
            updated_at=now.text,
        )
        movement = None
        if command.quantity > 0:
            change = item.moved(
                location,
                command.quantity,
                MovementReason.RECEIVED,
                "initial stock",
                now=now,
                movement_id=self._new_id(),
            )
            item, (movement,) = change.after, change.movements

        def write() -> Item:
            self._repository.create_item(item, movement)
            return item

        # A conflict (e.g. the same sku created at the same moment) tells nothing new: retry after a pause.
        return self._retry(write, lambda stale: False, f"create_item {command.sku}")

    def update_item(self, command: UpdateItem) -> Item:
        read = self._repository.get_item(command.id)

        def write() -> Item:
            if read is None:
                raise ItemNotFound(command.id)
            if read.version != command.expected_version:
                raise VersionConflict(command.expected_version, read.version)
            updated = read.edited(command, self.now().text)
            self._repository.replace_item(read, updated)
            return updated

        def refresh(stale: Stale) -> bool:  # a sale or an edit landed in between: decide again on the fresh item
            nonlocal read
            if not isinstance(stale, StaleItems) or command.id not in stale.current:
                return False
            read = stale.current[command.id]
            return True

        return self._retry(write, refresh, f"update_item {command.id}")

    def delete_item(self, item_id: str) -> Item | None:
        read = self._repository.get_item(item_id)

        def write() -> Item | None:
            if read is not None:
                if (reserved := read.reserved_at(self.now().ms)) > 0:
                    raise ItemReserved(item_id, reserved)
                self._repository.delete_item(read)
            return read

        def refresh(stale: Stale) -> bool:  # changed meanwhile: delete (and return) the item as it is now
            nonlocal read
            if not isinstance(stale, StaleItems) or item_id not in stale.current:
                return False
            read = stale.current[item_id]
            return True

        return self._retry(write, refresh, f"delete_item {item_id}")

    # Mutations: stock

    def adjust_stock(self, command: AdjustStock) -> StockMovement:
        def plan(items: dict[str, Item], locations: Locations, now: Instant) -> list[StockChange]:
            location = locations.require(command.location_id)
            item = _existing(items, [command.item_id])[0]
            change = item.moved(
                location, command.delta, command.reason, command.reference, now=now, movement_id=self._new_id()
            )
            return [change]

        record = self._write_stock(
            RequestKind.ADJUST_STOCK,
            command.idempotency_key,
            command.fingerprint,
            plan,
            item_ids=[command.item_id],
            location_ids=[command.location_id],
        )
        return record.movements[0]

    def fulfill_order(self, command: FulfillOrder) -> OrderResult:
        def plan(items: dict[str, Item], locations: Locations, now: Instant) -> list[StockChange]:
            location = locations.require(command.location_id)
            found = _existing(items, [line.item_id for line in command.lines])
            _refuse_shortfalls(found, command.lines, location, now)
            return [
                item.moved(
                    location, -line.quantity, MovementReason.SOLD, command.order_id, now=now, movement_id=self._new_id()
                )
                for item, line in zip(found, command.lines, strict=True)
            ]

        record = self._write_stock(
            RequestKind.FULFILL_ORDER,
            command.order_id,
            command.fingerprint,
            plan,
            item_ids=[line.item_id for line in command.lines],
            location_ids=[command.location_id],
        )
        return OrderResult(command.order_id, record.movements)

    def transfer_stock(self, command: TransferStock) -> TransferResult:
        def plan(items: dict[str, Item], locations: Locations, now: Instant) -> list[StockChange]:
            source = locations.require(command.from_location_id)
            destination = locations.require(command.to_location_id)
            found = _existing(items, [line.item_id for line in command.lines])
            _refuse_shortfalls(found, command.lines, source, now)
            changes = []
            for item, line in zip(found, command.lines, strict=True):
                out = item.moved(
                    source,
                    -line.quantity,
                    MovementReason.TRANSFER_OUT,
                    command.reference,
                    now=now,
                    movement_id=self._new_id(),
                )
                back = out.after.moved(
                    destination,
                    line.quantity,
                    MovementReason.TRANSFER_IN,
                    command.reference,
                    now=now,
                    movement_id=self._new_id(),
                )
                changes.append(StockChange(item, back.after, out.movements + back.movements))
            return changes

        record = self._write_stock(
            RequestKind.TRANSFER_STOCK,
            command.idempotency_key,
            command.fingerprint,
            plan,
            item_ids=[line.item_id for line in command.lines],
            location_ids=[command.from_location_id, command.to_location_id],
            result_id=self._new_id(),
        )
        assert record.result_id is not None  # transfer records always carry their transfer's id
        return TransferResult(record.result_id, command.from_location_id, command.to_location_id, record.movements)

    def set_stock(self, command: SetStock) -> tuple[StockMovement, ...]:
        def plan(items: dict[str, Item], locations: Locations, now: Instant) -> list[StockChange]:
            location = locations.require(command.location_id)
            found = _existing(items, [line.item_id for line in command.lines])
            mismatches = tuple(
                CountMismatch(item.id, line.compare_on_hand, item.level(location).on_hand)
                for item, line in zip(found, command.lines, strict=True)
                if line.compare_on_hand is not None and line.compare_on_hand != item.level(location).on_hand
            )
            if mismatches:
                raise QuantityConflict(mismatches)
            for index, (item, line) in enumerate(zip(found, command.lines, strict=True)):
                level = item.level(location)
                if line.on_hand < (reserved := level.reserved_at(now.ms)):
                    raise BelowReserved(item.id, reserved, index)
                if (total := item.quantity - level.on_hand + line.on_hand) > MAX_AMOUNT:
                    raise QuantityAboveLimit(item.id, total, index)
            return [
                item.counted(location, line.on_hand, command.reference, now=now, movement_id=self._new_id())
                for item, line in zip(found, command.lines, strict=True)
            ]

        record = self._write_stock(
            RequestKind.SET_STOCK,
            command.idempotency_key,
            command.fingerprint,
            plan,
            item_ids=[line.item_id for line in command.lines],
            location_ids=[command.location_id],
        )
        return record.movements

    # Mutations: reservations

    def reserve_stock(self, command: ReserveStock) -> Reservation:
        item_ids = [line.item_id for line in command.lines]
        items, existing, locations = self._repository.read_for_reservation(
            command.reservation_id, item_ids, command.location_id != MAIN_LOCATION_ID
        )

        def replay(reservation: Reservation) -> Reservation:
            if reservation.fingerprint != command.fingerprint:
                raise IdempotencyConflict(RequestKind.RESERVE_STOCK, command.reservation_id)
            return reservation  # as it is now: its status may have moved on since

        def write() -> Reservation:
            now = self.now()
            location = (locations or Locations()).require(command.location_id)
            found = _existing(items, item_ids)
            _refuse_shortfalls(found, command.lines, location, now)
            ends_ms = now.ms + command.expires_in_seconds * 1000
            changes = [
                StockChange(item, item.held(location, line.quantity, ends_ms, now), ())
                for item, line in zip(found, command.lines, strict=True)
            ]
            reservation = Reservation(
                id=command.reservation_id,
                location_id=command.location_id,
                lines=command.lines,
                ends_ms=ends_ms,
                reference=command.reference,
                created_at=now.text,
                fingerprint=command.fingerprint,
                state=ReservationStatus.ACTIVE,
            )
            try:
                self._repository.create_reservation(reservation, changes)
            except ReservationChanged as taken:  # a concurrent request with the same id won
                return replay(taken.current)
            return reservation

        if existing is not None:
            return replay(existing)
        return self._retry(write, _items_refresher(items), f"reserve_stock {command.reservation_id}")

    def commit_reservation(self, reservation_id: str) -> Reservation:
        reservation = self._existing_reservation(reservation_id)
        items: dict[str, Item] = {}

        def write() -> Reservation:
            now = self.now()
            status = reservation.status_at(now.ms)
            if status is ReservationStatus.COMMITTED:
                return reservation
            if status is not ReservationStatus.ACTIVE:
                raise ReservationNotActive(reservation_id, status)
            # The items are read only now: which ones is known from the reservation alone.
            if not items:
                items.update(self._repository.get_items([line.item_id for line in reservation.lines]))
            changes = [
                _committed(items.get(line.item_id), reservation, line, now, self._new_id())
                for line in reservation.lines
            ]
            movements = tuple(m for change in changes for m in change.movements)
            committed = reservation._replace(state=ReservationStatus.COMMITTED, movements=movements)
            self._repository.commit_reservation(reservation, committed, changes)
            return committed

        def refresh(stale: Stale) -> bool:
            nonlocal reservation
            if isinstance(stale, ReservationChanged):  # released or committed meanwhile: decide again on it
                reservation = stale.current
                return True
            if isinstance(stale, StaleItems) and stale.current:  # items changed, not the reservation: still ACTIVE
                return _items_refresher(items)(stale)
            # A bare transaction conflict may hide a commit or release of this reservation that landed meanwhile:
            # decided again on the reservation as first read, the retry would answer EXPIRED by the clock for a
            # reservation that is COMMITTED or RELEASED. So read it again.
            reservation = self._existing_reservation(reservation_id)
            return False

        return self._retry(write, refresh, f"commit_reservation {reservation_id}")

    def release_reservation(self, reservation_id: str) -> Reservation:
        reservation = self._existing_reservation(reservation_id)

        def write() -> Reservation:
            now = self.now()
            status = reservation.status_at(now.ms)
            if status is ReservationStatus.COMMITTED:
                raise ReservationNotActive(reservation_id, status)
            if status is not ReservationStatus.ACTIVE:
                return reservation  # released or expired: nothing is held any more
            released = reservation._replace(state=ReservationStatus.RELEASED)
            self._repository.release_reservation(reservation, released, now)
            return released

        def refresh(stale: Stale) -> bool:
            nonlocal reservation
            if isinstance(stale, ReservationChanged):
                reservation = stale.current
                return True
            if not (isinstance(stale, StaleItems) and stale.current):  # a bare conflict: as in commit_reservation
                reservation = self._existing_reservation(reservation_id)
            # A hold is gone: it ended by the clock of the writer that tidied it. Wait until it has by ours too.
            return False

        return self._retry(write, refresh, f"release_reservation {reservation_id}")

    def expire_reservation(self, reservation_id: str) -> tuple[Item, ...]:
        """Make a reservation's end heard (inventory/expiry.py): once it has ended while ACTIVE, write its items
        without their ended holds (Item.tidied), so that the write reaches the table's stream and subscribers hear
        the figures. Changes no answer: expiry is exact without it. The items as written; () when there is nothing to
        write (the reservation is absent, COMMITTED, RELEASED or not ended yet, or its holds were tidied already by
        another write, whose event carried the figures). Idempotent."""
        reservation = self._repository.get_reservation(reservation_id)
        if reservation is None or reservation.status_at(self.now().ms) is not ReservationStatus.EXPIRED:
            return ()
        item_ids = list(dict.fromkeys(line.item_id for line in reservation.lines))
        items = self._repository.get_items(item_ids)

        def write() -> tuple[Item, ...]:
            now = self.now()
            changes = [
                StockChange(item, after, ())
                for item_id in item_ids
                if (item := items.get(item_id)) is not None and (after := item.tidied(now.ms)) is not item
            ]
            if changes:
                self._repository.tidy_items(changes)
            return tuple(change.after for change in changes)

        return self._retry(write, _items_refresher(items), f"expire_reservation {reservation_id}")

    # Mutations: locations

    def create_location(self, command: CreateLocation) -> Location:
        def add(read: Locations) -> tuple[Locations, Location]:
            location = Location(self._new_id(), command.code, command.name, self.now().text)
            return read.added(location), location

        return self._write_locations(add, f"create_location {command.code}")

    def update_location(self, command: UpdateLocation) -> Location:
        def rename(read: Locations) -> tuple[Locations, Location]:
            after = read.renamed(command.id, command.name)
            return after, after.require(command.id)

        return self._write_locations(rename, f"update_location {command.id}")

    # Internals

    def _retry(self, write: Callable[[], T], refresh: Callable[[Stale], bool], what: str) -> T:
        return retry_on_stale(write, refresh, self._max_attempts, self._sleep, what)

    def _write_locations(self, change: Callable[[Locations], tuple[Locations, Location]], what: str) -> Location:
        """Change the locations record as read; on a lost race, decide again on the record as it now is."""
        read = self._repository.get_locations()

        def write() -> Location:
            after, location = change(read)
            self._repository.put_locations(read, after)
            return location

        def refresh(stale: Stale) -> bool:
            nonlocal read
            if not isinstance(stale, LocationsChanged):
                return False
            read = stale.current
            return True

        return self._retry(write, refresh, what)

    def _locations_for(self, location_ids: Sequence[str]) -> Locations:
        """MAIN needs no read: it always exists."""
        if all(location_id == MAIN_LOCATION_ID for location_id in location_ids):
            return Locations()
        return self._repository.get_locations()

    def _existing_reservation(self, reservation_id: str) -> Reservation:
        reservation = self._repository.get_reservation(reservation_id)
        if reservation is None:
            raise ReservationNotFound(reservation_id)
        return reservation

    def _write_stock(
        self,
        kind: RequestKind,
        key: str,
        fingerprint: str,
        plan: StockPlan,
        *,
        item_ids: Sequence[str],
        location_ids: Sequence[str],
        result_id: str | None = None,
    ) -> RequestRecord:
        """Apply a stock plan once per idempotency key: optimistic, all-or-nothing, retried on lost races.

        A request seen before is answered from its record (or refused if its input differs) before anything else,
        because a replay must return what the first call returned even if stock or items changed since.
        """
        needs_locations = any(location_id != MAIN_LOCATION_ID for location_id in location_ids)
        items, record, read_locations = self._repository.read_for_stock_change(item_ids, kind, key, needs_locations)
        locations = read_locations or Locations()

        def replay(record: RequestRecord) -> RequestRecord:
            if record.kind is not kind or record.fingerprint != fingerprint:
                raise IdempotencyConflict(kind, key)
            return record

        def write() -> RequestRecord:
            changes = plan(items, locations, self.now())
            movements = tuple(movement for change in changes for movement in change.movements)
            new = RequestRecord(kind, key, fingerprint, movements, self._expiry(kind), result_id)
            try:
                self._repository.apply_stock_changes(changes, new)
            except RequestAlreadyApplied as applied:  # a concurrent request with the same key won
                return replay(applied.record)
            return new

        if record is not None:
            return replay(record)
        return self._retry(write, _items_refresher(items), f"{kind.name} {key}")

    def _expiry(self, kind: RequestKind) -> int | None:
        if kind is RequestKind.FULFILL_ORDER:
            return None  # an order id applies once, ever
        expires = self._clock() + timedelta(hours=self._settings.idempotency_ttl_hours)
        return math.ceil(expires.timestamp())  # rounding down would forget a key before its promised time


def _existing(items: dict[str, Item], item_ids: Sequence[str]) -> list[Item]:
    """The items of a request's lines, in line order; ItemNotFound names the first line's item that is missing."""
    for item_id in item_ids:
        if item_id not in items:
            raise ItemNotFound(item_id)
    return [items[item_id] for item_id in item_ids]


def _refuse_shortfalls(items: Sequence[Item], lines: Sequence[OrderLine], location: Location, now: Instant) -> None:
    """InsufficientStock listing every line that asks more than is available at ``location``, if any does."""
    shortfalls = tuple(
        short
        for item, line in zip(items, lines, strict=True)
        if (short := item.shortfall(location, line.quantity, now.ms)) is not None
    )
    if shortfalls:
        raise InsufficientStock(shortfalls)


def _committed(
    item: Item | None, reservation: Reservation, line: OrderLine, now: Instant, movement_id: str
) -> StockChange:
    change = None
    if item is not None:
        change = item.committed(
            reservation.location_id,
            line.quantity,
            reservation.ends_ms,
            reference=reservation.id,
            now=now,
            movement_id=movement_id,
        )
    if change is None:
        # The hold is gone: it ended by the clock of the writer that tidied it. Pause; by ours it soon has too.
        raise StaleItems({})
    return change


def _items_refresher(items: dict[str, Item]) -> Callable[[Stale], bool]:
    """Take in the items storage says are current; learned nothing from a bare conflict or another signal."""

    def refresh(stale: Stale) -> bool:
        if not isinstance(stale, StaleItems):
            return False
        for item_id, current in stale.current.items():
            if current is None:
                items.pop(item_id, None)
            else:
                items[item_id] = current
        return bool(stale.current)

    return refresh
