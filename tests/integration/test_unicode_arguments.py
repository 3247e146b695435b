"""Lone UTF-16 surrogates through the Lambda handlers on DynamoDB Local, which would store them: refused before any
write, as a ValidationError on the argument that holds one."""

from __future__ import annotations

import json

from tests.appsync import error_of, mutate
from tests.integration.conftest import NewItem, TableView

LONE = json.loads('"\\ud800"')  # the Lambda runtime decodes AppSync's JSON event the same way
REASON = "must be valid Unicode text: it holds a lone UTF-16 surrogate"


def test_a_lone_surrogate_is_refused_by_every_mutation_and_nothing_is_written(
    new_item: NewItem, table: TableView
) -> None:
    item = new_item(quantity=5)
    adjustment = {"itemId": item["id"], "delta": 1, "reason": "RECEIVED", "idempotencyKey": "key-1"}
    attempts = [
        ("createItem", {"sku": f"SKU-{LONE}", "name": "n", "category": "c", "price": 1}, "input.sku"),
        ("createItem", {"sku": "SKU-OK", "name": LONE, "category": "c", "price": 1}, "input.name"),
        ("updateItem", {"id": item["id"], "expectedVersion": 1, "description": LONE}, "input.description"),
        ("adjustStock", {**adjustment, "idempotencyKey": LONE}, "input.idempotencyKey"),
        ("adjustStock", {**adjustment, "reference": LONE}, "input.reference"),
        ("fulfillOrder", {"orderId": LONE, "lines": [{"itemId": item["id"], "quantity": 1}]}, "input.orderId"),
    ]
    before = table.records()

    for field_name, arguments, field in attempts:
        error = error_of(mutate(field_name, {"input": arguments}))
        assert (error["type"], error["info"]) == ("ValidationError", {"field": field, "reason": REASON}), field_name

    assert table.records() == before
