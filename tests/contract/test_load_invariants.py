"""The load test of ``make bench``: a short run against the real local server keeps every stock invariant and answers
no InternalError; and its invariant check and verdict catch what they are there to catch (lost, doubled, half-applied
and phantom movements, a wrong total, a negative stock, a lost update, an unexpected errorType)."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import Any

import pytest

from benchmarks.load.client import TRANSPORT_ERROR
from benchmarks.load.invariants import ItemState, violations
from benchmarks.load.ledger import Adjustment, Ledger, Order
from benchmarks.load.report import verdict
from benchmarks.load.run import LoadReport, LoadSettings, run_load
from benchmarks.load.workload import CatalogueItem, Workload
from benchmarks.outcomes import Outcome


def test_a_short_concurrent_load_on_the_local_server_keeps_the_stock_invariants() -> None:
    settings = LoadSettings(clients=4, duration=3, seed=7)

    report = run_load(settings)

    result = verdict(report)
    assert result.internal_errors == 0, report.server_log
    assert result.transport_errors == 0
    assert dict(result.unexpected_errors) == {}, report.server_log
    assert list(result.violations) == []
    assert list(result.processes_left) == []  # neither the server nor DynamoDB Local outlives the run
    assert result.passed
    # it did what it says: writes of every kind were acknowledged, then every item was read back with its history
    ledger = report.ledger
    assert ledger.adjustments and ledger.orders and ledger.updates
    assert report.items_checked == settings.items
    assert report.movements_checked >= settings.items + len(ledger.adjustments) + len(ledger.orders)
    assert {operation for operation, _ in report.samples} >= {
        "getItem",
        "getItemBySku",
        "listItems with movements",
        "adjustStock",
        "fulfillOrder",
        "updateItem",
    }


# The check on a history built by hand: two items, one adjustment, one order, one refused order, one update.

HOT, COLD = "item-hot", "item-cold"


def movement(movement_id: str, item_id: str, delta: int, after: int, reference: str | None) -> dict[str, Any]:
    return {
        "id": movement_id,
        "itemId": item_id,
        "delta": delta,
        "quantityAfter": after,
        "reason": "RECEIVED" if delta > 0 else "SOLD",
        "reference": reference,
    }


def clean_history() -> tuple[list[ItemState], Ledger]:
    ledger = Ledger()
    received = movement("m-hot-2", HOT, 3, 13, "key-1")
    ledger.acknowledged_adjustment(Adjustment("key-1", HOT, 3, "RECEIVED"), received)
    sold = [movement("m-hot-3", HOT, -2, 11, "order-1"), movement("m-cold-2", COLD, -1, 99, "order-1")]
    ledger.acknowledged_order(Order("order-1", ((HOT, 2), (COLD, 1))), sold)
    ledger.refused_order(Order("order-2", ((HOT, 50), (COLD, 1))))
    ledger.acknowledged_update(COLD, 1)
    hot = ItemState(HOT, 10, 11, 1, [movement("m-hot-1", HOT, 10, 10, "initial stock"), received, sold[0]])
    cold = ItemState(COLD, 100, 99, 2, [movement("m-cold-1", COLD, 100, 100, "initial stock"), sold[1]])
    return [hot, cold], ledger


def test_the_check_finds_nothing_wrong_in_a_consistent_history() -> None:
    items, ledger = clean_history()

    assert violations(items, ledger) == []


def _lose_the_adjustment(items: list[ItemState], ledger: Ledger) -> None:
    hot = items[0]
    items[0] = dataclasses.replace(
        hot, quantity=8, movements=[hot.movements[0], {**hot.movements[2], "quantityAfter": 8}]
    )


def _apply_the_adjustment_twice(items: list[ItemState], ledger: Ledger) -> None:
    hot = items[0]
    again = movement("m-hot-4", HOT, 3, 14, "key-1")
    items[0] = dataclasses.replace(hot, quantity=14, movements=[*hot.movements, again])


def _half_apply_the_refused_order(items: list[ItemState], ledger: Ledger) -> None:
    cold = items[1]
    items[1] = dataclasses.replace(
        cold, quantity=98, movements=[*cold.movements, movement("m", COLD, -1, 98, "order-2")]
    )


def _write_a_movement_nobody_asked_for(items: list[ItemState], ledger: Ledger) -> None:
    cold = items[1]
    items[1] = dataclasses.replace(cold, quantity=98, movements=[*cold.movements, movement("m", COLD, -1, 98, "ghost")])


def _lose_a_movement_s_effect_on_the_quantity(items: list[ItemState], ledger: Ledger) -> None:
    items[0] = dataclasses.replace(items[0], quantity=13)


def _drive_the_stock_below_zero(items: list[ItemState], ledger: Ledger) -> None:
    hot = items[0]
    oversold = movement("m-hot-4", HOT, -12, -1, "key-2")
    ledger.acknowledged_adjustment(Adjustment("key-2", HOT, -12, "DAMAGED"), oversold)
    items[0] = dataclasses.replace(hot, quantity=-1, movements=[*hot.movements, oversold])


def _accept_two_updates_from_one_version(items: list[ItemState], ledger: Ledger) -> None:
    ledger.acknowledged_update(COLD, 1)
    items[1] = dataclasses.replace(items[1], version=3)


def _lose_an_acknowledged_update(items: list[ItemState], ledger: Ledger) -> None:
    items[1] = dataclasses.replace(items[1], version=1)


@pytest.mark.parametrize(
    ("corrupt", "named"),
    [
        (_lose_the_adjustment, "adjustStock key-1: acknowledged movement m-hot-2, found []"),
        (_apply_the_adjustment_twice, "adjustStock key-1: acknowledged movement m-hot-2, found ['m-hot-2', 'm-hot-4']"),
        (_half_apply_the_refused_order, "fulfillOrder order-2: refused, yet it made ['m']"),
        (_write_a_movement_nobody_asked_for, "reference 'ghost' that no acknowledged request made"),
        (_lose_a_movement_s_effect_on_the_quantity, "quantity 13 != initial 10 + sum of movement deltas = 11"),
        (_drive_the_stock_below_zero, "quantity -1 is negative"),
        (_accept_two_updates_from_one_version, "updates accepted twice with expectedVersion [1]"),
        (_lose_an_acknowledged_update, "version 1, expected 2 after 1 updates"),
    ],
)
def test_the_check_names_each_broken_invariant(corrupt: Callable[[list[ItemState], Ledger], None], named: str) -> None:
    items, ledger = clean_history()

    corrupt(items, ledger)

    assert any(named in line for line in violations(items, ledger)), violations(items, ledger)


def test_a_replay_answered_differently_during_the_run_is_a_violation() -> None:
    items, ledger = clean_history()
    ledger.violation("adjustStock key-1 replayed: a new movement")

    assert violations(items, ledger) == ["adjustStock key-1 replayed: a new movement"]


def _report(*samples: tuple[str, Outcome]) -> LoadReport:
    return LoadReport(LoadSettings(clients=1, duration=1), seed=0, seconds=1.0, samples=list(samples))


def test_expected_refusals_pass_and_any_other_error_fails_the_run() -> None:
    refusals = _report(
        ("fulfillOrder", Outcome(0.01, error_type="InsufficientStock")),
        ("updateItem", Outcome(0.01, error_type="VersionConflict")),
        ("getItem", Outcome(0.01, data={"id": "x"})),
    )
    assert verdict(refusals).passed

    internal = verdict(_report(("adjustStock", Outcome(0.01, error_type="InternalError"))))
    assert not internal.passed
    assert internal.internal_errors == 1

    transport = verdict(_report(("getItem", Outcome(0.01, error_type=TRANSPORT_ERROR))))
    assert (transport.passed, transport.transport_errors) == (False, 1)

    # a refusal where it cannot happen: a replay must return its first answer
    replay = verdict(_report(("adjustStock, replay", Outcome(0.01, error_type="InsufficientStock"))))
    assert not replay.passed
    assert dict(replay.unexpected_errors) == {"InsufficientStock": 1}


class _NullAnswers:
    """A client to which every item is missing."""

    def execute(self, query: str, variables: dict[str, Any], field: str) -> Outcome:
        return Outcome(0.01, data=None)


def test_an_item_of_the_catalogue_read_as_null_is_a_violation() -> None:
    ledger = Ledger()
    catalogue = [CatalogueItem("id-hot", "SKU-HOT", 10, hot=True), CatalogueItem("id-cold", "SKU-COLD", 99, hot=False)]
    workload = Workload(_NullAnswers(), catalogue, ledger, "c0", random.Random(0))  # type: ignore[arg-type]

    workload.get_item()
    workload.get_item_by_sku()

    assert len(ledger.violations) == 2
    assert all("read as None" in line for line in ledger.violations)
