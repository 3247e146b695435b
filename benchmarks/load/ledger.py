"""What the load test's clients were told: every stock write acknowledged, refused, or left without an answer, and
every acknowledged updateItem. The invariant check compares it with what the API holds at the end.

A request without a clear answer (a transport failure, an unexpected error such as InternalError: either fails the
run anyway) may or may not have been applied; the check accepts either, but not a half: an order is all its lines or
none. An expected refusal (InsufficientStock, VersionConflict) must have written nothing.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class Adjustment:
    """An adjustStock input; its reference is its idempotency key, so its movement can be found by reference."""

    key: str
    item_id: str
    delta: int
    reason: str

    def variables(self) -> Json:
        return {
            "input": {
                "itemId": self.item_id,
                "delta": self.delta,
                "reason": self.reason,
                "reference": self.key,
                "idempotencyKey": self.key,
            }
        }


@dataclass(frozen=True)
class Order:
    """A fulfillOrder input: item id -> units. Its movements carry the orderId as reference."""

    order_id: str
    lines: tuple[tuple[str, int], ...]

    def variables(self, lines: tuple[tuple[str, int], ...] | None = None) -> Json:
        sent = self.lines if lines is None else lines
        return {
            "input": {"orderId": self.order_id, "lines": [{"itemId": item, "quantity": units} for item, units in sent]}
        }


@dataclass
class Ledger:
    """Shared by the client threads; every method takes the lock."""

    adjustments: dict[str, tuple[Adjustment, Json]] = field(default_factory=dict)  # acknowledged: input, movement
    refused_adjustments: dict[str, Adjustment] = field(default_factory=dict)
    unanswered_adjustments: dict[str, Adjustment] = field(default_factory=dict)
    orders: dict[str, tuple[Order, list[Json]]] = field(default_factory=dict)  # acknowledged: input, movements
    refused_orders: dict[str, Order] = field(default_factory=dict)
    unanswered_orders: dict[str, Order] = field(default_factory=dict)
    updates: defaultdict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # expectedVersions
    unanswered_updates: Counter[str] = field(default_factory=Counter)
    versions: dict[str, int] = field(default_factory=dict)  # the latest version a client saw, per item
    violations: list[str] = field(default_factory=list)  # seen during the run (a replay's different answer, ...)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def acknowledged_adjustment(self, adjustment: Adjustment, movement: Json) -> None:
        with self._lock:
            self.adjustments[adjustment.key] = (adjustment, movement)

    def refused_adjustment(self, adjustment: Adjustment) -> None:
        with self._lock:
            self.refused_adjustments[adjustment.key] = adjustment

    def unanswered_adjustment(self, adjustment: Adjustment) -> None:
        with self._lock:
            self.unanswered_adjustments[adjustment.key] = adjustment

    def acknowledged_order(self, order: Order, movements: list[Json]) -> None:
        with self._lock:
            self.orders[order.order_id] = (order, movements)

    def refused_order(self, order: Order) -> None:
        with self._lock:
            self.refused_orders[order.order_id] = order

    def unanswered_order(self, order: Order) -> None:
        with self._lock:
            self.unanswered_orders[order.order_id] = order

    def acknowledged_update(self, item_id: str, expected_version: int) -> None:
        with self._lock:
            self.updates[item_id].append(expected_version)

    def unanswered_update(self, item_id: str) -> None:
        with self._lock:
            self.unanswered_updates[item_id] += 1

    def saw_version(self, item_id: str, version: int) -> None:
        with self._lock:
            self.versions[item_id] = max(version, self.versions.get(item_id, 0))

    def violation(self, message: str) -> None:
        with self._lock:
            self.violations.append(message)

    def any_adjustment(self, pick: int) -> tuple[Adjustment, Json] | None:
        """The ``pick``-th acknowledged adjustment (modulo their count), for a replay."""
        with self._lock:
            if not self.adjustments:
                return None
            keys = list(self.adjustments)
            return self.adjustments[keys[pick % len(keys)]]

    def any_order(self, pick: int) -> tuple[Order, list[Json]] | None:
        with self._lock:
            if not self.orders:
                return None
            keys = list(self.orders)
            return self.orders[keys[pick % len(keys)]]

    def stale_version(self, item_id: str, pick: int) -> int | None:
        """An expectedVersion an acknowledged update already used on the item: stale for sure."""
        with self._lock:
            used = self.updates.get(item_id)
            return used[pick % len(used)] if used else None
