"""The mirror is built from schema.graphql: a field added to the SDL and to inventory.fields.FIELDS, with its
operation, is served, with no other change; a field one of them lacks stops the server from starting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest
from graphql import print_schema

from devserver.contract import build_contract
from devserver.schema import InventorySchema
from inventory import fields, operations
from inventory.fields import ResolvedField, Side
from inventory.service import InventoryService
from tests.contract.mirror import Json, Mirror
from tests.graphql_schema import SCHEMA_PATH

# Two fields a next contract could add: a root query with arguments (one with a default), a nested field on Item.
EXTRA_QUERY = """
  "Echoes the arguments its operation received, as JSON."
  echoArguments(
    "Any text."
    text: String
    "A bound, 1 by default."
    times: Int = 1
    filter: ItemFilter
  ): String!
"""
EXTRA_ITEM_FIELD = """
  "How many characters the sku has."
  skuLength(
    "Added to the length."
    plus: Int
  ): Int!
"""

EXTRA_SUBSCRIPTION = """
  "Items created; give category to hear about one category only."
  onItemCreated(category: String): Item @aws_subscribe(mutations: ["createItem"])
"""


def _extended_sdl() -> str:
    sdl = SCHEMA_PATH.read_text()
    extras = (("type Query", EXTRA_QUERY), ("type Item", EXTRA_ITEM_FIELD), ("type Subscription", EXTRA_SUBSCRIPTION))
    for type_line, extra in extras:
        start = sdl.index(type_line)
        end = sdl.index("\n}", start)
        sdl = sdl[:end] + extra.rstrip("\n") + sdl[end:]
    return sdl


def echo_arguments(service: InventoryService, arguments: Mapping[str, Any]) -> str:
    return json.dumps(arguments, sort_keys=True)


def sku_length(service: InventoryService, source: Mapping[str, Any], arguments: Mapping[str, Any]) -> int:
    return len(source["sku"]) + (arguments.get("plus") or 0)


@pytest.fixture
def extended(monkeypatch: pytest.MonkeyPatch, service: InventoryService) -> Mirror:
    monkeypatch.setattr(operations, "echo_arguments", echo_arguments, raising=False)
    monkeypatch.setattr(operations, "sku_length", sku_length, raising=False)
    monkeypatch.setattr(
        fields,
        "FIELDS",
        (
            *fields.FIELDS,
            ResolvedField("Query", "echoArguments", operations.echo_arguments, Side.QUERIES),  # type: ignore[attr-defined]
            ResolvedField("Item", "skuLength", operations.sku_length, Side.QUERIES),  # type: ignore[attr-defined]
        ),
    )
    return Mirror(service, InventorySchema(build_contract(_extended_sdl())))


def test_a_field_added_to_the_schema_and_to_fields_is_served_with_appsync_arguments(extended: Mirror) -> None:
    answer = asyncio.run(
        extended.execute(
            "query ($f: ItemFilter) { omitted: echoArguments given: echoArguments(text: null, times: 2, filter: $f) }",
            {"f": {"lowStock": True}},
        )
    )
    assert "errors" not in answer
    # Omitted: absent, unless the SDL gives a default; explicit null: present; inputs keep their GraphQL names.
    assert json.loads(answer["data"]["omitted"]) == {"times": 1}
    assert json.loads(answer["data"]["given"]) == {"text": None, "times": 2, "filter": {"lowStock": True}}


def test_a_nested_field_added_to_the_schema_and_to_fields_gets_its_parent_as_source(extended: Mirror) -> None:
    created = asyncio.run(
        extended.execute(
            'mutation { createItem(input: {sku: "SKU-12345", name: "n", category: "c", price: 1}) { id skuLength } }'
        )
    )
    assert "errors" not in created
    assert created["data"]["createItem"]["skuLength"] == 9
    read = asyncio.run(
        extended.execute(
            "query ($id: ID!) { getItem(id: $id) { sku skuLength(plus: 1) } }",
            {"id": created["data"]["createItem"]["id"]},
        )
    )
    assert read == {"data": {"getItem": {"sku": "SKU-12345", "skuLength": 10}}}


def test_a_subscription_added_to_the_schema_delivers_the_mutations_its_aws_subscribe_names(extended: Mirror) -> None:
    create = (
        "mutation ($sku: String!, $category: String!) {"
        ' createItem(input: {sku: $sku, name: "n", category: $category, price: 1}) { id sku category skuLength } }'
    )

    async def scenario() -> list[Json]:
        async with extended.subscribed(
            'subscription { onItemCreated(category: "tools") { sku skuLength } }'
        ) as received:
            for sku, category in (("SKU-1", "food"), ("SKU-22", "tools")):
                answer = await extended.execute(create, {"sku": sku, "category": category})
                assert "errors" not in answer
            for _ in range(200):
                if received:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)  # an event too many would arrive by now
            return list(received)

    # Filtered by its argument, as AppSync does; the nested field comes from the published response.
    assert asyncio.run(scenario()) == [{"data": {"onItemCreated": {"sku": "SKU-22", "skuLength": 6}}}]


def test_the_added_fields_come_across_with_their_descriptions_and_defaults(extended: Mirror) -> None:
    served = print_schema(extended.schema._schema)
    assert (
        '''
  """Echoes the arguments its operation received, as JSON."""
  echoArguments(
    """Any text."""
    text: String

    """A bound, 1 by default."""
    times: Int = 1
    filter: ItemFilter
  ): String!
}'''
        in served
    )
    assert (
        '''
  """How many characters the sku has."""
  skuLength(
    """Added to the length."""
    plus: Int
  ): Int!
}'''
        in served
    )


def test_a_root_field_without_an_operation_stops_the_start() -> None:
    with pytest.raises(
        ValueError, match=r"no operation serves Query\.echoArguments: add it to inventory.fields.FIELDS"
    ):
        InventorySchema(build_contract(_extended_sdl()))


def test_an_operation_for_a_field_the_schema_lacks_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        fields, "FIELDS", (*fields.FIELDS, ResolvedField("Item", "skuLength", sku_length, Side.QUERIES))
    )
    with pytest.raises(ValueError, match=r"Item\.skuLength is in inventory.fields.FIELDS but not in the schema"):
        InventorySchema()
