"""An in-memory repository implementing the service's port (inventory/repository.py), with scripted races: unit tests
drive the service through lost races and retry exhaustion deterministically, without DynamoDB or threads."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from inventory.model import DuplicateSku, Item, ItemFilter, RequestKind, RequestRecord, StockChange, StockMovement
from inventory.repository import Key, RequestAlreadyApplied, StaleItems


class FakeRepository:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.movements: dict[str, list[StockMovement]] = {}  # per item, oldest first
        self.requests: dict[tuple[RequestKind, str], RequestRecord] = {}
        self.races: list[Callable[[FakeRepository], None]] = []  # a concurrent writer lands before each next write
        self.conflicts = 0  # how many next writes fail with a bare transaction conflict (StaleItems without items)
        self.writes = 0  # write attempts, successful or not

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
        self, item_ids: Sequence[str], kind: RequestKind, key: str
    ) -> tuple[dict[str, Item], RequestRecord | None]:
        return self.get_items(item_ids), self.requests.get((kind, key))

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
        if (record.kind, record.key) in self.requests:
            raise RequestAlreadyApplied(self.requests[record.kind, record.key])
        self._unchanged([change.before for change in changes])
        for change in changes:
            self.items[change.after.id] = change.after
            self.movements.setdefault(change.after.id, []).append(change.movement)
        self.requests[record.kind, record.key] = record

    def _race(self) -> None:
        self.writes += 1
        if self.conflicts:
            self.conflicts -= 1
            raise StaleItems({})
        if self.races:
            self.races.pop(0)(self)

    def _unchanged(self, read: Sequence[Item]) -> None:
        stale = {item.id: self.items.get(item.id) for item in read if self.items.get(item.id) != item}
        if stale:
            raise StaleItems(stale)


def _sku(item: Item) -> str:
    return item.sku
