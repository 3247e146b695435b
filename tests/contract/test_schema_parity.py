"""The schema Strawberry serves and schema.graphql are the same API: a guard, now that the mirror is built from
schema.graphql itself (devserver/contract.py) and can no longer drift by hand.

Both sides are built and printed by graphql-core (build_ast_schema, lexicographic_sort_schema, print_schema) after
normalizing only what AppSync declares implicitly: on the contract's side the @aws_* directives are removed from
the AST and the AppSync scalars it uses are declared; on the mirror's side the AppSync scalars lose their
description. Everything else (types, fields, arguments, nullability, enum values, inputs, subscriptions, every
description, the schema's own description) must be equal.
"""

from __future__ import annotations

import difflib
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    FieldDefinitionNode,
    NamedTypeNode,
    NameNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    build_ast_schema,
    lexicographic_sort_schema,
    parse,
    print_schema,
    visit,
)
from graphql.language import Visitor

from devserver.schema import schema
from devserver.subscriptions import triggers
from inventory.events import CHANNELS
from tests.contract.appsync_model import subscription_triggers
from tests.graphql_schema import SCHEMA_PATH, appsync_schema

APPSYNC_SCALARS = frozenset(
    {"AWSDate", "AWSTime", "AWSDateTime", "AWSTimestamp", "AWSEmail", "AWSJSON", "AWSURL", "AWSPhone", "AWSIPAddress"}
)


class _WithoutAppSyncDirectives(Visitor):
    def enter_directive(self, node: Any, *_: Any) -> Any:
        return Visitor.REMOVE if node.name.value.startswith("aws_") else None


def contract_document(sdl: str) -> DocumentNode:
    """schema.graphql as plain GraphQL: no @aws_* directive, and the AppSync scalars it uses declared."""
    document: DocumentNode = visit(parse(sdl), _WithoutAppSyncDirectives())
    used: set[str] = set()

    class Names(Visitor):
        def enter_named_type(self, node: NamedTypeNode, *_: Any) -> None:
            used.add(node.name.value)

    visit(document, Names())
    scalars = [
        ScalarTypeDefinitionNode(name=NameNode(value=name), directives=()) for name in sorted(used & APPSYNC_SCALARS)
    ]
    return DocumentNode(definitions=(*document.definitions, *scalars))


def mirror_document(sdl: str) -> DocumentNode:
    """The mirror's SDL with its AppSync scalars as AppSync declares them: bare, without description."""

    class Bare(Visitor):
        def enter_scalar_type_definition(self, node: ScalarTypeDefinitionNode, *_: Any) -> Any:
            if node.name.value in APPSYNC_SCALARS:
                return ScalarTypeDefinitionNode(name=node.name, directives=())
            return None

    bare: DocumentNode = visit(parse(sdl), Bare())
    return bare


def canonical(document: DocumentNode) -> str:
    return print_schema(lexicographic_sort_schema(build_ast_schema(document)))


def assert_same_api(contract: DocumentNode, mirror: DocumentNode) -> None:
    expected, actual = canonical(contract), canonical(mirror)
    diff = "\n".join(difflib.unified_diff(expected.splitlines(), actual.splitlines(), "schema.graphql", "mirror", n=2))
    assert expected == actual, f"the mirror differs from the contract:\n{diff}"


def served_sdl() -> str:
    """What the mirror serves (and answers to introspection), printed by graphql-core."""
    return print_schema(schema._schema)


def test_the_served_schema_is_the_contract() -> None:
    assert_same_api(contract_document(SCHEMA_PATH.read_text()), mirror_document(served_sdl()))


def test_the_schema_strawberry_prints_is_the_contract_but_for_the_schema_description() -> None:
    # Strawberry's own printer (str(schema), `strawberry export-schema`) leaves the schema's description out.
    class WithoutSchemaDescription(Visitor):
        def enter_schema_definition(self, node: SchemaDefinitionNode, *_: Any) -> Any:
            return SchemaDefinitionNode(directives=node.directives, operation_types=node.operation_types)

    contract = visit(contract_document(SCHEMA_PATH.read_text()), WithoutSchemaDescription())
    assert_same_api(contract, mirror_document(str(schema)))


def _with_field(document: DocumentNode, type_name: str, field_name: str) -> DocumentNode:
    """``document`` with one more nullable String field on ``type_name``."""
    extra = FieldDefinitionNode(
        name=NameNode(value=field_name), arguments=(), directives=(), type=NamedTypeNode(name=NameNode(value="String"))
    )

    class AddField(Visitor):
        def enter_object_type_definition(self, node: ObjectTypeDefinitionNode, *_: Any) -> Any:
            if node.name.value == type_name:
                return ObjectTypeDefinitionNode(
                    name=node.name,
                    description=node.description,
                    interfaces=node.interfaces,
                    directives=node.directives,
                    fields=(*(node.fields or ()), extra),
                )
            return None

    extended: DocumentNode = visit(document, AddField())
    return extended


@pytest.mark.parametrize("side", ["contract", "mirror"])
@pytest.mark.parametrize("type_name", ["Item", "Query", "Subscription"])
def test_a_field_added_on_one_side_only_fails_the_comparison(side: str, type_name: str) -> None:
    contract, mirror = contract_document(SCHEMA_PATH.read_text()), mirror_document(served_sdl())
    if side == "contract":
        contract = _with_field(contract, type_name, "extraField")
    else:
        mirror = _with_field(mirror, type_name, "extraField")
    with pytest.raises(AssertionError, match="extraField"):
        assert_same_api(contract, mirror)


def test_a_changed_description_fails_the_comparison() -> None:
    sdl = SCHEMA_PATH.read_text().replace('"The item with this id, or null."', '"The item with this id."')
    with pytest.raises(AssertionError, match="The item with this id"):
        assert_same_api(contract_document(sdl), mirror_document(served_sdl()))


def test_subscriptions_fire_on_the_mutations_of_aws_subscribe() -> None:
    delivered = triggers(schema._schema)
    by_subscription = {
        field: [mutation for mutation, fields in delivered.items() if field in fields]
        for field in schema._schema.subscription_type.fields  # type: ignore[union-attr]
    }
    assert by_subscription == subscription_triggers(appsync_schema())
    assert by_subscription == {channel.subscription_field: [channel.publish_field] for channel in CHANNELS.values()}
