"""The deployed API, modelled: schema.graphql executed by graphql-core, every resolver a Lambda invocation.

This is the reference the local server is compared with, built only from the contract and the Lambda code:

- each Query and Mutation field, and the nested ``Item.movements``, is resolved by invoking the real Lambda handler
  with an AppSync-shaped event (tests/appsync.py), JSON in and JSON out as over the wire. ``Item.movements`` is
  batch-invoked: one invocation for every Item of a response, as AppSync's batch invoke does;
- the handler's error envelope ``{"error": {"type", "message", "info"}}`` is mapped the way the resolver's APPSYNC_JS
  response handler maps it, ``util.error(message, type, null, info)``: the field is null and the response carries an
  error with ``errorType``, ``errorInfo``, ``data: null``, ``path`` and ``locations`` at the top level;
- subscriptions, which AppSync serves itself (``@aws_subscribe``, no resolver): a triggering mutation's response
  goes to every subscriber whose arguments equal the response's fields of the same name, shaped by the subscriber's
  selection set (fields the mutation did not select are null).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLObjectType, GraphQLSchema, graphql, parse, subscribe

from tests.appsync import FakeLambdaContext, batch_event, handler_for, is_error, resolver_event
from tests.graphql_schema import appsync_schema

Json = dict[str, Any]


def _wire(value: Any) -> Any:
    """What JSON serialization between AppSync and Lambda leaves of a value."""
    return json.loads(json.dumps(value))


class LambdaError(Exception):
    """A field whose Lambda returned the error envelope: the response handler calls util.error with its values."""

    def __init__(self, envelope: Mapping[str, Any]) -> None:
        super().__init__(envelope["message"])
        self.envelope = envelope


def appsync_error(error: GraphQLError) -> Json:
    original = error.original_error
    envelope = original.envelope if isinstance(original, LambdaError) else None
    locations = [{"line": loc.line, "column": loc.column, "sourceName": None} for loc in error.locations or ()]
    return {
        "path": error.path,
        "data": None,
        "errorType": envelope["type"] if envelope else None,
        "errorInfo": envelope["info"] if envelope else None,
        "locations": locations or None,
        "message": envelope["message"] if envelope else error.message,
    }


def appsync_response(result: ExecutionResult) -> Json:
    response: Json = {"data": result.data}
    if result.errors:
        response["errors"] = [appsync_error(error) for error in result.errors]
    wired: Json = _wire(response)
    return wired


def _invoke(parent_type: str, event: Any) -> Any:
    return _wire(handler_for(parent_type)(_wire(event), FakeLambdaContext()))


class _Request:
    """One GraphQL request: its variables (AppSync passes them in every event) and its pending movements batch."""

    def __init__(self, variables: Mapping[str, Any] | None) -> None:
        self.variables = dict(variables or {})
        self.pending: list[tuple[Json, Json, asyncio.Future[Any]]] = []

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        sources = [source for source, _, _ in batch]
        arguments = [entry_arguments for _, entry_arguments, _ in batch]
        results = _invoke("Item", batch_event("Item", "movements", sources, arguments, variables=self.variables))
        for (_, _, future), result in zip(batch, results, strict=True):
            if is_error(result):
                future.set_exception(LambdaError(result["error"]))
            else:
                future.set_result(result)


def _root_resolver(parent_type: str, field_name: str) -> Any:
    def resolve(source: Any, info: Any, **arguments: Any) -> Any:
        request: _Request = info.context
        event = resolver_event(parent_type, field_name, arguments, variables=request.variables)
        result = _invoke(parent_type, event)
        if is_error(result):
            raise LambdaError(result["error"])
        return result

    return resolve


def _movements_resolver(source: Any, info: Any, **arguments: Any) -> Any:
    request: _Request = info.context
    loop = asyncio.get_running_loop()
    if not request.pending:
        loop.call_soon(request.flush)  # after every Item of this response has asked
    future: asyncio.Future[Any] = loop.create_future()
    request.pending.append((source, arguments, future))
    return future


def subscription_triggers(schema: GraphQLSchema) -> dict[str, list[str]]:
    """schema.graphql's @aws_subscribe: subscription field -> the mutations that trigger it."""
    assert schema.subscription_type is not None
    triggers = {}
    for name, field in schema.subscription_type.fields.items():
        assert field.ast_node is not None
        (directive,) = [d for d in field.ast_node.directives if d.name.value == "aws_subscribe"]
        (argument,) = directive.arguments
        triggers[name] = [value.value for value in argument.value.values]
    return triggers


class AppSyncModel:
    def __init__(self) -> None:
        self.schema = appsync_schema()
        for parent in (self.schema.query_type, self.schema.mutation_type):
            assert isinstance(parent, GraphQLObjectType)
            for name, field in parent.fields.items():
                field.resolve = _root_resolver(parent.name, name)
        item = self.schema.type_map["Item"]
        assert isinstance(item, GraphQLObjectType)
        item.fields["movements"].resolve = _movements_resolver
        # Subscription events are shaped from the mutation's response alone: no resolver runs, nested ones neither.
        self.subscription_schema = appsync_schema()
        self.triggers = subscription_triggers(self.subscription_schema)

    async def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> Json:
        result = await graphql(
            self.schema, document, variable_values=dict(variables or {}), context_value=_Request(variables)
        )
        return appsync_response(result)

    async def subscription_events(
        self, document: str, variables: Mapping[str, Any] | None, mutation: str, response: Json
    ) -> list[Json]:
        """What a subscriber of ``document`` receives when ``mutation`` answered ``response`` (its data field)."""

        async def source(root: Any, info: Any, **arguments: Any) -> AsyncIterator[Json]:
            if mutation in self.triggers[info.field_name] and all(
                response.get(name) == value for name, value in arguments.items() if value is not None
            ):
                yield {info.field_name: response}

        stream = subscribe(
            self.subscription_schema,
            parse(document),
            variable_values=dict(variables or {}),
            subscribe_field_resolver=source,
        )
        if inspect.isawaitable(stream):
            stream = await stream
        assert not isinstance(stream, ExecutionResult), stream
        return [appsync_response(event) async for event in stream]
