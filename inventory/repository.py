"""The service's port to storage (a Protocol), and the two signals a conditional write can give back. dynamodb.py
implements it; tests/unit/fake_repository.py is an in-memory one for driving races deterministically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from inventory.locations import Locations
from inventory.model import (
    Instant,
    Item,
    ItemFilter,
    RequestKind,
    RequestRecord,
    Reservation,
    StockChange,
    StockMovement,
)

Key = dict[str, Any]  # a DynamoDB key to resume a listing from, as plain JSON


class Stale(Exception):
    """A conditional write found the stored state changed since it was read; subclasses say what is current."""


class StaleItems(Stale):
    """A write's condition failed: some items changed (or vanished) since they were read.

    ``current`` holds what storage returned for the items that failed: the item as it is now, or None when it no
    longer exists. It may be empty (a transaction conflict), in which case the write can simply be retried.
    """

    def __init__(self, current: Mapping[str, Item | None]) -> None:
        super().__init__("items changed since they were read")
        self.current = dict(current)


class RequestAlreadyApplied(Exception):
    """The request's idempotency record exists: the request was applied before."""

    def __init__(self, record: RequestRecord) -> None:
        super().__init__(f"{record.kind} {record.key!r} was already applied")
        self.record = record


class ReservationChanged(Stale):
    """A reservation write's condition failed: the reservation exists already (create) or is no longer as read
    (commit, release). ``current`` is the reservation as it is now."""

    def __init__(self, current: Reservation) -> None:
        super().__init__(f"reservation {current.id!r} changed")
        self.current = current


class LocationsChanged(Stale):
    """The locations record changed since it was read; ``current`` is what it holds now."""

    def __init__(self, current: Locations) -> None:
        super().__init__("locations changed since they were read")
        self.current = current


class InventoryRepository(Protocol):
    def get_item(self, item_id: str) -> Item | None: ...

    def find_item_id_by_sku(self, sku: str) -> str | None: ...

    def get_items(self, item_ids: Sequence[str]) -> dict[str, Item]: ...

    def list_items(self, item_filter: ItemFilter, limit: int, start: Key | None) -> tuple[list[Item], Key | None]:
        """Up to ``limit`` items matching the filter, in sku order, and the key to resume after them."""
        ...

    def list_movements(self, item_id: str, limit: int, start: Key | None) -> tuple[list[StockMovement], Key | None]:
        """Newest first."""
        ...

    def read_for_stock_change(
        self, item_ids: Sequence[str], kind: RequestKind, key: str, locations: bool = False
    ) -> tuple[dict[str, Item], RequestRecord | None, Locations | None]:
        """The items, the request's record (if it was applied before) and, if asked, the locations: one consistent
        read."""
        ...

    def read_for_reservation(
        self, reservation_id: str, item_ids: Sequence[str], locations: bool
    ) -> tuple[dict[str, Item], Reservation | None, Locations | None]:
        """As read_for_stock_change, with the reservation of that id in place of a request record."""
        ...

    def get_reservation(self, reservation_id: str) -> Reservation | None: ...

    def get_locations(self) -> Locations: ...

    def put_locations(self, before: Locations, after: Locations) -> None:
        """Write ``after`` if the stored record is still ``before``; else LocationsChanged."""
        ...

    def create_item(self, item: Item, movement: StockMovement | None) -> None:
        """Raises DuplicateSku when the sku is taken."""
        ...

    def replace_item(self, before: Item, after: Item) -> None:
        """Write ``after`` if the stored item is still ``before``; else StaleItems."""
        ...

    def delete_item(self, item: Item) -> None:
        """Delete the item and free its sku if the stored item is still ``item``; else StaleItems."""
        ...

    def apply_stock_changes(self, changes: Sequence[StockChange], record: RequestRecord) -> None:
        """All changes, their movements and the record, or nothing: StaleItems or RequestAlreadyApplied."""
        ...

    def create_reservation(self, reservation: Reservation, changes: Sequence[StockChange]) -> None:
        """The new reservation and its holds, or nothing: StaleItems, or ReservationChanged if the id is taken."""
        ...

    def commit_reservation(self, before: Reservation, after: Reservation, changes: Sequence[StockChange]) -> None:
        """``after`` (committed) and the stock changes if the stored reservation is still ``before``: StaleItems or
        ReservationChanged otherwise."""
        ...

    def release_reservation(self, before: Reservation, after: Reservation, now: Instant) -> None:
        """``after`` (released) and its holds given back, without reading the items (a hold's units are known):
        ReservationChanged, or StaleItems with the items whose hold is gone (it ended and was tidied away)."""
        ...

    def tidy_items(self, changes: Sequence[StockChange]) -> None:
        """Each change's ``after`` (its ended holds tidied away, no movement) if its stored item is still
        ``before``, all of them or none, in one conditional write: StaleItems otherwise."""
        ...
