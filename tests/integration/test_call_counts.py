"""DynamoDB calls per operation, counted with botocore's event hooks on the handlers' own client.

They are the cost model of docs/data-model.md and do not depend on the machine. None of them may be a Scan.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

from tests.appsync import error_of, invoke_batch, is_error, mutate, query
from tests.integration.conftest import NewItem


def measure(calls: Counter[str], operation: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
    """Run ``operation`` and return its result with the DynamoDB calls it made (and only those)."""
    calls.clear()
    result = operation()
    made = dict(calls)
    assert "Scan" not in made, made
    return result, made


def adjust(item_id: str, delta: int, key: str) -> Any:
    adjustment = {"itemId": item_id, "delta": delta, "reason": "CORRECTION", "idempotencyKey": key}
    return mutate("adjustStock", {"input": adjustment})


def fulfill(order_id: str, lines: list[tuple[str, int]]) -> Any:
    order = {"orderId": order_id, "lines": [{"itemId": item_id, "quantity": quantity} for item_id, quantity in lines]}
    return mutate("fulfillOrder", {"input": order})


def test_get_item_makes_one_get_item_call(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    item = new_item()

    found, made = measure(dynamodb_calls, lambda: query("getItem", {"id": item["id"]}))
    assert found == item
    assert made == {"GetItem": 1}

    absent, made = measure(dynamodb_calls, lambda: query("getItem", {"id": str(uuid.uuid4())}))
    assert absent is None
    assert made == {"GetItem": 1}


def test_get_item_by_sku_makes_at_most_two_get_item_calls(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    item = new_item(sku="BY-SKU")

    found, made = measure(dynamodb_calls, lambda: query("getItemBySku", {"sku": "BY-SKU"}))
    assert found == item
    assert made == {"GetItem": 2}

    absent, made = measure(dynamodb_calls, lambda: query("getItemBySku", {"sku": "NO-SUCH"}))
    assert absent is None
    assert made == {"GetItem": 1}

    impossible, made = measure(dynamodb_calls, lambda: query("getItemBySku", {"sku": " padded "}))
    assert impossible is None
    assert made == {}


def test_list_items_page_makes_one_query_and_at_most_one_batch_get(
    new_item: NewItem, dynamodb_calls: Counter[str]
) -> None:
    for number in range(25):
        new_item(sku=f"C-{number:02d}", category="tools" if number % 2 else "garden", quantity=number)

    cases: list[tuple[dict[str, Any], int]] = [
        ({}, 20),
        ({"limit": 100}, 25),
        ({"filter": {"category": "tools"}}, 12),
        ({"filter": {"status": "AVAILABLE"}}, 20),
        ({"filter": {"status": "OUT_OF_STOCK"}}, 1),
        ({"filter": {"lowStock": True}}, 11),
    ]
    for arguments, size in cases:
        page, made = measure(dynamodb_calls, partial(query, "listItems", arguments))
        assert len(page["items"]) == size, arguments
        assert made == {"Query": 1, "BatchGetItem": 1}, arguments

    page, made = measure(dynamodb_calls, lambda: query("listItems", {"filter": {"category": "none"}}))
    assert page == {"items": [], "nextToken": None}
    assert made == {"Query": 1}


def test_list_items_next_page_costs_the_same_as_the_first(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    for number in range(5):
        new_item(sku=f"N-{number}")
    token = query("listItems", {"limit": 2})["nextToken"]

    page, made = measure(dynamodb_calls, lambda: query("listItems", {"limit": 2, "nextToken": token}))

    assert [item["sku"] for item in page["items"]] == ["N-2", "N-3"]
    assert made == {"Query": 1, "BatchGetItem": 1}


def test_item_movements_makes_one_query_per_item_of_the_batch(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    items = [new_item(quantity=number + 1) for number in range(3)]

    pages, made = measure(dynamodb_calls, lambda: invoke_batch("Item", "movements", items))

    assert [len(page["items"]) for page in pages] == [1, 1, 1]
    assert made == {"Query": 3}


def test_create_item_makes_one_call(dynamodb_calls: Counter[str]) -> None:
    for item_input in (
        {"sku": "CR-1", "name": "n", "category": "c", "price": 1},
        {"sku": "CR-2", "name": "n", "category": "c", "price": 1, "quantity": 5},  # with its first movement
    ):
        item, made = measure(dynamodb_calls, partial(mutate, "createItem", {"input": item_input}))
        assert not is_error(item), item
        assert made == {"TransactWriteItems": 1}

    duplicate, made = measure(
        dynamodb_calls,
        lambda: mutate("createItem", {"input": {"sku": "CR-1", "name": "n", "category": "c", "price": 1}}),
    )
    assert error_of(duplicate)["type"] == "DuplicateSku"
    assert made == {"TransactWriteItems": 1}


def test_adjust_stock_makes_at_most_two_calls_first_time_and_one_on_replay(
    new_item: NewItem, dynamodb_calls: Counter[str]
) -> None:
    item = new_item(quantity=5)

    movement, made = measure(dynamodb_calls, lambda: adjust(item["id"], -2, "k-1"))
    assert movement["quantityAfter"] == 3
    assert made == {"BatchGetItem": 1, "TransactWriteItems": 1}

    replay, made = measure(dynamodb_calls, lambda: adjust(item["id"], -2, "k-1"))
    assert replay == movement
    assert made == {"BatchGetItem": 1}


def test_refused_adjust_stock_makes_no_write(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    item = new_item(quantity=1)

    short, made = measure(dynamodb_calls, lambda: adjust(item["id"], -2, "k-short"))
    assert error_of(short)["type"] == "InsufficientStock"
    assert made == {"BatchGetItem": 1}

    invalid, made = measure(dynamodb_calls, lambda: adjust(item["id"], 0, "k-zero"))
    assert error_of(invalid)["type"] == "ValidationError"
    assert made == {}


def test_fulfill_order_makes_at_most_two_calls_with_one_line(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    item = new_item(quantity=5)

    result, made = measure(dynamodb_calls, lambda: fulfill("order-1", [(item["id"], 1)]))
    assert len(result["movements"]) == 1
    assert made == {"BatchGetItem": 1, "TransactWriteItems": 1}

    replay, made = measure(dynamodb_calls, lambda: fulfill("order-1", [(item["id"], 1)]))
    assert replay == result
    assert made == {"BatchGetItem": 1}


def test_fulfill_order_makes_at_most_two_calls_with_twenty_five_lines(
    new_item: NewItem, dynamodb_calls: Counter[str]
) -> None:
    items = [new_item(quantity=3) for _ in range(25)]
    lines = [(item["id"], 2) for item in items]

    result, made = measure(dynamodb_calls, lambda: fulfill("order-25", lines))
    assert not is_error(result), result
    assert [movement["quantityAfter"] for movement in result["movements"]] == [1] * 25
    assert made == {"BatchGetItem": 1, "TransactWriteItems": 1}

    short, made = measure(dynamodb_calls, lambda: fulfill("order-25-again", lines))
    assert len(error_of(short)["info"]["lines"]) == 25
    assert made == {"BatchGetItem": 1}


def test_update_item_makes_at_most_two_calls(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    item = new_item()

    updated, made = measure(
        dynamodb_calls, lambda: mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "name": "u"}})
    )
    assert updated["version"] == 2
    assert made == {"GetItem": 1, "PutItem": 1}

    stale, made = measure(
        dynamodb_calls, lambda: mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "name": "v"}})
    )
    assert error_of(stale)["type"] == "VersionConflict"
    assert made == {"GetItem": 1}


def test_delete_item_makes_at_most_two_calls(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    item = new_item(quantity=1)

    deleted, made = measure(dynamodb_calls, lambda: mutate("deleteItem", {"id": item["id"]}))
    assert deleted == item
    assert made == {"GetItem": 1, "TransactWriteItems": 1}

    absent, made = measure(dynamodb_calls, lambda: mutate("deleteItem", {"id": item["id"]}))
    assert absent is None
    assert made == {"GetItem": 1}


def test_no_operation_ever_scans(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    dynamodb_calls.clear()
    item = new_item(sku="ALL", quantity=5, category="tools")
    other = new_item(sku="ALL-2", quantity=5)
    query("getItem", {"id": item["id"]})
    query("getItemBySku", {"sku": "ALL"})
    for arguments in ({}, {"filter": {"category": "tools"}}, {"filter": {"status": "AVAILABLE"}}):
        query("listItems", arguments)
    query("listItems", {"filter": {"lowStock": True}})
    invoke_batch("Item", "movements", [item, other])
    adjust(item["id"], -1, "k-all")
    fulfill("order-all", [(item["id"], 1), (other["id"], 1)])
    mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "price": 2}})
    mutate("deleteItem", {"id": other["id"]})

    assert sum(dynamodb_calls.values()) > 10
    assert set(dynamodb_calls) <= {"GetItem", "PutItem", "Query", "BatchGetItem", "TransactWriteItems"}
    assert dynamodb_calls["Scan"] == 0


# Contract v2


def reserve_call(reservation_id: str, lines: list[tuple[str, int]], **more: Any) -> Callable[[], Any]:
    request = {"reservationId": reservation_id, "lines": [{"itemId": i, "quantity": q} for i, q in lines], **more}
    return partial(mutate, "reserveStock", {"input": request})


def transfer_call(key: str, source: str, destination: str, lines: list[tuple[str, int]]) -> Callable[[], Any]:
    request = {
        "idempotencyKey": key,
        "fromLocationId": source,
        "toLocationId": destination,
        "lines": [{"itemId": item_id, "quantity": quantity} for item_id, quantity in lines],
    }
    return partial(mutate, "transferStock", {"input": request})


def set_stock_call(key: str, lines: list[tuple[str, int]], **more: Any) -> Callable[[], Any]:
    request = {"idempotencyKey": key, "lines": [{"itemId": i, "onHand": n} for i, n in lines], **more}
    return partial(mutate, "setStock", {"input": request})


def new_location(code: str) -> str:
    location = mutate("createLocation", {"input": {"code": code, "name": code}})
    assert not is_error(location), location
    return str(location["id"])


ONE_READ_ONE_WRITE = {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_locations_make_one_call_to_read_and_two_to_write(dynamodb_calls: Counter[str]) -> None:
    created, made = measure(dynamodb_calls, lambda: mutate("createLocation", {"input": {"code": "A", "name": "a"}}))
    assert not is_error(created), created
    assert made == {"GetItem": 1, "PutItem": 1}

    for operation in (
        lambda: query("listLocations"),
        lambda: query("getLocation", {"id": created["id"]}),
        lambda: query("getLocation", {"id": "nowhere"}),
    ):
        answer, made = measure(dynamodb_calls, operation)
        assert not is_error(answer), answer
        assert made == {"GetItem": 1}

    main, made = measure(dynamodb_calls, lambda: query("getLocation", {"id": "MAIN"}))
    assert main["isDefault"] is True
    assert made == {"GetItem": 1}


def test_get_item_with_levels_makes_one_call(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    location = new_location("SHOP")
    item = new_item(quantity=5)
    assert not is_error(adjust_at(item["id"], 3, location, "k-shop"))
    assert not is_error(reserve_call("r-1", [(item["id"], 2)])())

    found, made = measure(dynamodb_calls, lambda: query("getItem", {"id": item["id"]}))
    assert [(level["onHand"], level["reserved"]) for level in found["levels"]] == [(5, 2), (3, 0)]
    assert made == {"GetItem": 1}


def adjust_at(item_id: str, delta: int, location_id: str, key: str) -> Any:
    adjustment = {
        "itemId": item_id,
        "delta": delta,
        "reason": "CORRECTION",
        "idempotencyKey": key,
        "locationId": location_id,
    }
    return mutate("adjustStock", {"input": adjustment})


def test_create_item_at_a_location_reads_the_locations_once(dynamodb_calls: Counter[str]) -> None:
    location = new_location("SHOP")
    item_input = {"sku": "AT-1", "name": "n", "category": "c", "price": 1, "quantity": 5, "locationId": location}

    item, made = measure(dynamodb_calls, partial(mutate, "createItem", {"input": item_input}))

    assert item["levels"][0]["locationId"] == location
    assert made == {"GetItem": 1, "TransactWriteItems": 1}

    at_main, made = measure(
        dynamodb_calls,
        partial(mutate, "createItem", {"input": {**item_input, "sku": "AT-2", "locationId": "MAIN"}}),
    )
    assert at_main["levels"][0]["locationId"] == "MAIN"
    assert made == {"TransactWriteItems": 1}  # MAIN needs no read


def test_adjust_stock_and_fulfill_order_at_a_location_keep_their_v1_counts(
    new_item: NewItem, dynamodb_calls: Counter[str]
) -> None:
    location = new_location("SHOP")
    item = new_item(quantity=5)

    for operation in (
        lambda: adjust_at(item["id"], 4, location, "k-1"),
        lambda: adjust_at(item["id"], 1, "MAIN", "k-2"),
        partial(
            mutate,
            "fulfillOrder",
            {"input": {"orderId": "o-1", "lines": [{"itemId": item["id"], "quantity": 2}], "locationId": location}},
        ),
    ):
        result, made = measure(dynamodb_calls, operation)
        assert not is_error(result), result
        assert made == ONE_READ_ONE_WRITE

    unknown, made = measure(dynamodb_calls, lambda: adjust_at(item["id"], 1, "nowhere", "k-3"))
    assert error_of(unknown)["type"] == "LocationNotFound"
    assert made == {"BatchGetItem": 1}


def test_reserve_commit_and_release_make_their_bar_of_calls_with_one_and_twenty_five_lines(
    new_item: NewItem, dynamodb_calls: Counter[str]
) -> None:
    items = [new_item(quantity=3) for _ in range(25)]
    location = new_location("SHOP")
    assert not is_error(transfer_call("to-shop", "MAIN", location, [(item["id"], 1) for item in items])())

    for size, at, step in (
        (1, "MAIN", "commit"),
        (1, location, "release"),
        (25, location, "commit"),
        (25, "MAIN", "release"),
    ):
        reservation_id = f"r-{size}-{at}"
        lines = [(item["id"], 1) for item in items[:size]]
        reservation, made = measure(dynamodb_calls, reserve_call(reservation_id, lines, locationId=at))
        assert reservation["status"] == "ACTIVE", reservation
        assert made == ONE_READ_ONE_WRITE, (size, at)

        replay, made = measure(dynamodb_calls, reserve_call(reservation_id, lines, locationId=at))
        assert replay == reservation
        assert made == {"BatchGetItem": 1}

        if step == "commit":
            # The decided deviation: the items to read are known only from the reservation.
            done, made = measure(dynamodb_calls, partial(mutate, "commitReservation", {"id": reservation_id}))
            assert (done["status"], len(done["movements"])) == ("COMMITTED", size)
            assert made == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}, (size, at)
        else:
            done, made = measure(dynamodb_calls, partial(mutate, "releaseReservation", {"id": reservation_id}))
            assert done["status"] == "RELEASED"
            assert made == {"GetItem": 1, "TransactWriteItems": 1}, (size, at)

        again, made = measure(dynamodb_calls, partial(mutate, f"{step}Reservation", {"id": reservation_id}))
        assert again == done
        assert made == {"GetItem": 1}

        found, made = measure(dynamodb_calls, partial(query, "getReservation", {"id": reservation_id}))
        assert found == done
        assert made == {"GetItem": 1}

    short, made = measure(dynamodb_calls, reserve_call("r-short", [(item["id"], 9) for item in items]))
    assert len(error_of(short)["info"]["lines"]) == 25
    assert made == {"BatchGetItem": 1}

    for operation in ("commitReservation", "releaseReservation"):
        unknown, made = measure(dynamodb_calls, partial(mutate, operation, {"id": "nothing"}))
        assert error_of(unknown)["type"] == "ReservationNotFound"
        assert made == {"GetItem": 1}


def test_transfer_and_set_stock_make_at_most_two_calls_with_one_and_twenty_five_lines(
    new_item: NewItem, dynamodb_calls: Counter[str]
) -> None:
    items = [new_item(quantity=3) for _ in range(25)]
    location = new_location("SHOP")

    for size in (1, 25):
        lines = [(item["id"], 1) for item in items[:size]]
        for key, operation in (
            (f"t-{size}", transfer_call(f"t-{size}", "MAIN", location, lines)),
            (f"s-{size}", set_stock_call(f"s-{size}", [(item_id, 7) for item_id, _ in lines], locationId=location)),
            (f"m-{size}", set_stock_call(f"m-{size}", [(item_id, 1) for item_id, _ in lines])),
        ):
            result, made = measure(dynamodb_calls, operation)
            assert len(result["movements"]) in (size, 2 * size), (key, result)
            assert made == ONE_READ_ONE_WRITE, key

            replay, made = measure(dynamodb_calls, operation)
            assert replay == result
            assert made == {"BatchGetItem": 1}, key

    unchanged, made = measure(dynamodb_calls, set_stock_call("s-same", [(items[0]["id"], 1)]))
    assert unchanged == {"movements": []}
    assert made == ONE_READ_ONE_WRITE  # the request record, with a check that the count still holds

    count = {"idempotencyKey": "s-cmp", "lines": [{"itemId": items[0]["id"], "onHand": 2, "compareOnHand": 9}]}
    conflict, made = measure(dynamodb_calls, partial(mutate, "setStock", {"input": count}))
    assert error_of(conflict)["type"] == "QuantityConflict"
    assert made == {"BatchGetItem": 1}


def test_no_v2_operation_ever_scans(new_item: NewItem, dynamodb_calls: Counter[str]) -> None:
    dynamodb_calls.clear()
    location = new_location("SHOP")
    item = new_item(quantity=9, locationId=location)
    query("listLocations")
    query("getLocation", {"id": location})
    mutate("updateLocation", {"input": {"id": location, "name": "renamed"}})
    reserve_call("r-1", [(item["id"], 1)], locationId=location)()
    reserve_call("r-2", [(item["id"], 1)], locationId=location)()
    mutate("commitReservation", {"id": "r-1"})
    mutate("releaseReservation", {"id": "r-2"})
    query("getReservation", {"id": "r-1"})
    transfer_call("t-1", location, "MAIN", [(item["id"], 2)])()
    set_stock_call("s-1", [(item["id"], 3)])()
    query("getItem", {"id": item["id"]})

    assert sum(dynamodb_calls.values()) > 10
    assert set(dynamodb_calls) <= {"GetItem", "PutItem", "BatchGetItem", "TransactWriteItems"}
