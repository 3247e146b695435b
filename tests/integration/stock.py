"""Contract v2 through the handlers, for the integration tests: the new mutations as small calls, what a refusal
must leave untouched (a snapshot), and the ledger every item must satisfy (movements that add up)."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tests.appsync import assert_no_leak, error_of, invoke_batch, is_error, mutate, query

if TYPE_CHECKING:
    from tests.integration.conftest import TableView

Json = dict[str, Any]
Lines = Sequence[tuple[str, int]]


def order_lines(lines: Lines) -> list[Json]:
    return [{"itemId": item_id, "quantity": quantity} for item_id, quantity in lines]


def reserve(
    reservation_id: str, lines: Lines, *, location_id: str | None = None, seconds: int | None = None, **more: Any
) -> Any:
    request: Json = {"reservationId": reservation_id, "lines": order_lines(lines), **more}
    if location_id is not None:
        request["locationId"] = location_id
    if seconds is not None:
        request["expiresInSeconds"] = seconds
    return mutate("reserveStock", {"input": request})


def commit(reservation_id: str) -> Any:
    return mutate("commitReservation", {"id": reservation_id})


def release(reservation_id: str) -> Any:
    return mutate("releaseReservation", {"id": reservation_id})


def transfer(source: str, destination: str, lines: Lines, key: str | None = None, **more: Any) -> Any:
    request = {
        "idempotencyKey": key or str(uuid.uuid4()),
        "fromLocationId": source,
        "toLocationId": destination,
        "lines": order_lines(lines),
        **more,
    }
    return mutate("transferStock", {"input": request})


def set_stock(lines: Sequence[Json], key: str | None = None, location_id: str | None = None, **more: Any) -> Any:
    request: Json = {"idempotencyKey": key or str(uuid.uuid4()), "lines": list(lines), **more}
    if location_id is not None:
        request["locationId"] = location_id
    return mutate("setStock", {"input": request})


def adjust(item_id: str, delta: int, reason: str = "CORRECTION", key: str | None = None, **more: Any) -> Any:
    request = {"itemId": item_id, "delta": delta, "reason": reason, "idempotencyKey": key or str(uuid.uuid4())}
    return mutate("adjustStock", {"input": {**request, **more}})


def fulfill(order_id: str, lines: Lines, **more: Any) -> Any:
    return mutate("fulfillOrder", {"input": {"orderId": order_id, "lines": order_lines(lines), **more}})


def create_location(code: str, name: str | None = None) -> Json:
    location = mutate("createLocation", {"input": {"code": code, "name": name or f"Location {code}"}})
    assert not is_error(location), location
    return location  # type: ignore[no-any-return]


def ok(result: Any) -> Json:
    """A successful answer: fails the test with the error if it is one."""
    assert not is_error(result), result
    return result  # type: ignore[no-any-return]


def refused(result: Any, error_type: str, table_name: str | None = None) -> Json:
    """The error of an envelope, checked to be ``error_type`` with a message that leaks nothing; its ``info``."""
    error = error_of(result)
    assert error["type"] == error_type, error
    assert_no_leak(error["message"], *([table_name] if table_name else []))
    return error["info"]  # type: ignore[no-any-return]


def invalid(result: Any, field: str) -> None:
    info = refused(result, "ValidationError")
    assert set(info) == {"field", "reason"} and info["reason"], info
    assert info["field"] == field, info


def item(item_id: str) -> Json:
    found = query("getItem", {"id": item_id})
    assert found is not None and not is_error(found), found
    return found  # type: ignore[no-any-return]


def movements(item_id: str) -> list[Json]:
    """Every movement of the item, newest first (Item.movements, followed page by page)."""
    found: list[Json] = []
    token = None
    while True:
        (page,) = invoke_batch("Item", "movements", [{"id": item_id}], {"limit": 100, "nextToken": token})
        assert not is_error(page), page
        found += page["items"]
        token = page["nextToken"]
        if token is None:
            return found


def snapshot(table: TableView, *item_ids: str) -> tuple[Any, ...]:
    """All a refusal must leave as it was: each item (with its levels) and movements as the API answers them, and
    every raw record of the table."""
    return tuple((query("getItem", {"id": item_id}), movements(item_id)) for item_id in item_ids), table.records()


def epoch_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def sleep_until(text: str, after_ms: int = 20) -> None:
    """Sleep until ``after_ms`` past the AWSDateTime ``text`` (an expiresAt): nothing else runs meanwhile."""
    time.sleep(max(0.0, (epoch_ms(text) + after_ms) / 1000 - time.time()))


def assert_ledger(item_id: str) -> Json:
    """The item's movements form the contract's ledger and add up to its figures; returns the item.

    Sequence 1..n without gap; each quantityAfter is the previous plus delta; per location likewise for
    locationQuantityAfter; onHand is the sum of deltas, per location and in total; reserved never exceeds onHand.
    """
    current = item(item_id)
    history = list(reversed(movements(item_id)))  # oldest first
    assert [m["sequence"] for m in history] == list(range(1, len(history) + 1))
    total = 0
    at: Counter[str] = Counter()
    for movement in history:
        total += movement["delta"]
        at[movement["locationId"]] += movement["delta"]
        assert movement["quantityAfter"] == total, movement
        assert movement["locationQuantityAfter"] == at[movement["locationId"]], movement
        assert movement["locationQuantityAfter"] >= 0, movement
    assert current["onHand"] == current["quantity"] == total
    levels = {level["locationId"]: level for level in current["levels"]}
    assert {location: level["onHand"] for location, level in levels.items() if level["onHand"]} == {
        location: units for location, units in at.items() if units
    }
    for level in current["levels"]:
        assert 0 <= level["reserved"] <= level["onHand"], level
        assert level["available"] == level["onHand"] - level["reserved"], level
    assert [level["locationCode"] for level in current["levels"]] == sorted(
        level["locationCode"] for level in current["levels"]
    )
    for figure in ("onHand", "reserved", "available"):
        assert current[figure] == sum(level[figure] for level in current["levels"]), figure
    assert current["available"] >= 0
    return current
