"""Events AppSync would never send (a wiring mistake, a direct invocation): the handlers answer BadRequest envelopes,
one per batch entry, and never raise or write."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from resolvers import handlers
from tests.appsync import FakeLambdaContext, batch_event, error_of, resolver_event
from tests.integration.conftest import NewItem, TableView

CREATE = {"input": {"sku": "SKU-BAD", "name": "Widget", "category": "tools", "price": 1, "quantity": 5}}


def without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(event)
    node = broken
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return broken


def with_value(event: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    broken = copy.deepcopy(event)
    node = broken
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return broken


def _create_event() -> dict[str, Any]:
    return resolver_event("Mutation", "createItem", CREATE)


MALFORMED_CREATE_EVENTS = {
    "no info": (without(_create_event(), "info"), "the event has no info object"),
    "info null": (with_value(_create_event(), None, "info"), "the event has no info object"),
    "info a string": (with_value(_create_event(), "createItem", "info"), "the event has no info object"),
    "no fieldName": (without(_create_event(), "info", "fieldName"), "the event has no info.fieldName"),
    "fieldName null": (with_value(_create_event(), None, "info", "fieldName"), "the event has no info.fieldName"),
    "fieldName empty": (with_value(_create_event(), "", "info", "fieldName"), "the event has no info.fieldName"),
    "no parentTypeName": (
        without(_create_event(), "info", "parentTypeName"),
        "the event has no info.parentTypeName",
    ),
    "no arguments": (without(_create_event(), "arguments"), "the event's arguments must be an object"),
    "arguments null": (with_value(_create_event(), None, "arguments"), "the event's arguments must be an object"),
    "arguments a list": (with_value(_create_event(), [1], "arguments"), "the event's arguments must be an object"),
    "unknown field": (
        with_value(_create_event(), "dropTable", "info", "fieldName"),
        "this function does not resolve Mutation.dropTable (batched fields come as a list of events)",
    ),
    "a query field on the writing function": (
        with_value(_create_event(), "Query", "info", "parentTypeName"),
        "this function does not resolve Query.createItem (batched fields come as a list of events)",
    ),
    "not an object": (None, "the event must be an object (or, for a batched field, a list of objects)"),
}


@pytest.mark.parametrize("name", MALFORMED_CREATE_EVENTS)
def test_a_malformed_mutation_event_gets_bad_request_and_writes_nothing(
    name: str, table: TableView, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Inventory/test")  # the metric code must not raise either
    event, reason = MALFORMED_CREATE_EVENTS[name]
    before = table.records()

    result = handlers.mutations_handler(event, FakeLambdaContext())

    assert error_of(result) == {"type": "BadRequest", "message": f"Bad request: {reason}.", "info": {"reason": reason}}
    assert table.records() == before
    warnings = [record for record in caplog.records if record.levelname == "WARNING"]
    assert [record.getMessage() for record in warnings] == ["Malformed event refused"]


@pytest.mark.parametrize("event", ["createItem", 42, True, {}])
def test_any_json_value_as_the_event_gets_bad_request(event: Any) -> None:
    for handler in (handlers.queries_handler, handlers.mutations_handler):
        assert error_of(handler(event, FakeLambdaContext()))["type"] == "BadRequest"


def test_a_batched_field_sent_as_a_single_event_gets_bad_request(new_item: NewItem) -> None:
    item = new_item()
    event = resolver_event("Item", "movements", {}, source=item)

    error = error_of(handlers.queries_handler(event, FakeLambdaContext()))

    assert error["type"] == "BadRequest"
    assert "Item.movements" in error["info"]["reason"]


def test_an_empty_batch_gets_an_empty_list() -> None:
    assert handlers.queries_handler([], FakeLambdaContext()) == []
    assert handlers.mutations_handler([], FakeLambdaContext()) == []


def test_a_malformed_batch_entry_fails_alone_and_the_others_are_answered(new_item: NewItem) -> None:
    first, second = new_item(quantity=1), new_item(quantity=2)
    good = batch_event("Item", "movements", [first, second])
    events: list[Any] = [
        None,
        good[0],
        without(good[0], "info"),
        with_value(good[0], "nope", "info", "fieldName"),
        with_value(good[0], "Query", "info", "parentTypeName"),
        good[1],
    ]

    results = handlers.queries_handler(events, FakeLambdaContext())

    assert len(results) == len(events)
    assert [error_of(results[index])["type"] for index in (0, 2, 3, 4)] == ["BadRequest"] * 4
    assert error_of(results[3])["info"] == {"reason": "this function does not resolve Item.nope in batches"}
    assert [page["items"][0]["quantityAfter"] for page in (results[1], results[5])] == [1, 2]


def test_a_batch_whose_first_entry_names_an_unknown_field_still_answers_the_rest(new_item: NewItem) -> None:
    item = new_item(quantity=3)
    good = batch_event("Item", "movements", [item, item])
    events = [with_value(good[0], "unknownField", "info", "fieldName"), *good]

    results = handlers.queries_handler(events, FakeLambdaContext())

    assert error_of(results[0])["type"] == "BadRequest"
    assert results[1] == results[2] and results[1]["items"][0]["quantityAfter"] == 3


def test_a_batch_sent_to_the_writing_function_gets_one_bad_request_per_entry_and_writes_nothing(
    table: TableView,
) -> None:
    before = table.records()

    results = handlers.mutations_handler([_create_event(), _create_event()], FakeLambdaContext())

    assert [error_of(result)["type"] for result in results] == ["BadRequest", "BadRequest"]
    assert table.records() == before
