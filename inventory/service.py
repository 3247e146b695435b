"""The inventory's use cases: one method each, over a repository port (repository.py). The rules themselves live
on the model (model.py); storage enforces the ones that must hold under concurrency (conditions and transactions),
and a lost race is retried by retry.py."""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from inventory.config import Settings
from inventory.model import (
    AdjustStock,
    CreateItem,
    FulfillOrder,
    IdempotencyConflict,
    InsufficientStock,
    Item,
    ItemFilter,
    ItemNotFound,
    ItemStatus,
    MovementReason,
    OrderResult,
    Page,
    RequestKind,
    RequestRecord,
    StockChange,
    StockMovement,
    UpdateItem,
    VersionConflict,
    timestamp,
)
from inventory.repository import InventoryRepository, RequestAlreadyApplied, StaleItems
from inventory.retry import TooMuchContention, retry_on_stale
from inventory.tokens import PageTokens

__all__ = ["InventoryService", "TooMuchContention"]

# A plan turns the items as read into the stock changes to write, or raises the domain error that forbids them.
T = TypeVar("T")
StockPlan = Callable[[dict[str, Item]], list[StockChange]]


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

    # Mutations

    def create_item(self, command: CreateItem) -> Item:
        now = timestamp(self._clock())
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
            created_at=now,
            updated_at=now,
        )
        movement = None
        if command.quantity > 0:
            change = item.moved(command.quantity, MovementReason.RECEIVED, "initial stock", now, self._new_id())
            item, movement = change.after, change.movement

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
            updated = read.edited(command, timestamp(self._clock()))
            self._repository.replace_item(read, updated)
            return updated

        def refresh(stale: StaleItems) -> bool:  # a sale or an edit landed in between: decide again on the fresh item
            nonlocal read
            if command.id not in stale.current:
                return False
            read = stale.current[command.id]
            return True

        return self._retry(write, refresh, f"update_item {command.id}")

    def delete_item(self, item_id: str) -> Item | None:
        read = self._repository.get_item(item_id)

        def write() -> Item | None:
            if read is not None:
                self._repository.delete_item(read)
            return read

        def refresh(stale: StaleItems) -> bool:  # changed meanwhile: delete (and return) the item as it is now
            nonlocal read
            if item_id not in stale.current:
                return False
            read = stale.current[item_id]
            return True

        return self._retry(write, refresh, f"delete_item {item_id}")

    def adjust_stock(self, command: AdjustStock) -> StockMovement:
        def plan(items: dict[str, Item]) -> list[StockChange]:
            item = items.get(command.item_id)
            if item is None:
                raise ItemNotFound(command.item_id)
            now = timestamp(self._clock())
            return [item.moved(command.delta, command.reason, command.reference, now, self._new_id())]

        (movement,) = self._write_stock(
            [command.item_id], RequestKind.ADJUST_STOCK, command.idempotency_key, command.fingerprint, plan
        )
        return movement

    def fulfill_order(self, command: FulfillOrder) -> OrderResult:
        def plan(items: dict[str, Item]) -> list[StockChange]:
            for line in command.lines:
                if line.item_id not in items:
                    raise ItemNotFound(line.item_id)
            shortfalls = tuple(
                shortfall
                for line in command.lines
                if (shortfall := items[line.item_id].shortfall(line.quantity)) is not None
            )
            if shortfalls:
                raise InsufficientStock(shortfalls)
            now = timestamp(self._clock())
            return [
                items[line.item_id].moved(-line.quantity, MovementReason.SOLD, command.order_id, now, self._new_id())
                for line in command.lines
            ]

        item_ids = [line.item_id for line in command.lines]
        movements = self._write_stock(item_ids, RequestKind.FULFILL_ORDER, command.order_id, command.fingerprint, plan)
        return OrderResult(command.order_id, movements)

    # Internals

    def _retry(self, write: Callable[[], T], refresh: Callable[[StaleItems], bool], what: str) -> T:
        return retry_on_stale(write, refresh, self._max_attempts, self._sleep, what)

    def _write_stock(
        self, item_ids: Sequence[str], kind: RequestKind, key: str, fingerprint: str, plan: StockPlan
    ) -> tuple[StockMovement, ...]:
        """Apply a stock plan once per idempotency key: optimistic, all-or-nothing, retried on lost races.

        A request seen before is answered from its record (or refused if its input differs) before anything else,
        because a replay must return what the first call returned even if stock or items changed since.
        """
        items, record = self._repository.read_for_stock_change(item_ids, kind, key)

        def replay(record: RequestRecord) -> tuple[StockMovement, ...]:
            if record.fingerprint != fingerprint:
                raise IdempotencyConflict(kind, key)
            return record.movements

        def write() -> tuple[StockMovement, ...]:
            changes = plan(items)
            movements = tuple(change.movement for change in changes)
            try:
                self._repository.apply_stock_changes(
                    changes, RequestRecord(kind, key, fingerprint, movements, self._expiry(kind))
                )
            except RequestAlreadyApplied as applied:  # a concurrent request with the same key won
                return replay(applied.record)
            return movements

        def refresh(stale: StaleItems) -> bool:
            for item_id, current in stale.current.items():
                if current is None:
                    items.pop(item_id, None)
                else:
                    items[item_id] = current
            return bool(stale.current)

        if record is not None:
            return replay(record)
        return self._retry(write, refresh, f"{kind.name} {key}")

    def _expiry(self, kind: RequestKind) -> int | None:
        if kind is RequestKind.FULFILL_ORDER:
            return None  # an order id applies once, ever
        expires = self._clock() + timedelta(hours=self._settings.idempotency_ttl_hours)
        return math.ceil(expires.timestamp())  # rounding down would forget a key before its promised time
