"""The mirror answers like the deployed API: the same operations, run through the Strawberry schema and through the
AppSync model (schema.graphql on graphql-core, every resolver a Lambda invocation), each on a fresh DynamoDB Local
table, give the same JSON (ids and timestamps compared by shape).

The scenario runs every example operation of examples/ and every error case of the contract; each step's
variables may use what the same run answered before (an item's id, a page's nextToken).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from devserver.stream import TableStream, feeding
from inventory.errors import INTERNAL_ERROR_MESSAGE
from inventory.events import CHANNELS, events_of
from inventory.service import InventoryService
from tests.contract.appsync_model import AppSyncModel
from tests.contract.conftest import REGION
from tests.contract.examples import document
from tests.contract.mirror import Mirror
from tests.contract.scenario import Answers, Json, Step, data, run
from tests.contract.transcript import by_shape


def _id(label: str, field: str) -> Callable[[Answers], str]:
    return lambda answers: str(data(answers, label, field, "id"))


def _new_item(sku: str, **fields: Any) -> Json:
    return {"input": {"sku": sku, "name": f"Item {sku}", "category": "tools", "price": 9.99, **fields}}


def _adjust(item: str, delta: int, reason: str, key: str, **fields: Any) -> Callable[[Answers], Json]:
    return lambda a: {
        "input": {"itemId": data(a, item, "createItem", "id"), "delta": delta, "reason": reason, "idempotencyKey": key}
        | fields
    }


def _order(order_id: str, *lines: tuple[str, int]) -> Callable[[Answers], Json]:
    return lambda a: {
        "input": {
            "orderId": order_id,
            "lines": [{"itemId": data(a, item, "createItem", "id"), "quantity": quantity} for item, quantity in lines],
        }
    }


def _update(item: str, version: int, **fields: Any) -> Callable[[Answers], Json]:
    return lambda a: {"input": {"id": data(a, item, "createItem", "id"), "expectedVersion": version, **fields}}


def _constant(variables: Json) -> Callable[[Answers], Json]:
    return lambda _: variables


CREATE, GET, BY_SKU, LIST = (
    document("create-item"),
    document("get-item"),
    document("get-item-by-sku"),
    document("list-items"),
)
UPDATE, DELETE, ADJUST, ORDER = (
    document("update-item"),
    document("delete-item"),
    document("adjust-stock"),
    document("fulfill-order"),
)
NESTED_MOVEMENTS_FAIL = """
query NestedFailure($id: ID!) {
  getItem(id: $id) { id sku movements(limit: 0) { items { id } } }
}"""
UNKNOWN_FIELD = "query { listItems { items { id weight } } }"
SYNTAX_ERROR = "query { listItems { items { id } "
TWO_ROOT_FIELDS = """
query Two($sku: String!, $id: ID!) {
  bySku: getItemBySku(sku: $sku) { id sku quantity }
  byId: getItem(id: $id) { id movements(limit: 2) { items { delta reason reference } nextToken } }
}"""


def _next_page(label: str, filter_: Json | None = None) -> Callable[[Answers], Json]:
    return lambda a: {"filter": filter_, "limit": 2, "nextToken": data(a, label, "listItems", "nextToken")}


SCENARIO: list[Step] = [
    # createItem, and each way it refuses
    Step(
        "drill",
        CREATE,
        _constant(
            _new_item(
                "PWR-DRILL",
                category="power-tools",
                price=129.0,
                quantity=10,
                reorderPoint=5,
                description="Two batteries.",
            )
        ),
    ),
    Step("gloves", CREATE, _constant(_new_item("GRD-GLOVES", category="garden", price=6.4, quantity=3))),
    Step("tape", CREATE, _constant(_new_item("HND-TAPE", category="tools", price=9.95))),
    Step("hammer", CREATE, _constant(_new_item("HND-HAMMER", price=0.1, quantity=1_000_000_000))),
    Step("shears", CREATE, _constant(_new_item("GRD-SHEARS", category="garden", price=0, quantity=40, reorderPoint=0))),
    Step("duplicate sku", CREATE, _constant(_new_item("PWR-DRILL"))),
    Step("sku with a space", CREATE, _constant(_new_item(" PWR-X"))),
    Step("sku too long", CREATE, _constant(_new_item("S" * 65))),
    Step("empty name", CREATE, _constant(_new_item("X-1", name=""))),
    Step("category too long", CREATE, _constant(_new_item("X-2", category="c" * 65))),
    Step("description too long", CREATE, _constant(_new_item("X-3", description="d" * 2001))),
    Step("price with 3 decimals", CREATE, _constant(_new_item("X-4", price=1.234))),
    Step("negative price", CREATE, _constant(_new_item("X-5", price=-1))),
    Step("negative quantity", CREATE, _constant(_new_item("X-6", quantity=-1))),
    Step("reorder point too big", CREATE, _constant(_new_item("X-7", reorderPoint=1_000_000_001))),
    Step("price of the wrong type", CREATE, _constant(_new_item("X-8", price="cheap"))),
    Step("missing input field", CREATE, _constant({"input": {"sku": "X-9", "name": "n", "price": 1}})),
    # getItem, getItemBySku, Item.movements
    Step("get drill", GET, lambda a: {"id": data(a, "drill", "createItem", "id"), "movementsLimit": 1}),
    Step("absent id", GET, _constant({"id": "no-such-item"})),
    Step("empty id", GET, _constant({"id": ""})),
    Step("movements limit 0", NESTED_MOVEMENTS_FAIL, lambda a: {"id": data(a, "drill", "createItem", "id")}),
    Step("movements limit 101", GET, lambda a: {"id": data(a, "drill", "createItem", "id"), "movementsLimit": 101}),
    Step("movements bad token", GET, lambda a: {"id": data(a, "drill", "createItem", "id"), "movementsNextToken": "x"}),
    Step("by sku", BY_SKU, _constant({"sku": "GRD-GLOVES"})),
    Step("unknown sku", BY_SKU, _constant({"sku": "NO-SUCH-SKU"})),
    Step("impossible sku", BY_SKU, _constant({"sku": " spaced "})),
    Step(
        "two root fields", TWO_ROOT_FIELDS, lambda a: {"sku": "PWR-DRILL", "id": data(a, "gloves", "createItem", "id")}
    ),
    # listItems: pages to the end, each filter, each refusal
    Step("page 1", LIST, _constant({"limit": 2})),
    Step("page 2", LIST, _next_page("page 1")),
    Step("page 3", LIST, _next_page("page 2")),
    Step("default page", LIST, _constant({})),
    Step("garden", LIST, _constant({"filter": {"category": "garden"}})),
    Step("out of stock", LIST, _constant({"filter": {"status": "OUT_OF_STOCK"}})),
    Step("low stock page 1", LIST, _constant({"filter": {"lowStock": True}, "limit": 2})),
    Step("low stock page 2", LIST, _next_page("low stock page 1", {"lowStock": True})),
    Step("filter of nulls", LIST, _constant({"filter": {"category": None, "status": None}})),
    Step("two filters", LIST, _constant({"filter": {"category": "garden", "lowStock": True}})),
    Step("low stock false", LIST, _constant({"filter": {"lowStock": False}})),
    Step("limit 0", LIST, _constant({"limit": 0})),
    Step("limit 101", LIST, _constant({"limit": 101})),
    Step(
        "altered token",
        LIST,
        lambda a: {"limit": 2, "nextToken": data(a, "page 1", "listItems", "nextToken")[:-2] + "xy"},
    ),
    Step("token of another filter", LIST, _next_page("page 1", {"category": "garden"})),
    Step("unknown status", LIST, _constant({"filter": {"status": "LOST"}})),
    Step("limit of the wrong type", LIST, _constant({"limit": "ten"})),
    # updateItem
    Step("update drill", UPDATE, _update("drill", 1, price=139.5, description=None, name="Cordless drill 18 V")),
    Step("stale version", UPDATE, _update("drill", 1, price=1)),
    Step("update absent", UPDATE, _constant({"input": {"id": "no-such-item", "expectedVersion": 1, "price": 1}})),
    Step("nothing to update", UPDATE, _update("drill", 2)),
    Step("null name", UPDATE, _update("drill", 2, name=None)),
    Step("set out of stock", UPDATE, _update("drill", 2, status="OUT_OF_STOCK")),
    Step("discontinue tape", UPDATE, _update("tape", 1, status="DISCONTINUED")),
    Step("tape available again", UPDATE, _update("tape", 2, status="AVAILABLE")),
    # adjustStock
    Step("receive drill", ADJUST, _adjust("drill", 5, "RECEIVED", "k-1", reference="DN-1")),
    Step("replay", ADJUST, _adjust("drill", 5, "RECEIVED", "k-1", reference="DN-1")),
    Step("key reused", ADJUST, _adjust("drill", 6, "RECEIVED", "k-1", reference="DN-1")),
    Step("oversell gloves", ADJUST, _adjust("gloves", -5, "SOLD", "k-2")),
    Step("sell gloves", ADJUST, _adjust("gloves", -3, "SOLD", "k-3")),
    Step("correction", ADJUST, _adjust("shears", -2, "CORRECTION", "k-4")),
    Step("above the maximum", ADJUST, _adjust("hammer", 1, "RECEIVED", "k-5")),
    Step(
        "adjust absent",
        ADJUST,
        _constant({"input": {"itemId": "nope", "delta": 1, "reason": "RECEIVED", "idempotencyKey": "k-6"}}),
    ),
    Step("delta 0", ADJUST, _adjust("drill", 0, "CORRECTION", "k-7")),
    Step("received negative", ADJUST, _adjust("drill", -1, "RECEIVED", "k-8")),
    Step("sold positive", ADJUST, _adjust("drill", 1, "SOLD", "k-9")),
    Step("reference too long", ADJUST, _adjust("drill", 1, "RECEIVED", "k-10", reference="r" * 201)),
    Step("empty key", ADJUST, _adjust("drill", 1, "RECEIVED", "")),
    # fulfillOrder
    Step("order", ORDER, _order("o-1", ("drill", 2), ("shears", 3))),
    Step("order replay", ORDER, _order("o-1", ("drill", 2), ("shears", 3))),
    Step("order id reused", ORDER, _order("o-1", ("drill", 1))),
    Step("short order", ORDER, _order("o-2", ("drill", 1), ("gloves", 1), ("tape", 1))),
    Step(
        "order of an absent item",
        ORDER,
        lambda a: {"input": {"orderId": "o-3", "lines": [{"itemId": "nope", "quantity": 1}]}},
    ),
    Step("item twice", ORDER, _order("o-4", ("drill", 1), ("drill", 1))),
    Step("no lines", ORDER, _constant({"input": {"orderId": "o-5", "lines": []}})),
    Step(
        "26 lines",
        ORDER,
        lambda a: {"input": {"orderId": "o-6", "lines": [{"itemId": f"i-{n}", "quantity": 1} for n in range(26)]}},
    ),
    Step("quantity 0", ORDER, _order("o-7", ("drill", 0))),
    Step("history", GET, lambda a: {"id": data(a, "drill", "createItem", "id"), "movementsLimit": 3}),
    Step(
        "history page 2",
        GET,
        lambda a: {
            "id": data(a, "drill", "createItem", "id"),
            "movementsLimit": 3,
            "movementsNextToken": data(a, "history", "getItem", "movements", "nextToken"),
        },
    ),
    # deleteItem
    Step("delete hammer", DELETE, lambda a: {"id": data(a, "hammer", "createItem", "id")}),
    Step("delete again", DELETE, lambda a: {"id": data(a, "hammer", "createItem", "id")}),
    Step("sku free again", CREATE, _constant(_new_item("HND-HAMMER"))),
    Step("delete empty id", DELETE, _constant({"id": ""})),
    Step("final listing", LIST, _constant({"limit": 100})),
    # GraphQL's own errors
    Step("unknown field", UNKNOWN_FIELD, _constant({})),
    Step("syntax error", SYNTAX_ERROR, _constant({})),
    Step("missing variable", GET, _constant({})),
]


def test_the_scenario_answers_alike(appsync: AppSyncModel, mirror: Mirror) -> None:
    expected = by_shape(asyncio.run(run(appsync, SCENARIO)))
    actual = by_shape(asyncio.run(run(mirror, SCENARIO)))
    for (label, want), (_, got) in zip(expected, actual, strict=True):
        assert got == want, f"step {label!r}"


def test_the_scenario_covers_every_error_type(appsync: AppSyncModel) -> None:
    seen = {
        error.get("errorType")
        for _, answer in asyncio.run(run(appsync, SCENARIO))
        for error in answer.get("errors", ())
    }
    assert seen >= {
        "ValidationError",
        "ItemNotFound",
        "DuplicateSku",
        "VersionConflict",
        "InsufficientStock",
        "IdempotencyConflict",
    }


def test_an_unexpected_failure_answers_internal_error_alike_and_tells_nothing(
    appsync: AppSyncModel, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: InventoryService, item_id: str) -> None:
        raise RuntimeError(f"botocore ClientError: table secret-table-name is gone ({item_id})")

    monkeypatch.setattr(InventoryService, "get_item", broken)
    steps = [Step("broken", GET, _constant({"id": "some-id"}))]
    expected, actual = asyncio.run(run(appsync, steps)), asyncio.run(run(mirror, steps))
    assert actual == expected
    (error,) = actual[0][1]["errors"]
    assert error["errorType"] == "InternalError"
    assert error["message"] == INTERNAL_ERROR_MESSAGE
    assert error["errorInfo"] is None


# Subscriptions, fed from the data: each side's table stream, read by the same TableStream, makes events
# (inventory.events), whose publish mutation's response goes to each subscriber whose arguments match. The model has no
# stream handler of its own: it reads its table's stream here and delivers each event as AppSync delivers a publish
# mutation's response (a NONE data source answers the payload), so both sides go from the data to the subscriber.

ITEM_CHANGED, STOCK_MOVED = document("on-item-changed"), document("on-stock-movement")
PARTIAL_ADJUST = """
mutation Partial($input: AdjustStockInput!) {
  adjustStock(input: $input) { id itemId delta }
}"""


def _subscribers(first: str) -> list[tuple[str, str, Json]]:
    """(label, document, variables): filtered on the first item, on another, and not filtered."""
    return [
        ("stock of the first item", STOCK_MOVED, {"itemId": first}),
        ("stock of another item", STOCK_MOVED, {"itemId": "another-item"}),
        ("all stock", STOCK_MOVED, {"itemId": None}),
        ("first item changed", ITEM_CHANGED, {"id": first}),
        ("any item changed", ITEM_CHANGED, {}),
    ]


MUTATIONS: list[Step] = [
    Step("second", CREATE, _constant(_new_item("SKU-2", quantity=5))),
    Step(
        "receive first",
        ADJUST,
        lambda a: {
            "input": {
                "itemId": a["first"]["data"]["createItem"]["id"],
                "delta": 4,
                "reason": "RECEIVED",
                "idempotencyKey": "s-1",
            }
        },
    ),
    Step("sell second", ADJUST, _adjust("second", -1, "SOLD", "s-2")),
    Step(
        "partial selection",
        PARTIAL_ADJUST,
        lambda a: {
            "input": {
                "itemId": a["first"]["data"]["createItem"]["id"],
                "delta": -1,
                "reason": "SOLD",
                "idempotencyKey": "s-3",
            }
        },
    ),
    Step(
        "refused",
        ADJUST,
        lambda a: {
            "input": {
                "itemId": a["first"]["data"]["createItem"]["id"],
                "delta": -99,
                "reason": "SOLD",
                "idempotencyKey": "s-4",
            }
        },
    ),
    Step("order", ORDER, _order("s-o", ("second", 1))),
    Step(
        "update first",
        UPDATE,
        lambda a: {"input": {"id": a["first"]["data"]["createItem"]["id"], "expectedVersion": 1, "price": 3.5}},
    ),
    Step("delete second", DELETE, lambda a: {"id": a["second"]["data"]["createItem"]["id"]}),
    Step("delete absent", DELETE, _constant({"id": "no-such-item"})),
]


async def _mirror_events(
    mirror: Mirror, stream: TableStream, expected_counts: list[int]
) -> tuple[list[tuple[str, Json]], list[list[Json]]]:
    answers: Answers = {"first": await mirror.execute(CREATE, _new_item("SKU-1", quantity=1))}
    first = answers["first"]["data"]["createItem"]["id"]
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(feeding(stream, mirror.schema, mirror.context))
        inboxes = [
            await stack.enter_async_context(mirror.subscribed(doc, variables))
            for _, doc, variables in _subscribers(first)
        ]
        for step in MUTATIONS:
            answers[step.label] = await mirror.execute(step.document, step.variables(answers))
        for inbox, count in zip(inboxes, expected_counts, strict=True):
            for _ in range(3000):  # a bound: events come a stream poll (0.15 s) after the change
                if len(inbox) >= count:
                    break
                await asyncio.sleep(0.01)
        await asyncio.sleep(1)  # an event too many would arrive by now
        return list(answers.items()), [list(inbox) for inbox in inboxes]


async def _model_events(appsync: AppSyncModel, stream: TableStream) -> tuple[list[tuple[str, Json]], list[list[Json]]]:
    answers: Answers = {"first": await appsync.execute(CREATE, _new_item("SKU-1", quantity=1))}
    first = answers["first"]["data"]["createItem"]["id"]
    subscribers = _subscribers(first)
    inboxes: list[list[Json]] = [[] for _ in subscribers]
    stream.start()
    for step in MUTATIONS:
        answers[step.label] = await appsync.execute(step.document, step.variables(answers))
        for event in (event for record in stream.read() for event in events_of(record, 0)):
            published = CHANNELS[event.kind].publish_field
            for inbox, (_, doc, variables) in zip(inboxes, subscribers, strict=True):
                inbox.extend(await appsync.subscription_events(doc, variables, published, event.detail))
    return list(answers.items()), inboxes


def test_subscribers_hear_what_appsync_would_send_them(
    appsync: AppSyncModel, mirror: Mirror, stream: TableStream, admin_client: Any, dynamodb_endpoint: str
) -> None:
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_endpoint, region_name=REGION)
    model_stream = TableStream(streams, admin_client, os.environ["INVENTORY_TABLE_NAME"])  # the model's table
    expected_answers, expected_events = asyncio.run(_model_events(appsync, model_stream))
    expected_counts = [len(events) for events in expected_events]
    actual_answers, actual_events = asyncio.run(_mirror_events(mirror, stream, expected_counts))
    expected = by_shape({"answers": expected_answers, "events": expected_events})
    actual = by_shape({"answers": actual_answers, "events": actual_events})
    assert actual["answers"] == expected["answers"]
    for (label, _, _), want, got in zip(_subscribers("first"), expected["events"], actual["events"], strict=True):
        assert got == want, f"subscriber {label!r}"
    counts = {label: len(events) for (label, _, _), events in zip(_subscribers("first"), expected_events, strict=True)}
    # Every change is heard, whatever made it: the second item's creation (and its initial stock), the order, the
    # update and the deletion included, and whatever the mutation selected (the partial adjustment).
    assert counts == {
        "stock of the first item": 2,
        "stock of another item": 0,
        "all stock": 5,
        "first item changed": 3,
        "any item changed": 7,
    }
