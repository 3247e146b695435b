"""examples/*.graphql: every operation of the contract, valid as-is against schema.graphql (the AppSync console) and
the mirror (GraphiQL), each with sample variables that fit it."""

from __future__ import annotations

import pytest
from graphql import (
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    validate,
)

from devserver.schema import schema
from inventory import operations
from inventory.events import CHANNELS, Event, EventKind, publish_request
from inventory.service import InventoryService
from tests.contract.examples import Example, examples
from tests.graphql_schema import appsync_schema

CONTRACT = appsync_schema()
ROOTS = {OperationType.QUERY: "Query", OperationType.MUTATION: "Mutation", OperationType.SUBSCRIPTION: "Subscription"}


def _root_fields(graphql_schema: GraphQLSchema) -> set[str]:
    fields = set()
    for root in ROOTS.values():
        root_type = graphql_schema.type_map[root]
        assert isinstance(root_type, GraphQLObjectType)
        fields |= {f"{root}.{name}" for name in root_type.fields}
    return fields


def test_every_query_mutation_and_subscription_has_an_example() -> None:
    covered = {f"{ROOTS[e.operation.operation]}.{field}" for e in examples().values() for field in e.root_fields}
    # The publish mutations are for the stream handler (AWS IAM only): no client can send them.
    published = {f"Mutation.{channel.publish_field}" for channel in CHANNELS.values()}
    assert covered == _root_fields(CONTRACT) - published


def test_item_movements_has_an_example() -> None:
    assert any(
        "movements(limit: $movementsLimit, nextToken: $movementsNextToken)" in e.document for e in examples().values()
    )


@pytest.mark.parametrize("example", examples().values(), ids=lambda example: example.name)
def test_each_example_is_valid_on_appsync_and_on_the_mirror(example: Example) -> None:
    assert validate(CONTRACT, parse(example.document)) == []
    assert validate(schema._schema, parse(example.document)) == []


@pytest.mark.parametrize("example", examples().values(), ids=lambda example: example.name)
def test_each_example_comes_with_variables_for_every_required_one(example: Example) -> None:
    definitions = {d.variable.name.value: d for d in example.operation.variable_definitions or ()}
    assert set(example.variables) <= set(definitions)
    required = {name for name, d in definitions.items() if d.type.kind == "non_null_type"}
    assert required <= set(example.variables)


def _selected(selection_set: SelectionSetNode | None) -> set[str]:
    return {
        node.name.value for node in (selection_set.selections if selection_set else ()) if isinstance(node, FieldNode)
    }


def test_the_publish_mutations_select_every_field_the_subscription_examples_ask_for(service: InventoryService) -> None:
    # On AppSync a subscriber receives only the fields the publish mutation selected: the others are null.
    item = operations.create_item(
        service, {"input": {"sku": "EX-1", "name": "n", "category": "c", "price": 1, "quantity": 2}}
    )
    movement = operations.adjust_stock(
        service, {"input": {"itemId": item["id"], "delta": 1, "reason": "RECEIVED", "idempotencyKey": "ex-1"}}
    )
    details = {EventKind.ITEM_CHANGED: item, EventKind.LOW_STOCK: item, EventKind.STOCK_MOVEMENT: movement}
    by_field = {field: e for e in examples().values() for field in e.root_fields}
    for kind, channel in CHANNELS.items():
        (asked_node,) = by_field[channel.subscription_field].operation.selection_set.selections
        assert isinstance(asked_node, FieldNode)
        document, _ = publish_request(Event(kind, "e", item["id"], details[kind]))
        (operation,) = parse(document).definitions
        assert isinstance(operation, OperationDefinitionNode)
        (given_node,) = operation.selection_set.selections
        assert isinstance(given_node, FieldNode)
        assert _selected(asked_node.selection_set) <= _selected(given_node.selection_set), kind
