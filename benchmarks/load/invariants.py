"""The stock invariants, checked on what the API holds at the end of a load run against what its clients were told.

Pure functions over plain data, so that a test can hand them a broken history and see each violation named.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.load.ledger import Ledger

Json = dict[str, Any]


@dataclass(frozen=True)
class ItemState:
    """An item as the API shows it after the run: its quantity, version and every movement, oldest first."""

    item_id: str
    initial: int  # createItem's quantity
    quantity: int
    version: int
    movements: Sequence[Json]  # id, itemId, delta, quantityAfter, reason, reference


def violations(items: Iterable[ItemState], ledger: Ledger) -> list[str]:
    """Every broken invariant, one line each; empty when the data is exactly what the acknowledged requests made."""
    found = list(ledger.violations)
    by_reference: defaultdict[str, list[Json]] = defaultdict(list)
    for item in items:
        found += _stock(item)
        found += _version(item, ledger.updates.get(item.item_id, []), ledger.unanswered_updates[item.item_id])
        for movement in item.movements[1:] if item.initial else item.movements:
            by_reference[str(movement.get("reference"))].append(movement)
    found += _adjustments(by_reference, ledger)
    found += _orders(by_reference, ledger)
    known = {*ledger.adjustments, *ledger.unanswered_adjustments, *ledger.orders, *ledger.unanswered_orders}
    for reference in sorted(by_reference.keys() - known):
        found.append(
            f"movements with reference {reference!r} that no acknowledged request made: {len(by_reference[reference])}"
        )
    return found


def _stock(item: ItemState) -> list[str]:
    """quantity = initial + the deltas of the movements after the creation's; never below 0; each movement's
    quantityAfter is the running total (no lost or doubled movement in between)."""
    found = []
    name = f"item {item.item_id}"
    if item.quantity < 0:
        found.append(f"{name}: quantity {item.quantity} is negative")
    later = item.movements
    if item.initial:
        if not item.movements or item.movements[0]["delta"] != item.initial:
            found.append(f"{name}: its first movement is not its initial stock of {item.initial}")
        later = item.movements[1:]
    running = item.initial
    for movement in later:
        running += movement["delta"]
        if movement["quantityAfter"] != running:
            found.append(
                f"{name}: movement {movement['id']} says quantityAfter {movement['quantityAfter']},"
                f" the running total is {running}"
            )
        if movement["quantityAfter"] < 0:
            found.append(f"{name}: movement {movement['id']} took the stock to {movement['quantityAfter']}")
    if running != item.quantity:
        found.append(f"{name}: quantity {item.quantity} != initial {item.initial} + sum of movement deltas = {running}")
    return found


def _version(item: ItemState, acknowledged: Sequence[int], unanswered: int) -> list[str]:
    """Only this run's updateItem calls change the version: one bump per acknowledged call, each from a version of
    its own (two updates accepted with the same expectedVersion is a lost update)."""
    found = []
    repeated = sorted(version for version, count in Counter(acknowledged).items() if count > 1)
    if repeated:
        found.append(f"item {item.item_id}: updates accepted twice with expectedVersion {repeated}")
    low, high = 1 + len(acknowledged), 1 + len(acknowledged) + unanswered
    if not low <= item.version <= high:
        found.append(f"item {item.item_id}: version {item.version}, expected {low} after {len(acknowledged)} updates")
    return found


def _adjustments(by_reference: Mapping[str, list[Json]], ledger: Ledger) -> list[str]:
    found = []
    for key, (adjustment, answer) in ledger.adjustments.items():
        made = by_reference.get(key, [])
        same = [m for m in made if m["id"] == answer["id"] and m["itemId"] == adjustment.item_id]
        if len(made) != 1 or len(same) != 1 or same[0]["delta"] != adjustment.delta:
            found.append(f"adjustStock {key}: acknowledged movement {answer['id']}, found {_ids(made)}")
    for key in ledger.refused_adjustments:
        if by_reference.get(key):
            found.append(f"adjustStock {key}: refused, yet it made {_ids(by_reference[key])}")
    for key, adjustment in ledger.unanswered_adjustments.items():
        made = by_reference.get(key, [])
        if len(made) > 1 or any(m["itemId"] != adjustment.item_id or m["delta"] != adjustment.delta for m in made):
            found.append(f"adjustStock {key} (no answer): made {_ids(made)}")
    return found


def _orders(by_reference: Mapping[str, list[Json]], ledger: Ledger) -> list[str]:
    found = []
    for order_id, (order, answer) in ledger.orders.items():
        made = by_reference.get(order_id, [])
        expected = sorted((item, -units) for item, units in order.lines)
        if sorted((m["itemId"], m["delta"]) for m in made) != expected or _ids(made) != _ids(answer):
            found.append(f"fulfillOrder {order_id}: acknowledged {_ids(answer)}, found {_ids(made)}")
    for order_id in ledger.refused_orders:
        if by_reference.get(order_id):
            found.append(f"fulfillOrder {order_id}: refused, yet it made {_ids(by_reference[order_id])}")
    for order_id, order in ledger.unanswered_orders.items():
        lines = sorted((m["itemId"], m["delta"]) for m in by_reference.get(order_id, []))
        if lines and lines != sorted((item, -units) for item, units in order.lines):
            found.append(f"fulfillOrder {order_id} (no answer): half applied, {lines}")
    return found


def _ids(movements: Iterable[Json]) -> list[str]:
    return sorted(str(movement["id"]) for movement in movements)
