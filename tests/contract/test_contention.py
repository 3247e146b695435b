"""The contention benchmark of ``make bench``: a short run of clients racing on one item through the Lambda handlers
keeps every invariant and answers no InternalError; and its check catches what it is there to catch (a unit sold
twice, a sale nobody made, a gap in the sequence, a wrong onHand at a location, a leaked or vanished hold)."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from benchmarks.contention.clients import Held, Ledger
from benchmarks.contention.invariants import Final, Totals, totals, violations
from benchmarks.contention.report import WRITES, verdict
from benchmarks.contention.run import ContentionSettings, run_contention


def test_a_short_contention_run_on_one_item_keeps_every_invariant() -> None:
    # Seed 4: the three buyers' first turns are a committed checkout, an order and a released checkout.
    report = run_contention(ContentionSettings(clients=4, seconds=2, seed=4))

    result = verdict(report)
    assert report.failure is None
    assert list(result.violations) == []
    assert result.internal_errors == 0
    assert dict(result.unexpected_errors) == {}
    assert result.passed
    # it did what it says: every kind of purchase succeeded, each made at least one transaction, all was read back
    succeeded = Counter(operation for operation, outcome in report.samples if outcome.ok)
    assert {"reserveStock", "commitReservation", "releaseReservation", "fulfillOrder"} <= succeeded.keys()
    assert sum(report.attempts.values()) >= sum(succeeded[operation] for operation in WRITES)
    assert report.final is not None and report.totals is not None
    assert report.totals.sold == report.totals.taken > 0
    assert set(report.final.reservations) == set(report.ledger.reservations)


# The check on a history built by hand: 10 units at MAIN, a reservation of 2 committed, one of 1 released, one of 3
# still active, an order of 1.


def movement(sequence: int, delta: int, after: int, reason: str, reference: str) -> dict[str, Any]:
    return {
        "id": f"m{sequence}",
        "sequence": sequence,
        "delta": delta,
        "quantityAfter": after,
        "locationId": "MAIN",
        "locationQuantityAfter": after,
        "reason": reason,
        "reference": reference,
    }


def reservation(status: str, movements: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"status": status, "movements": movements or []}


@pytest.fixture
def history() -> tuple[Final, Ledger]:
    movements = [
        movement(1, 10, 10, "RECEIVED", "initial stock"),
        movement(2, -2, 8, "SOLD", "cart-1"),
        movement(3, -1, 7, "SOLD", "order-1"),
    ]
    item = {
        "onHand": 7,
        "quantity": 7,
        "reserved": 3,
        "levels": [{"locationId": "MAIN", "onHand": 7, "reserved": 3, "available": 4}],
    }
    reservations = {
        "cart-1": reservation("COMMITTED", [movements[1]]),
        "cart-2": reservation("RELEASED"),
        "cart-3": reservation("ACTIVE"),
    }
    ledger = Ledger()
    for reservation_id, units in (("cart-1", 2), ("cart-2", 1), ("cart-3", 3)):
        ledger.reserved(reservation_id, Held("MAIN", units))
    ledger.committed("cart-1", [movements[1]])
    ledger.released("cart-2")
    ledger.ordered("order-1", Held("MAIN", 1), [movements[2]])
    return Final(item, movements, reservations), ledger


def test_the_check_accepts_a_correct_history(history: tuple[Final, Ledger]) -> None:
    final, ledger = history
    assert violations(final, ledger) == []
    assert totals(final, ledger) == Totals(sold=3, taken=3)


def test_the_check_names_a_unit_sold_twice(history: tuple[Final, Ledger]) -> None:
    final, ledger = history
    twice = {**final.movements[1], "id": "m4", "sequence": 4, "quantityAfter": 5, "locationQuantityAfter": 5}
    broken = Final({**final.item, "onHand": 5, "quantity": 5, "levels": [{**final.item["levels"][0], "onHand": 5}]},
                   [*final.movements, twice], final.reservations)  # fmt: skip
    found = violations(broken, ledger)
    assert any("reservation cart-1" in line for line in found), found
    assert totals(broken, ledger) == Totals(sold=5, taken=3)


def test_the_check_names_a_sale_that_no_request_made(history: tuple[Final, Ledger]) -> None:
    final, ledger = history
    phantom = movement(4, -1, 6, "SOLD", "nobody")
    broken = Final({**final.item, "onHand": 6, "quantity": 6, "levels": [{**final.item["levels"][0], "onHand": 6}]},
                   [*final.movements, phantom], final.reservations)  # fmt: skip
    assert any("'nobody'" in line for line in violations(broken, ledger))


def test_the_check_names_a_released_reservation_that_sold(history: tuple[Final, Ledger]) -> None:
    final, ledger = history
    movements = copy.deepcopy(list(final.movements))
    movements[2]["reference"] = "cart-2"  # the order's unit, sold under the released reservation's name
    assert any(
        "cart-2 (RELEASED) sold" in line
        for line in violations(Final(final.item, movements, final.reservations), ledger)
    )


def test_the_check_names_a_gap_in_the_sequence_and_a_wrong_running_total(history: tuple[Final, Ledger]) -> None:
    final, ledger = history
    movements = copy.deepcopy(list(final.movements))
    movements[2]["sequence"] = 4
    movements[1]["quantityAfter"] = 9
    found = violations(Final(final.item, movements, final.reservations), ledger)
    assert any("sequence not gapless" in line and "missing [3]" in line for line in found), found
    assert any("movement 2: quantityAfter 9" in line for line in found), found


def test_the_check_names_an_on_hand_that_is_not_the_sum_of_its_location_deltas(history: tuple[Final, Ledger]) -> None:
    final, ledger = history
    levels = [{**final.item["levels"][0], "onHand": 6}, {"locationId": "SHOP", "onHand": 1, "reserved": 0}]
    found = violations(Final({**final.item, "levels": levels}, final.movements, final.reservations), ledger)
    assert any("onHand at MAIN 6 != sum of its deltas 7" in line for line in found), found
    assert any("onHand at SHOP 1 != sum of its deltas 0" in line for line in found), found


@pytest.mark.parametrize(
    ("reserved", "expected"), [(1, "reserved at MAIN 1 != ACTIVE"), (8, "reserved at MAIN 8 > onHand 7")]
)
def test_the_check_names_a_leaked_or_vanished_hold(history: tuple[Final, Ledger], reserved: int, expected: str) -> None:
    final, ledger = history
    item = {**final.item, "reserved": reserved, "levels": [{**final.item["levels"][0], "reserved": reserved}]}
    found = violations(Final(item, final.movements, final.reservations), ledger)
    assert any(expected in line for line in found), found


def test_the_check_names_a_reservation_whose_status_is_not_what_its_client_was_told(
    history: tuple[Final, Ledger],
) -> None:
    final, ledger = history
    reservations = {**final.reservations, "cart-2": reservation("ACTIVE")}  # its release was acknowledged
    found = violations(Final(final.item, final.movements, reservations), ledger)
    assert any("cart-2: told RELEASED, reads ACTIVE" in line for line in found), found
