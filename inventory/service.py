"""The inventory's use cases: one method each, over a repository. Every rule of the contract lives here or in
inputs.py; storage enforces the ones that must hold under concurrency (conditions and transactions)."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from inventory.config import Settings
from inventory.errors import IdempotencyConflict, InsufficientStock, ItemNotFound, ValidationError, VersionConflict
from inventory.inputs import MAX_AMOUNT
from inventory.models import (
    UNSET,
    AdjustStock,
    CreateItem,
    FulfillOrder,
    Item,
    ItemFilter,
    ItemStatus,
    MovementReason,
    OrderResult,
    Page,
    RequestKind,
    RequestRecord,
    StockChange,
    StockMovement,
    UpdateItem,
    status_for,
    timestamp,
)
from inventory.repository import InventoryRepository, RequestAlreadyApplied, StaleItems
from inventory.tokens import PageTokens

logger = logging.getLogger(__name__)

# A plan turns the items as read into the stock changes to write, or raises the domain error that forbids them.
StockPlan = Callable[[dict[str, Item]], list[StockChange]]


class TooMuchContention(RuntimeError):
    """Optimistic writes kept losing races; reaches clients as InternalError (retryable)."""


class InventoryService:
    def __init__(
        self,
        repository: InventoryRepository,
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        max_attempts: int = 50,
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._clock = clock
        self._new_id = new_id
        self._max_attempts = max_attempts
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
        matching = tuple(item for item in items if _matches(item, item_filter))
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
            change = self._stock_change(item, command.quantity, MovementReason.RECEIVED, "initial stock", now)
            item, movement = change.after, change.movement
        for attempt in self._attempts():
            try:
                self._repository.create_item(item, movement)
                return item
            except StaleItems:  # a transaction conflict, e.g. the same sku created at the same moment
                _back_off(attempt)
        raise TooMuchContention(f"createItem {command.sku}")

    def update_item(self, command: UpdateItem) -> Item:
        item = self._repository.get_item(command.id)
        for attempt in self._attempts():
            if item is None:
                raise ItemNotFound(command.id)
            if item.version != command.expected_version:
                raise VersionConflict(command.expected_version, item.version)
            updated = _apply_update(item, command, timestamp(self._clock()))
            try:
                self._repository.replace_item(item, updated)
                return updated
            except StaleItems as stale:  # a sale or an edit landed in between: decide again on the fresh item
                item = _refreshed(stale, item.id, item, attempt)
        raise TooMuchContention(f"updateItem {command.id}")

    def delete_item(self, item_id: str) -> Item | None:
        item = self._repository.get_item(item_id)
        for attempt in self._attempts():
            if item is None:
                return None
            try:
                self._repository.delete_item(item)
                return item
            except StaleItems as stale:  # changed meanwhile: delete (and return) the item as it is now
                item = _refreshed(stale, item_id, item, attempt)
        raise TooMuchContention(f"deleteItem {item_id}")

    def adjust_stock(self, command: AdjustStock) -> StockMovement:
        fingerprint = _fingerprint(
            {"itemId": command.item_id, "delta": command.delta, "reason": command.reason, "ref": command.reference}
        )

        def plan(items: dict[str, Item]) -> list[StockChange]:
            item = items.get(command.item_id)
            if item is None:
                raise ItemNotFound(command.item_id)
            if item.quantity + command.delta < 0:
                raise InsufficientStock([{"itemId": item.id, "available": item.quantity, "requested": -command.delta}])
            if item.quantity + command.delta > MAX_AMOUNT:
                raise ValidationError("input.delta", f"would raise the quantity above {MAX_AMOUNT}")
            now = timestamp(self._clock())
            return [self._stock_change(item, command.delta, command.reason, command.reference, now)]

        (movement,) = self._write_stock(
            [command.item_id], RequestKind.ADJUST_STOCK, command.idempotency_key, fingerprint, plan
        )
        return movement

    def fulfill_order(self, command: FulfillOrder) -> OrderResult:
        fingerprint = _fingerprint(sorted([line.item_id, line.quantity] for line in command.lines))

        def plan(items: dict[str, Item]) -> list[StockChange]:
            for line in command.lines:
                if line.item_id not in items:
                    raise ItemNotFound(line.item_id)
            short = [
                {"itemId": line.item_id, "available": items[line.item_id].quantity, "requested": line.quantity}
                for line in command.lines
                if items[line.item_id].quantity < line.quantity
            ]
            if short:
                raise InsufficientStock(short)
            now = timestamp(self._clock())
            return [
                self._stock_change(items[line.item_id], -line.quantity, MovementReason.SOLD, command.order_id, now)
                for line in command.lines
            ]

        item_ids = [line.item_id for line in command.lines]
        movements = self._write_stock(item_ids, RequestKind.FULFILL_ORDER, command.order_id, fingerprint, plan)
        return OrderResult(command.order_id, movements)

    # Internals

    def _write_stock(
        self, item_ids: Sequence[str], kind: RequestKind, key: str, fingerprint: str, plan: StockPlan
    ) -> tuple[StockMovement, ...]:
        """Apply a stock plan once per idempotency key: optimistic, all-or-nothing, retried on lost races.

        A request seen before is answered from its record (or refused if its input differs) before anything else,
        because a replay must return what the first call returned even if stock or items changed since.
        """
        items, record = self._repository.read_for_stock_change(item_ids, kind, key)
        for attempt in self._attempts():
            if record is not None:
                if record.fingerprint != fingerprint:
                    raise IdempotencyConflict(key, "idempotencyKey" if kind is RequestKind.ADJUST_STOCK else "orderId")
                return record.movements
            changes = plan(items)
            movements = tuple(change.movement for change in changes)
            try:
                self._repository.apply_stock_changes(
                    changes, RequestRecord(kind, key, fingerprint, movements, self._expiry(kind))
                )
                return movements
            except RequestAlreadyApplied as applied:
                record = applied.record
            except StaleItems as stale:
                for item_id, current in stale.current.items():
                    if current is None:
                        items.pop(item_id, None)
                    else:
                        items[item_id] = current
                if not stale.current:
                    _back_off(attempt)
        raise TooMuchContention(f"{kind} {key}")

    def _attempts(self) -> range:
        return range(self._max_attempts)

    def _expiry(self, kind: RequestKind) -> int | None:
        if kind is RequestKind.FULFILL_ORDER:
            return None  # an order id applies once, ever
        expires = self._clock() + timedelta(hours=self._settings.idempotency_ttl_hours)
        return math.ceil(expires.timestamp())  # rounding down would forget a key before its promised time

    def _stock_change(
        self, item: Item, delta: int, reason: MovementReason, reference: str | None, now: str
    ) -> StockChange:
        after = item.with_stock(item.quantity + delta, now)
        movement = StockMovement(
            id=self._new_id(),
            item_id=item.id,
            delta=delta,
            quantity_after=after.quantity,
            reason=reason,
            reference=reference,
            created_at=now,
            sequence=after.stock_revision,
        )
        return StockChange(item, after, movement)


def _back_off(attempt: int) -> None:
    """After a transaction conflict that told us nothing new: a short, jittered, growing wait before retrying."""
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))


def _refreshed(stale: StaleItems, item_id: str, read: Item, attempt: int) -> Item | None:
    """The item as storage returned it with the failed condition; the same read (after a pause) if it said nothing."""
    if item_id in stale.current:
        return stale.current[item_id]
    _back_off(attempt)
    return read


def _apply_update(item: Item, command: UpdateItem, now: str) -> Item:
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
        item.status is ItemStatus.DISCONTINUED if command.status is UNSET else command.status is ItemStatus.DISCONTINUED
    )
    return item._replace(
        **changes,
        status=status_for(item.quantity, discontinued),
        version=item.version + 1,
        updated_at=now,
    )


def _matches(item: Item, item_filter: ItemFilter) -> bool:
    if item_filter.category is not None:
        return item.category == item_filter.category
    if item_filter.status is not None:
        return item.status is item_filter.status
    if item_filter.low_stock:
        return item.low_stock
    return True


def _fingerprint(request: Any) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()
