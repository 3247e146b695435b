"""Races of contract v2 through the handlers on DynamoDB Local: holds never oversell, a reservation ends in exactly
one outcome, and after every race the ledger adds up (per location and in total, sequence without gap).

As in test_concurrency.py, each thread has its own AppSyncResolver and all share the cached service and client.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import pytest

from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.repository import StaleItems
from tests.appsync import container_per_thread, error_of, is_error, query
from tests.integration.conftest import NewItem
from tests.integration.stock import (
    adjust,
    assert_ledger,
    commit,
    create_location,
    epoch_ms,
    fulfill,
    item,
    movements,
    ok,
    release,
    reserve,
    set_stock,
    sleep_until,
    transfer,
)


@pytest.fixture(autouse=True)
def _one_container_per_thread() -> Iterator[None]:
    with container_per_thread():
        yield


def race(calls: Sequence[Callable[[], Any]], at: Sequence[float] | None = None) -> list[Any]:
    """Run every call on its own thread; all released at once, or each at its epoch second in ``at``."""
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> Any:
        barrier.wait(timeout=30)
        if at is not None:
            time.sleep(max(0.0, at[index] - time.time()))
        return calls[index]()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, range(len(calls))))


def error_types(results: Sequence[Any]) -> Counter[str]:
    return Counter(error_of(result)["type"] for result in results if is_error(result))


def answered_movements(results: Sequence[Any]) -> list[dict[str, Any]]:
    """The movements the successful answers carry (a movement, or a result holding ``movements``)."""
    found = []
    for result in results:
        if is_error(result):
            continue
        found += result.get("movements", [result])
    return found


def test_twenty_threads_reserving_the_last_units_reserve_exactly_what_is_available(new_item: NewItem) -> None:
    created = new_item(quantity=10)
    ok(fulfill("order-0", [(created["id"], 3)]))
    ok(reserve("cart-0", [(created["id"], 2)]))  # available: 10 - 3 - 2 = 5

    results = race([partial(reserve, f"cart-{n}", [(created["id"], 1)]) for n in range(1, 21)])

    held = [result for result in results if not is_error(result)]
    assert len(held) == 5
    assert {result["status"] for result in held} == {"ACTIVE"}
    assert error_types(results) == Counter({"InsufficientStock": 15})
    for result in results:
        if is_error(result):
            assert error_of(result)["info"] == {"lines": [{"itemId": created["id"], "available": 0, "requested": 1}]}
    after = assert_ledger(created["id"])
    assert (after["onHand"], after["reserved"], after["available"]) == (7, 7, 0)
    stored = [query("getReservation", {"id": f"cart-{n}"}) for n in range(1, 21)]
    assert sorted(r["id"] for r in stored if r is not None) == sorted(r["id"] for r in held)


def test_twenty_threads_reserving_two_units_each_never_hold_more_than_is_available(new_item: NewItem) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=3)
    ok(adjust(created["id"], 9, "RECEIVED", locationId=shop["id"]))

    results = race([partial(reserve, f"cart-{n}", [(created["id"], 2)], location_id=shop["id"]) for n in range(20)])

    assert len([result for result in results if not is_error(result)]) == 4
    assert error_types(results) == Counter({"InsufficientStock": 16})
    after = assert_ledger(created["id"])
    assert [(level["locationCode"], level["onHand"], level["reserved"]) for level in after["levels"]] == [
        ("MAIN", 3, 0),
        ("SHOP", 9, 8),
    ]


def test_racing_replays_of_one_reservation_hold_once_and_all_answer_it(new_item: NewItem) -> None:
    created = new_item(quantity=10)

    results = race(
        [partial(reserve, "cart", [(created["id"], 3)]) for _ in range(8)]
        + [partial(reserve, "cart", [(created["id"], 4)]) for _ in range(2)]
    )

    stored = query("getReservation", {"id": "cart"})
    winner = stored["lines"][0]["quantity"]
    for result, asked in zip(results, [3] * 8 + [4] * 2, strict=True):
        if asked == winner:
            assert result == stored  # the first request or a replay of it
        else:
            assert error_of(result)["type"] == "IdempotencyConflict"
    after = assert_ledger(created["id"])
    assert (after["reserved"], after["available"]) == (winner, 10 - winner)


@pytest.mark.parametrize("around_ms", [(-80, 40), (-60, -16), (5, 60)])
def test_racing_commit_release_and_expiry_of_one_reservation_end_in_exactly_one_outcome(
    new_item: NewItem, around_ms: tuple[int, int]
) -> None:
    first, second = new_item(quantity=5), new_item(quantity=5)
    reservation = ok(reserve("cart", [(first["id"], 2), (second["id"], 3)], seconds=1))
    ends = epoch_ms(reservation["expiresAt"]) / 1000
    low, high = around_ms
    offsets = [(low + (high - low) * n / 11) / 1000 for n in range(12)]  # spread around expiresAt
    calls = [partial(commit, "cart") if n % 2 else partial(release, "cart") for n in range(12)]

    results = race(calls, at=[ends + offset for offset in offsets])

    final = query("getReservation", {"id": "cart"})
    status = final["status"]
    commits, releases = results[1::2], results[0::2]
    expired = {**reservation, "status": "EXPIRED"}
    # Exactly one outcome: at most one kind of transition, and the stored reservation and stock agree with it.
    # Answers of EXPIRED stay possible in every outcome (see the notes): a request that read the reservation ACTIVE
    # just before a commit or release decided before expiresAt landed, and itself decided after expiresAt.
    committed = [result for result in commits if not is_error(result)]
    released = [result for result in releases if not is_error(result) and result["status"] == "RELEASED"]
    assert all(result == final for result in committed + released), (committed, released)
    assert not (committed and released)
    assert all(result == expired for result in releases if result not in released and not is_error(result))
    assert {error_of(result)["info"]["status"] for result in commits if is_error(result)} <= {status, "EXPIRED"}
    assert {error_of(result)["info"]["status"] for result in releases if is_error(result)} <= {"COMMITTED"}
    sold = [m for found in (first, second) for m in movements(found["id"]) if m["reason"] == "SOLD"]
    if status == "COMMITTED":
        assert [(m["delta"], m["reference"]) for m in final["movements"]] == [(-2, "cart"), (-3, "cart")]
        assert sorted(m["id"] for m in sold) == sorted(m["id"] for m in final["movements"])
        totals = (3, 2)
    else:
        assert status in {"RELEASED", "EXPIRED"}, final
        assert final == {**reservation, "status": status}
        assert not committed
        assert sold == []
        totals = (5, 5)
    if status != "RELEASED":
        assert not released
    for found, total in zip((first, second), totals, strict=True):
        after = assert_ledger(found["id"])
        assert (after["onHand"], after["reserved"], after["available"]) == (total, 0, total)


def test_reservations_committed_and_released_while_orders_sell_one_item_add_up(new_item: NewItem) -> None:
    created = new_item(quantity=30)
    for n in range(8):
        ok(reserve(f"cart-{n}", [(created["id"], 2)]))  # 16 held, 14 available

    results = race(
        [partial(commit, f"cart-{n}") for n in range(4)]
        + [partial(release, f"cart-{n}") for n in range(4, 8)]
        + [partial(fulfill, f"order-{n}", [(created["id"], 3)]) for n in range(8)]
        + [partial(reserve, f"cart-new-{n}", [(created["id"], 2)]) for n in range(4)]
    )

    commits, releases, orders, reserves = results[:4], results[4:8], results[8:16], results[16:]
    assert not any(is_error(result) for result in commits + releases), error_types(commits + releases)
    assert set(error_types(orders + reserves)) <= {"InsufficientStock"}
    ordered = 3 * len([r for r in orders if not is_error(r)])
    held = 2 * len([r for r in reserves if not is_error(r)])
    # 14 available at first, 8 more once released: never more sold or held than that.
    assert ordered + held <= 22
    after = assert_ledger(created["id"])
    assert (after["onHand"], after["reserved"]) == (30 - 8 - ordered, held)
    recorded = {m["id"] for m in movements(created["id"])}
    assert {m["id"] for m in answered_movements(commits + orders)} <= recorded
    assert len(recorded) == 1 + 4 + ordered // 3


def test_concurrent_transfers_orders_counts_and_reservations_on_one_item_keep_the_ledger(new_item: NewItem) -> None:
    shop = create_location("SHOP")
    created = new_item(quantity=20)
    ok(adjust(created["id"], 10, "RECEIVED", locationId=shop["id"]))
    key = str(uuid.uuid4())

    calls: list[Callable[[], Any]] = [
        *(partial(transfer, "MAIN", shop["id"], [(created["id"], 2)]) for _ in range(5)),
        *(partial(transfer, shop["id"], "MAIN", [(created["id"], 1)]) for _ in range(4)),
        *(partial(fulfill, f"order-main-{n}", [(created["id"], 2)]) for n in range(4)),
        *(partial(fulfill, f"order-shop-{n}", [(created["id"], 1)], locationId=shop["id"]) for n in range(3)),
        partial(set_stock, [{"itemId": created["id"], "onHand": 12}], location_id=shop["id"]),
        partial(set_stock, [{"itemId": created["id"], "onHand": 9, "compareOnHand": 10}], location_id=shop["id"]),
        *(partial(set_stock, [{"itemId": created["id"], "onHand": 15}], key=key) for _ in range(2)),  # one applies
        *(partial(reserve, f"cart-{n}", [(created["id"], 1)], location_id=shop["id"]) for n in range(3)),
        partial(adjust, created["id"], 1, "RETURNED"),
    ]
    results = race(calls)

    assert set(error_types(results)) <= {"InsufficientStock", "QuantityConflict"}, error_types(results)
    after = assert_ledger(created["id"])
    recorded = movements(created["id"])
    answered = {m["id"]: m for m in answered_movements(results)}
    assert set(answered) <= {m["id"] for m in recorded}
    assert all(answered[m["id"]] == m for m in recorded if m["id"] in answered)
    assert len(recorded) == 2 + len(answered)  # every movement but the two set-up ones was answered once
    held = len([r for r in results[-4:-1] if not is_error(r)])
    assert after["reserved"] == held
    assert {m["reason"] for m in recorded} <= {
        "RECEIVED",
        "RETURNED",
        "SOLD",
        "TRANSFER_OUT",
        "TRANSFER_IN",
        "CORRECTION",
    }
    # Each transfer is all or nothing: its OUT and IN are consecutive in the ledger.
    ordered = list(reversed(recorded))
    for index, movement in enumerate(ordered):
        if movement["reason"] == "TRANSFER_OUT":
            follower = ordered[index + 1]
            assert (follower["reason"], follower["delta"]) == ("TRANSFER_IN", -movement["delta"])
    assert item(created["id"])["onHand"] == after["onHand"]


@pytest.mark.parametrize("operation", ["commit_reservation", "release_reservation"])
def test_a_request_that_loses_a_bare_conflict_to_a_commit_answers_the_commit_even_after_expiry(
    new_item: NewItem, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    created = new_item(quantity=5)
    reservation = ok(reserve("cart", [(created["id"], 2)], seconds=1))
    real = getattr(DynamoDBInventoryRepository, operation)
    real_commit = DynamoDBInventoryRepository.commit_reservation
    other: list[Any] = []

    def loses_to_a_commit(self: DynamoDBInventoryRepository, *arguments: Any) -> None:
        if other:
            return real(self, *arguments)  # type: ignore[no-any-return]
        # Another request commits the reservation before expiresAt, while this one's transaction is in flight:
        # DynamoDB cancels this one with a TransactionConflict (StaleItems with nothing current), and it tries
        # again only once expiresAt has passed.
        monkeypatch.setattr(DynamoDBInventoryRepository, "commit_reservation", real_commit)
        with ThreadPoolExecutor(max_workers=1) as pool:
            other.append(pool.submit(commit, "cart").result())
        sleep_until(reservation["expiresAt"])
        raise StaleItems({})

    monkeypatch.setattr(DynamoDBInventoryRepository, operation, loses_to_a_commit)

    result = commit("cart") if operation == "commit_reservation" else release("cart")

    committed = ok(other[0])
    assert committed["status"] == "COMMITTED"
    if operation == "commit_reservation":
        assert result == committed  # not ReservationNotActive EXPIRED: it was committed before it expired
    else:
        assert error_of(result)["info"] == {"id": "cart", "status": "COMMITTED"}  # not EXPIRED, returned as is
    assert query("getReservation", {"id": "cart"}) == committed
    after = assert_ledger(created["id"])
    assert (after["onHand"], after["reserved"]) == (3, 0)


@pytest.mark.parametrize("around_ms", [(-60, 20), (-20, 40)])
def test_orders_racing_a_commit_around_expiry_never_sell_the_held_units_twice(
    new_item: NewItem, around_ms: tuple[int, int]
) -> None:
    created = new_item(quantity=4)
    reservation = ok(reserve("cart", [(created["id"], 4)], seconds=1))  # every unit held
    ends = epoch_ms(reservation["expiresAt"]) / 1000
    low, high = around_ms
    at = [ends + (low + (high - low) * n / 9) / 1000 for n in range(10)]
    calls = [
        partial(commit, "cart") if n % 2 else partial(fulfill, f"order-{n}", [(created["id"], 4)]) for n in range(10)
    ]

    results = race(calls, at=at)

    commits, orders = results[1::2], results[0::2]
    sold_by_orders = [result for result in orders if not is_error(result)]
    committed = [result for result in commits if not is_error(result)]
    assert set(error_types(orders)) <= {"InsufficientStock"}
    assert len(sold_by_orders) + bool(committed) <= 1  # the 4 units went once, to the checkout or to an order
    final = query("getReservation", {"id": "cart"})
    assert (final["status"] == "COMMITTED") == bool(committed)
    after = assert_ledger(created["id"])
    sold = [m for m in movements(created["id"]) if m["reason"] == "SOLD"]
    assert len(sold) == len(sold_by_orders) + bool(committed)
    assert final["status"] in {"COMMITTED", "EXPIRED"}
    assert (after["onHand"], after["reserved"]) == (4 - 4 * len(sold), 0)
