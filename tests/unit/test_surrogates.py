"""Lone UTF-16 surrogates ("\\ud800", which JSON can escape) in any text argument: a ValidationError naming that
argument, and nothing written; real non-ASCII text is accepted."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from inventory import operations
from inventory.config import Settings
from inventory.errors import ValidationError
from inventory.service import InventoryService

LONE = json.loads('"a\\ud800b"')  # what a JSON body with a lone escaped surrogate decodes to
assert len(LONE) == 3

Operation = Callable[[InventoryService, dict[str, Any]], Any]


def table_records(dynamodb: Any, settings: Settings) -> list[dict[str, Any]]:
    return sorted(
        dynamodb.scan(TableName=settings.table_name, ConsistentRead=True)["Items"],
        key=lambda record: (record["pk"]["S"], record["sk"]["S"]),
    )


@pytest.fixture
def item(service: InventoryService) -> dict[str, Any]:
    return operations.create_item(
        service, {"input": {"sku": "SKU-1", "name": "Widget", "category": "tools", "price": 1, "quantity": 10}}
    )


def cases(item_id: str, token: str) -> list[tuple[Operation, dict[str, Any], str]]:
    """(operation, arguments, field) with a lone surrogate in that field; every other argument is valid."""
    create = {"sku": "SKU-2", "name": "Widget", "category": "tools", "price": 1}
    update = {"id": item_id, "expectedVersion": 1}
    adjust = {"itemId": item_id, "delta": 1, "reason": "RECEIVED", "idempotencyKey": "key-1"}
    order = {"orderId": "order-1", "lines": [{"itemId": item_id, "quantity": 1}]}

    def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
        return {"input": {**base, **changes}}

    return [
        (operations.create_item, with_(create, sku=LONE), "input.sku"),
        (operations.create_item, with_(create, name=LONE), "input.name"),
        (operations.create_item, with_(create, category=LONE), "input.category"),
        (operations.create_item, with_(create, description=LONE), "input.description"),
        (operations.update_item, with_(update, name=LONE), "input.name"),
        (operations.update_item, with_(update, description=LONE), "input.description"),
        (operations.update_item, with_(update, category=LONE), "input.category"),
        (operations.update_item, with_(update, id=LONE, name="x"), "input.id"),
        (operations.delete_item, {"id": LONE}, "id"),
        (operations.adjust_stock, with_(adjust, itemId=LONE), "input.itemId"),
        (operations.adjust_stock, with_(adjust, reference=LONE), "input.reference"),
        (operations.adjust_stock, with_(adjust, idempotencyKey=LONE), "input.idempotencyKey"),
        (operations.fulfill_order, with_(order, orderId=LONE), "input.orderId"),
        (operations.fulfill_order, with_(order, lines=[{"itemId": LONE, "quantity": 1}]), "input.lines[0].itemId"),
        (operations.get_item, {"id": LONE}, "id"),
        (operations.list_items, {"filter": {"category": LONE}}, "filter.category"),
        (operations.list_items, {"nextToken": token[:5] + LONE}, "nextToken"),
        (
            lambda service, arguments: operations.item_movements(service, {"id": item_id}, arguments),
            {"nextToken": LONE},
            "nextToken",
        ),
    ]


CASES = len(cases("x", "token"))


@pytest.mark.parametrize("case", range(CASES))
def test_a_lone_surrogate_in_a_text_argument_is_a_validation_error_on_it_and_writes_nothing(
    case: int, service: InventoryService, item: dict[str, Any], dynamodb: Any, settings: Settings
) -> None:
    for n in range(2):  # enough items for a listing to have a second page
        operations.create_item(
            service, {"input": {"sku": f"SKU-P{n}", "name": "Widget", "category": "tools", "price": 1}}
        )
    token = operations.list_items(service, {"limit": 1})["nextToken"]
    operation, arguments, field = cases(item["id"], token)[case]
    before = table_records(dynamodb, settings)

    with pytest.raises(ValidationError) as caught:
        operation(service, arguments)

    assert caught.value.info == {
        "field": field,
        "reason": "must be valid Unicode text: it holds a lone UTF-16 surrogate",
    }
    assert table_records(dynamodb, settings) == before


def test_get_item_by_sku_with_a_lone_surrogate_is_null_like_any_sku_no_item_can_have(
    service: InventoryService, item: dict[str, Any]
) -> None:
    assert operations.get_item_by_sku(service, {"sku": LONE}) is None


def test_text_beyond_ascii_is_stored_and_read_back_unchanged(service: InventoryService) -> None:
    text = "é ü 漢字 😀 \u200d"
    created = operations.create_item(
        service,
        {"input": {"sku": "SKU-😀", "name": text, "category": "漢字", "price": 1, "description": text, "quantity": 1}},
    )
    movement = operations.adjust_stock(
        service,
        {
            "input": {
                "itemId": created["id"],
                "delta": 1,
                "reason": "RECEIVED",
                "idempotencyKey": "k-😀",
                "reference": text,
            }
        },
    )

    level = {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 2, "reserved": 0, "available": 2}
    figures = {"quantity": 2, "onHand": 2, "available": 2, "levels": [level]}
    assert operations.get_item_by_sku(service, {"sku": "SKU-😀"}) == {**created, **figures}
    assert (created["name"], created["description"], movement["reference"]) == (text, text, text)
    assert operations.list_items(service, {"filter": {"category": "漢字"}})["items"] == [
        operations.get_item(service, {"id": created["id"]})
    ]
