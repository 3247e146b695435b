"""A publish mutation as AppSync runs it, for the tests of the events and of the stream handler: the document is
validated against schema.graphql (with appsync.graphql), its variables coerced to the types it declares, and the
field resolved as its NONE data source does (the parsed AWSJSON argument), so the result is what subscribers
receive: every field the payload has, serialized as the schema types it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from graphql import FieldNode, GraphQLSchema, OperationDefinitionNode, execute_sync, parse, validate

from inventory.events import CHANNELS
from tests.graphql_schema import appsync_schema

SCHEMA: GraphQLSchema = appsync_schema()
PUBLISH_FIELDS = {channel.publish_field for channel in CHANNELS.values()}


def _argument(_info: Any, **arguments: Any) -> Any:
    (payload,) = arguments.values()  # AWSJSON: a JSON document in a string, as AppSync requires of a variable
    assert isinstance(payload, str), payload
    return json.loads(payload)


def published(document: str, variables: Mapping[str, Any]) -> tuple[str, Any]:
    """The publish field a mutation calls, and what it resolves to; fails unless the request is valid."""
    parsed = parse(document)
    assert validate(SCHEMA, parsed) == []
    (operation,) = parsed.definitions
    assert isinstance(operation, OperationDefinitionNode) and operation.operation.value == "mutation"
    (field_node,) = operation.selection_set.selections
    assert isinstance(field_node, FieldNode)
    field = field_node.name.value
    assert field in PUBLISH_FIELDS, field
    result = execute_sync(
        SCHEMA, parsed, root_value=dict.fromkeys(PUBLISH_FIELDS, _argument), variable_values=dict(variables)
    )
    assert result.errors is None, result.errors
    assert result.data is not None
    return field, result.data[field]
