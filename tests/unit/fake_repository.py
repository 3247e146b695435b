"""An in-memory repository implementing the service's port (inventory/repository.py), with scripted races: unit tests
drive the service through lost races and retry exhaustion deterministically, without DynamoDB or threads.

It signals what the DynamoDB adapter signals, in the same order: a transaction's request or reservation guard is
reported before the items' conditions (it comes first in the adapter's transactions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from inventory.locations import Locations
from inventory.model import (
    DuplicateSku,
    Instant,
    Item,
    ItemFilter,
    RequestKind,
    RequestRecord,
    Reservation,
    StockChange,
    StockMovement,
)
from inventory.repository import (
    Key,
    LocationsChanged,
    RequestAlreadyApplied,
    ReservationChanged,
    StaleItems,
)


class FakeRepository:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.movements: dict[str, list[StockMovement]] = {}  # per item, oldest first
        # By key space: adjustStock, transferStock and setStock share one (RequestKind.key_space).
        self.requests: dict[tuple[RequestKind, str], RequestRecord] = {}
        self.reservations: dict[str, Reservation] = {}
        self.locations = Locations()
        self.races: list[Callable[[FakeRepository], None]] = []  # a concurrent writer lands before each next write
        self.conflicts = 0  # how many next writes fail with a bare transaction conflict (StaleItems without items)
        self.writes = 0  # write attempts, successful or not

    # Reads

    def get_item(self, item_id: str) -> Item | None:
        return self.items.get(item_id)

    def find_item_id_by_sku(self, sku: str) -> str | None:
        return next((item.id for item in self.items.values() if item.sku == sku), None)

    def get_items(self, item_ids: Sequence[str]) -> dict[str, Item]:
        return {item_id: self.items[item_id] for item_id in item_ids if item_id in self.items}

    def list_items(self, item_filter: ItemFilter, limit: int, start: Key | None) -> tuple[list[Item], Key | None]:
        after = "" if start is None else start["sku"]
        matching = sorted((i for i in self.items.values() if item_filter.matches(i) and i.sku > after), key=_sku)
        return matching[:limit], {"sku": matching[limit - 1].sku} if len(matching) > limit else None

    def list_movements(self, item_id: str, limit: int, start: Key | None) -> tuple[list[StockMovement], Key | None]:
        offset = 0 if start is None else int(start["offset"])
        newest = self.movements.get(item_id, [])[::-1][offset:]
        return newest[:limit], {"offset": offset + limit} if len(newest) > limit else None

    def read_for_stock_change(
        self, item_ids: Sequence[str], kind: RequestKind, key: str, locations: bool = False
    ) -> tuple[dict[str, Item], RequestRecord | None, Locations | None]:
        record = self.requests.get((kind.key_space, key))
        return self.get_items(item_ids), record, self.locations if locations else None

    def read_for_reservation(
        self, reservation_id: str, item_ids: Sequence[str], locations: bool
    ) -> tuple[dict[str, Item], Reservation | None, Locations | None]:
        reservation = self.reservations.get(reservation_id)
        return self.get_items(item_ids), reservation, self.locations if locations else None

    def get_reservation(self, reservation_id: str) -> Reservation | None:
        return self.reservations.get(reservation_id)

    def get_locations(self) -> Locations:
        return self.locations

    # Writes

    def put_locations(self, before: Locations, after: Locations) -> None:
        self._race()
        if self.locations.revision != before.revision:  # the adapter conditions on the revision alone
            raise LocationsChanged(self.locations)
        self.locations = after

    def create_item(self, item: Item, movement: StockMovement | None) -> None:
        self._race()
        if self.find_item_id_by_sku(item.sku) is not None:
            raise DuplicateSku(item.sku)
        self.items[item.id] = item
        self.movements[item.id] = [] if movement is None else [movement]

    def replace_item(self, before: Item, after: Item) -> None:
        self._race()
        self._unchanged([before])
        self.items[after.id] = after

    def delete_item(self, item: Item) -> None:
        self._race()
        self._unchanged([item])
        del self.items[item.id]

    def apply_stock_changes(self, changes: Sequence[StockChange], record: RequestRecord) -> None:
        self._race()
        stored = self.requests.get((record.kind.key_space, record.key))
        if stored is not None:
            raise RequestAlreadyApplied(stored)
        self._unchanged([change.before for change in changes])
        self._apply(changes)
        self.requests[record.kind.key_space, record.key] = record

    def create_reservation(self, reservation: Reservation, changes: Sequence[StockChange]) -> None:
        self._race()
        if (stored := self.reservations.get(reservation.id)) is not None:
            raise ReservationChanged(stored)
        self._unchanged([change.before for change in changes])
        self._apply(changes)
        self.reservations[reservation.id] = reservation

    def commit_reservation(self, before: Reservation, after: Reservation, changes: Sequence[StockChange]) -> None:
        self._race()
        self._still(before)
        self._unchanged([change.before for change in changes])
        self._apply(changes)
        self.reservations[after.id] = after

    def release_reservation(self, before: Reservation, after: Reservation, now: Instant) -> None:
        """Gives each line's hold back on the stored item, unread by the caller (the adapter's UpdateItem)."""
        self._race()
        self._still(before)
        released: dict[str, Item] = {}
        gone: dict[str, Item | None] = {}
        for line in before.lines:
            stored = self.items.get(line.item_id)
            unheld = None if stored is None else stored.unheld(before.location_id, line.quantity, before.ends_ms, now)
            if unheld is None:
                gone[line.item_id] = stored
            else:
                released[line.item_id] = unheld
        if gone:
            raise StaleItems(gone)
        self.items.update(released)
        self.reservations[after.id] = after

    def tidy_items(self, changes: Sequence[StockChange]) -> None:
        self._race()
        self._unchanged([change.before for change in changes])
        self._apply(changes)

    # Internals

    def _apply(self, changes: Sequence[StockChange]) -> None:
        for change in changes:
            if change.after is change.before:  # a condition check: nothing to write
                continue
            self.items[change.after.id] = change.after
            self.movements.setdefault(change.after.id, []).extend(change.movements)

    def _race(self) -> None:
        self.writes += 1
        if self.conflicts:
            self.conflicts -= 1
            raise StaleItems({})
        if self.races:
            self.races.pop(0)(self)

    def _still(self, before: Reservation) -> None:
        stored = self.reservations[before.id]
        if stored != before:
            raise ReservationChanged(stored)

    def _unchanged(self, read: Sequence[Item]) -> None:
        stale = {item.id: self.items.get(item.id) for item in read if self.items.get(item.id) != item}
        if stale:
            raise StaleItems(stale)


def _sku(item: Item) -> str:
    return item.sku
