"""The service's port to storage (a Protocol), and the two signals a conditional write can give back. dynamodb.py
implements it; tests/unit/fake_repository.py is an in-memory one for driving races deterministically."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from inventory.model import Item, ItemFilter, RequestKind, RequestRecord, StockChange, StockMovement

Key = dict[str, Any]  # a DynamoDB key to resume a listing from, as plain JSON


class StaleItems(Exception):
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
        self, item_ids: Sequence[str], kind: RequestKind, key: str
    ) -> tuple[dict[str, Item], RequestRecord | None]:
        """The items and the request's record (if it was applied before), in one consistent read."""
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
