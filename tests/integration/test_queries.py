"""Every query of contract v1, and the batched Item.movements, through queries_handler with AppSync events on
DynamoDB Local."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

import resolvers.runtime
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.errors import INTERNAL_ERROR_MESSAGE
from tests.appsync import (
    FakeLambdaContext,
    assert_no_leak,
    batch_event,
    error_of,
    handler_for,
    iam_identity,
    invoke_batch,
    is_error,
    mutate,
    query,
)
from tests.integration.conftest import NewItem


def refused(result: Any, error_type: str, table_name: str) -> dict[str, Any]:
    error = error_of(result)
    assert error["type"] == error_type, error
    assert_no_leak(error["message"], table_name)
    return error


def adjust(item_id: str, delta: int, reason: str = "CORRECTION", reference: str | None = None) -> dict[str, Any]:
    adjustment = {"itemId": item_id, "delta": delta, "reason": reason, "idempotencyKey": str(uuid.uuid4())}
    if reference is not None:
        adjustment["reference"] = reference
    result = mutate("adjustStock", {"input": adjustment})
    assert not is_error(result), result
    return result  # type: ignore[no-any-return]


def list_items(**arguments: Any) -> dict[str, Any]:
    result = query("listItems", arguments)
    assert not is_error(result), result
    return result  # type: ignore[no-any-return]


def walk(**arguments: Any) -> tuple[list[str], list[int]]:
    """Follow nextToken to the end: the skus seen, and the size of each page."""
    skus: list[str] = []
    sizes: list[int] = []
    token = None
    while True:
        page = list_items(**arguments, nextToken=token)
        skus += [item["sku"] for item in page["items"]]
        sizes.append(len(page["items"]))
        token = page["nextToken"]
        if token is None:
            return skus, sizes
        assert len(sizes) < 50, "nextToken never ends"


def tampered(token: str) -> str:
    """The token with one bit of its middle flipped (a character well inside, so no base64 padding slack)."""
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


# getItem


def test_get_item_returns_the_item(new_item: NewItem) -> None:
    item = new_item(description="a box of nails", quantity=3)

    assert query("getItem", {"id": item["id"]}) == item


def test_get_item_answers_the_same_to_an_iam_caller(new_item: NewItem) -> None:
    item = new_item()

    assert query("getItem", {"id": item["id"]}, identity=iam_identity()) == item


def test_get_item_of_an_absent_id_is_null_not_an_error() -> None:
    assert query("getItem", {"id": str(uuid.uuid4())}) is None


def test_get_item_sees_stock_and_edits_at_once(new_item: NewItem) -> None:
    item = new_item(quantity=3)
    adjust(item["id"], -3, "SOLD")
    mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "price": 0.1}})

    current = query("getItem", {"id": item["id"]})

    assert (current["quantity"], current["status"], current["price"], current["version"]) == (0, "OUT_OF_STOCK", 0.1, 2)


def test_get_item_with_an_empty_id_gives_validation_error(table_name: str) -> None:
    assert refused(query("getItem", {"id": ""}), "ValidationError", table_name)["info"] == {
        "field": "id",
        "reason": "must be 1 to 128 characters long",
    }


# getItemBySku


def test_get_item_by_sku_returns_the_item(new_item: NewItem) -> None:
    new_item(sku="OTHER")
    item = new_item(sku="FIND-ME")

    assert query("getItemBySku", {"sku": "FIND-ME"}) == item


def test_get_item_by_sku_of_an_unknown_sku_is_null() -> None:
    assert query("getItemBySku", {"sku": "NOPE"}) is None


@pytest.mark.parametrize("sku", ["", " PAD", "PAD ", "S" * 65])
def test_get_item_by_sku_with_a_sku_no_item_could_have_is_null(new_item: NewItem, sku: str) -> None:
    new_item(sku="PAD")

    assert query("getItemBySku", {"sku": sku}) is None


# listItems


def test_list_items_without_filter_returns_every_item_in_sku_order(new_item: NewItem) -> None:
    for sku in ["C-3", "A-1", "B-2"]:
        new_item(sku=sku)
    discontinued = new_item(sku="D-4")
    mutate("updateItem", {"input": {"id": discontinued["id"], "expectedVersion": 1, "status": "DISCONTINUED"}})

    page = list_items()

    assert [item["sku"] for item in page["items"]] == ["A-1", "B-2", "C-3", "D-4"]
    assert page["nextToken"] is None
    assert page["items"][3]["status"] == "DISCONTINUED"


def test_list_items_on_an_empty_table_is_an_empty_page() -> None:
    assert list_items() == {"items": [], "nextToken": None}


def test_list_items_pages_of_the_default_size_20(new_item: NewItem) -> None:
    for number in range(21):
        new_item(sku=f"P-{number:02d}")

    first = list_items()
    second = list_items(nextToken=first["nextToken"])

    assert [item["sku"] for item in first["items"]] == [f"P-{n:02d}" for n in range(20)]
    assert first["nextToken"] is not None
    assert [item["sku"] for item in second["items"]] == ["P-20"]
    assert second["nextToken"] is None


def test_walking_next_token_visits_every_item_once_and_the_last_page_has_no_token(new_item: NewItem) -> None:
    skus = [f"W-{number}" for number in range(6)]
    for sku in reversed(skus):
        new_item(sku=sku)

    assert walk(limit=2) == (skus, [2, 2, 2])
    assert walk(limit=4) == (skus, [4, 2])
    assert walk(limit=100) == (skus, [6])


def test_a_page_token_survives_a_cold_start(new_item: NewItem) -> None:
    for number in range(3):
        new_item(sku=f"K-{number}")
    token = list_items(limit=1)["nextToken"]
    resolvers.runtime.service.cache_clear()  # a new container: new service, new client, same configuration
    resolvers.runtime.dynamodb_client.cache_clear()

    page = list_items(limit=1, nextToken=token)

    assert [item["sku"] for item in page["items"]] == ["K-1"]


def test_list_items_by_category_returns_only_that_category_in_pages(new_item: NewItem) -> None:
    for number in range(5):
        new_item(sku=f"T-{number}", category="tools")
        new_item(sku=f"G-{number}", category="garden")

    assert walk(filter={"category": "garden"}, limit=2) == ([f"G-{n}" for n in range(5)], [2, 2, 1])
    assert list_items(filter={"category": "kitchen"}) == {"items": [], "nextToken": None}


def test_an_item_moved_to_another_category_is_listed_under_the_new_one_only(new_item: NewItem) -> None:
    item = new_item(sku="MOVE", category="tools")
    mutate("updateItem", {"input": {"id": item["id"], "expectedVersion": 1, "category": "garden"}})

    assert list_items(filter={"category": "tools"})["items"] == []
    assert [i["sku"] for i in list_items(filter={"category": "garden"})["items"]] == ["MOVE"]


def test_list_items_by_status_follows_every_write(new_item: NewItem) -> None:
    sold_out = new_item(sku="S-1", quantity=2)
    new_item(sku="S-2", quantity=5)
    new_item(sku="S-3")
    retired = new_item(sku="S-4", quantity=1)
    adjust(sold_out["id"], -2, "SOLD")
    mutate("updateItem", {"input": {"id": retired["id"], "expectedVersion": 1, "status": "DISCONTINUED"}})

    by_status = {
        status: [(i["sku"], i["status"]) for i in list_items(filter={"status": status})["items"]]
        for status in ("AVAILABLE", "OUT_OF_STOCK", "DISCONTINUED")
    }

    assert by_status == {
        "AVAILABLE": [("S-2", "AVAILABLE")],
        "OUT_OF_STOCK": [("S-1", "OUT_OF_STOCK"), ("S-3", "OUT_OF_STOCK")],
        "DISCONTINUED": [("S-4", "DISCONTINUED")],
    }


def test_list_items_by_status_pages_through_every_match(new_item: NewItem) -> None:
    for number in range(5):
        new_item(sku=f"A-{number}", quantity=1)
        new_item(sku=f"O-{number}")

    assert walk(filter={"status": "OUT_OF_STOCK"}, limit=2) == ([f"O-{n}" for n in range(5)], [2, 2, 1])


def test_list_items_low_stock_pages_through_every_match(new_item: NewItem) -> None:
    for number in range(5):
        new_item(sku=f"LO-{number}", quantity=1, reorderPoint=5)
        new_item(sku=f"HI-{number}", quantity=9, reorderPoint=5)

    assert walk(filter={"lowStock": True}, limit=2) == ([f"LO-{n}" for n in range(5)], [2, 2, 1])


def test_list_items_page_sizes_come_from_configuration(
    new_item: NewItem, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(4):
        new_item(sku=f"CF-{number}")
    monkeypatch.setenv("INVENTORY_DEFAULT_PAGE_SIZE", "3")
    monkeypatch.setenv("INVENTORY_MAX_PAGE_SIZE", "4")
    resolvers.runtime.service.cache_clear()

    assert len(list_items()["items"]) == 3
    assert len(list_items(limit=4)["items"]) == 4
    error = refused(query("listItems", {"limit": 5}), "ValidationError", table_name)
    assert error["info"] == {"field": "limit", "reason": "must be between 1 and 4"}


def test_list_items_low_stock_lists_items_at_or_below_their_reorder_point_but_not_discontinued(
    new_item: NewItem,
) -> None:
    new_item(sku="L-1", quantity=5, reorderPoint=5)  # at the point: low
    new_item(sku="L-2", quantity=6, reorderPoint=5)  # above: not low
    new_item(sku="L-3", quantity=0, reorderPoint=0)  # 0 <= 0: low
    retired = new_item(sku="L-4", quantity=1, reorderPoint=5)
    restocked = new_item(sku="L-5", quantity=1, reorderPoint=5)
    mutate("updateItem", {"input": {"id": retired["id"], "expectedVersion": 1, "status": "DISCONTINUED"}})
    adjust(restocked["id"], 10, "RECEIVED")
    raised = new_item(sku="L-6", quantity=8, reorderPoint=5)
    mutate("updateItem", {"input": {"id": raised["id"], "expectedVersion": 1, "reorderPoint": 8}})

    page = list_items(filter={"lowStock": True})

    assert [(i["sku"], i["lowStock"]) for i in page["items"]] == [("L-1", True), ("L-3", True), ("L-6", True)]
    assert page["nextToken"] is None


def test_an_item_sold_down_to_its_reorder_point_enters_the_low_stock_listing(new_item: NewItem) -> None:
    item = new_item(sku="DOWN", quantity=12, reorderPoint=10)
    assert list_items(filter={"lowStock": True})["items"] == []

    adjust(item["id"], -2, "SOLD")

    assert [i["quantity"] for i in list_items(filter={"lowStock": True})["items"]] == [10]


def test_a_filter_of_only_nulls_is_no_filter(new_item: NewItem) -> None:
    new_item(sku="ONE", category="tools")
    new_item(sku="TWO", category="garden")

    page = list_items(filter={"category": None, "status": None, "lowStock": None})

    assert [i["sku"] for i in page["items"]] == ["ONE", "TWO"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"filter": {"category": "tools", "status": "AVAILABLE"}}, "filter"),
        ({"filter": {"status": "AVAILABLE", "lowStock": True}}, "filter"),
        ({"filter": {"lowStock": False}}, "filter.lowStock"),
        ({"filter": {"status": "GONE"}}, "filter.status"),
        ({"filter": {"category": ""}}, "filter.category"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"nextToken": "not-a-token"}, "nextToken"),
        ({"nextToken": ""}, "nextToken"),
        ({"nextToken": "é"}, "nextToken"),
    ],
)
def test_list_items_with_invalid_arguments_gives_validation_error(
    new_item: NewItem, table_name: str, arguments: dict[str, Any], field: str
) -> None:
    new_item()

    error = refused(query("listItems", arguments), "ValidationError", table_name)

    assert error["info"]["field"] == field


def test_list_items_accepts_the_limit_bounds(new_item: NewItem) -> None:
    new_item(sku="X-1")
    new_item(sku="X-2")

    assert [i["sku"] for i in list_items(limit=1)["items"]] == ["X-1"]
    assert [i["sku"] for i in list_items(limit=100)["items"]] == ["X-1", "X-2"]


def test_an_altered_next_token_is_refused_not_followed(new_item: NewItem, table_name: str) -> None:
    for number in range(3):
        new_item(sku=f"Z-{number}")
    token = list_items(limit=1)["nextToken"]

    error = refused(query("listItems", {"limit": 1, "nextToken": tampered(token)}), "ValidationError", table_name)

    assert error["info"] == {"field": "nextToken", "reason": "is not a token this API issued"}


@pytest.mark.parametrize("alteration", ["extra padding", "unused bits of the last character"])
def test_a_next_token_altered_anywhere_is_refused(new_item: NewItem, table_name: str, alteration: str) -> None:
    # A token's length follows the key it carries: new skus that sort first, of growing length, until the last
    # character of the token carries unused bits.
    for attempt in range(6):
        prefix = f"{chr(ord('Y') - attempt)}-{uuid.uuid4().hex[:attempt]}"
        new_item(sku=f"{prefix}-1")
        new_item(sku=f"{prefix}-2")
        token = list_items(limit=1)["nextToken"]
        if len(token) % 4 in {2, 3}:
            break
    assert len(token) % 4 in {2, 3}, "the last character of this token carries unused bits"
    if alteration == "extra padding":
        altered = token + "=="
    else:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        altered = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]  # flips the lowest, unused bit
    assert altered != token

    result = query("listItems", {"limit": 1, "nextToken": altered})

    assert refused(result, "ValidationError", table_name)["info"]["field"] == "nextToken"


def test_a_next_token_signed_with_another_secret_is_refused(
    new_item: NewItem, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(3):
        new_item(sku=f"R-{number}")
    token = list_items(limit=1)["nextToken"]
    monkeypatch.setenv("INVENTORY_PAGE_TOKEN_SECRET", "a-rotated-secret-0123456789abcdef")
    resolvers.runtime.service.cache_clear()

    error = refused(query("listItems", {"limit": 1, "nextToken": token}), "ValidationError", table_name)

    assert error["info"]["field"] == "nextToken"


@pytest.mark.parametrize(
    ("issued_with", "used_with"),
    [
        ({}, {"filter": {"category": "tools"}}),
        ({"filter": {"category": "tools"}}, {"filter": {"category": "garden"}}),
        ({"filter": {"category": "tools"}}, {}),
        ({"filter": {"status": "AVAILABLE"}}, {"filter": {"status": "OUT_OF_STOCK"}}),
        ({"filter": {"lowStock": True}}, {"filter": {"status": "AVAILABLE"}}),
    ],
)
def test_a_next_token_reused_with_another_filter_is_refused(
    new_item: NewItem, table_name: str, issued_with: dict[str, Any], used_with: dict[str, Any]
) -> None:
    for number in range(3):
        new_item(sku=f"F-{number}", category="tools", quantity=1)
        new_item(sku=f"G-{number}", category="garden")
    token = list_items(**issued_with, limit=1)["nextToken"]
    assert token is not None

    error = refused(query("listItems", {**used_with, "limit": 1, "nextToken": token}), "ValidationError", table_name)

    assert error["info"]["field"] == "nextToken"


def test_a_movements_token_is_refused_by_list_items(new_item: NewItem, table_name: str) -> None:
    item = new_item(quantity=1)
    adjust(item["id"], 1)
    (page,) = invoke_batch("Item", "movements", [item], {"limit": 1})

    error = refused(query("listItems", {"nextToken": page["nextToken"]}), "ValidationError", table_name)

    assert error["info"]["field"] == "nextToken"


# Item.movements (batched)


def test_item_movements_answers_a_batch_of_items_in_one_call_newest_first(new_item: NewItem) -> None:
    first = new_item(sku="M-1", quantity=10)
    second = new_item(sku="M-2")
    third = new_item(sku="M-3", quantity=1)
    adjust(first["id"], -3, "SOLD", reference="r1")
    adjust(first["id"], 5, "RECEIVED", reference="r2")
    adjust(third["id"], -1, "DAMAGED")
    parents = list_items()["items"]

    pages = invoke_batch("Item", "movements", parents)

    assert len(pages) == 3
    assert [(m["itemId"], m["delta"], m["quantityAfter"], m["reason"]) for m in pages[0]["items"]] == [
        (first["id"], 5, 12, "RECEIVED"),
        (first["id"], -3, 7, "SOLD"),
        (first["id"], 10, 10, "RECEIVED"),
    ]
    assert pages[1] == {"items": [], "nextToken": None}
    assert [(m["itemId"], m["quantityAfter"]) for m in pages[2]["items"]] == [(third["id"], 0), (third["id"], 1)]
    assert all(page["nextToken"] is None for page in pages)
    assert pages[0]["items"][0]["reference"] == "r2" and pages[0]["items"][2]["reference"] == "initial stock"
    assert second["id"] not in {m["itemId"] for page in pages for m in page["items"]}


def test_item_movements_entries_take_their_own_arguments_and_a_bad_one_fails_alone(
    new_item: NewItem, table_name: str
) -> None:
    first, second, third = new_item(quantity=1), new_item(quantity=2), new_item(quantity=3)
    for item in (first, second, third):
        adjust(item["id"], 1)

    pages = invoke_batch("Item", "movements", [first, second, third], [{"limit": 1}, {"limit": 0}, {}])

    assert [m["quantityAfter"] for m in pages[0]["items"]] == [2]
    assert pages[0]["nextToken"] is not None
    error = refused(pages[1], "ValidationError", table_name)
    assert error["info"] == {"field": "limit", "reason": "must be between 1 and 100"}
    assert [m["quantityAfter"] for m in pages[2]["items"]] == [4, 3]


def test_item_movements_pages_with_next_token(new_item: NewItem) -> None:
    item = new_item(quantity=1)
    for _ in range(4):
        adjust(item["id"], 1)

    seen: list[int] = []
    token = None
    for _ in range(10):
        (page,) = invoke_batch("Item", "movements", [item], {"limit": 2, "nextToken": token})
        seen += [m["quantityAfter"] for m in page["items"]]
        token = page["nextToken"]
        if token is None:
            break

    assert seen == [5, 4, 3, 2, 1]


def test_item_movements_default_page_is_20(new_item: NewItem) -> None:
    item = new_item(quantity=1)
    for _ in range(20):
        adjust(item["id"], 1)

    (page,) = invoke_batch("Item", "movements", [item])

    assert [m["quantityAfter"] for m in page["items"]] == list(range(21, 1, -1))
    assert page["nextToken"] is not None


def test_item_movements_token_of_one_item_is_refused_for_another(new_item: NewItem, table_name: str) -> None:
    first, second = new_item(quantity=1), new_item(quantity=1)
    adjust(first["id"], 1)
    adjust(second["id"], 1)
    (page,) = invoke_batch("Item", "movements", [first], {"limit": 1})

    pages = invoke_batch("Item", "movements", [first, second], [{"limit": 1, "nextToken": page["nextToken"]}] * 2)

    assert [m["quantityAfter"] for m in pages[0]["items"]] == [1]
    assert refused(pages[1], "ValidationError", table_name)["info"]["field"] == "nextToken"


def test_item_movements_batch_is_one_handler_call_with_one_result_per_source(new_item: NewItem) -> None:
    items = [new_item(quantity=n + 1) for n in range(5)]

    pages = handler_for("Item")(batch_event("Item", "movements", items, {"limit": 5}), FakeLambdaContext())

    assert isinstance(pages, list) and len(pages) == 5
    assert [page["items"][0]["quantityAfter"] for page in pages] == [1, 2, 3, 4, 5]
    assert [page["items"][0]["itemId"] for page in pages] == [item["id"] for item in items]


# Unexpected failures


def test_an_unexpected_query_failure_gives_internal_error_without_details(
    new_item: NewItem, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = new_item()

    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"boom {table_name}")

    for method in ("get_item", "find_item_id_by_sku", "list_items"):
        monkeypatch.setattr(DynamoDBInventoryRepository, method, explode)

    for result in (
        query("getItem", {"id": item["id"]}),
        query("getItemBySku", {"sku": item["sku"]}),
        query("listItems", {}),
    ):
        error = error_of(result)
        assert error == {"type": "InternalError", "message": INTERNAL_ERROR_MESSAGE, "info": None}
        assert_no_leak(error["message"], "boom", table_name)


def test_an_unexpected_failure_in_one_batch_entry_fails_that_entry_only(
    new_item: NewItem, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, bad = new_item(quantity=1), new_item(quantity=2)
    original = DynamoDBInventoryRepository.list_movements

    def flaky(self: DynamoDBInventoryRepository, item_id: str, *args: Any) -> Any:
        if item_id == bad["id"]:
            raise RuntimeError(f"boom {table_name}")
        return original(self, item_id, *args)

    monkeypatch.setattr(DynamoDBInventoryRepository, "list_movements", flaky)

    pages = invoke_batch("Item", "movements", [good, bad, good])

    assert pages[0] == pages[2] and pages[0]["items"][0]["quantityAfter"] == 1
    assert error_of(pages[1]) == {"type": "InternalError", "message": INTERNAL_ERROR_MESSAGE, "info": None}


def test_item_movements_batch_answers_one_envelope_per_entry_when_the_service_cannot_be_built(
    new_item: NewItem, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = new_item(quantity=1), new_item(quantity=2)
    monkeypatch.setenv("INVENTORY_PAGE_TOKEN_SECRET", "too-short")  # ConfigurationError at service construction
    resolvers.runtime.service.cache_clear()

    pages = invoke_batch("Item", "movements", [first, second])

    internal = {"error": {"type": "InternalError", "message": INTERNAL_ERROR_MESSAGE, "info": None}}
    assert pages == [internal, internal]


def test_a_missing_table_gives_internal_error_without_botocore_text_or_table_name(
    new_item: NewItem, table_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = new_item()
    monkeypatch.setenv("INVENTORY_TABLE_NAME", "inventory-missing-table")
    resolvers.runtime.service.cache_clear()

    results = [
        query("getItem", {"id": item["id"]}),
        query("getItemBySku", {"sku": item["sku"]}),
        query("listItems", {}),
        *invoke_batch("Item", "movements", [item]),
    ]

    for result in results:
        error = error_of(result)
        assert error == {"type": "InternalError", "message": INTERNAL_ERROR_MESSAGE, "info": None}
        assert_no_leak(error["message"], "inventory-missing-table", table_name)
