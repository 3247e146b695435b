"""The mirror's resolvers, bound to the schema built from schema.graphql: every field of ``inventory.fields.FIELDS``
runs its operation of :mod:`inventory.operations` (the functions the Lambda resolvers call), and every other field
reads its key from the parent's JSON, as AppSync's own resolution does.

The request keeps AppSync's form from transport to operation and back: graphql-core hands a resolver its arguments
as AppSync does (GraphQL names, JSON values, an omitted argument or input field absent, an explicit null present),
and an operation's dict is the result. No rule lives here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, OperationType

from devserver.subscriptions import Subscriptions
from inventory.events import CHANNELS
from inventory.fields import ResolvedField

Json = dict[str, Any]
Resolver = Callable[..., Awaitable[Any]]


def bind(schema: GraphQLSchema, fields: Iterable[ResolvedField]) -> None:
    """Give each field of ``fields`` its operation, each publish mutation of ``inventory.events.CHANNELS`` its
    payload and each subscription field its events. Every other root Query and Mutation field must be among
    ``fields``, and each of ``fields`` in the schema: a gap fails at start-up, not as a null in some answer."""
    roots = [root for root in (schema.query_type, schema.mutation_type) if root is not None]
    unbound = {(root.name, name) for root in roots for name in root.fields}
    for field in fields:
        parent = schema.type_map.get(field.type_name)
        if not isinstance(parent, GraphQLObjectType) or field.field_name not in parent.fields:
            raise ValueError(f"{field.path} is in inventory.fields.FIELDS but not in the schema")
        is_root = parent in roots
        parent.fields[field.field_name].resolve = (_root if is_root else _nested)(field.operation)
        unbound.discard((field.type_name, field.field_name))
    mutation = schema.mutation_type
    for channel in CHANNELS.values():
        if mutation is not None and (publish := mutation.fields.get(channel.publish_field)) is not None:
            publish.resolve = _published(channel.publish_argument)
            unbound.discard((mutation.name, channel.publish_field))
    if unbound:
        names = ", ".join(sorted(f"{type_name}.{name}" for type_name, name in unbound))
        raise ValueError(f"no operation serves {names}: add it to inventory.fields.FIELDS")
    if schema.subscription_type is not None:
        for name, subscription in schema.subscription_type.fields.items():
            subscription.subscribe, subscription.resolve = _events(name), _event


def _root(operation: Callable[..., Any]) -> Resolver:
    async def resolve(_root: object, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        return await run(info, operation, arguments)

    return resolve


def _nested(operation: Callable[..., Any]) -> Resolver:
    """A nested field: AppSync hands the resolver its parent, as the parent's resolver returned it, as the source."""

    async def resolve(source: Json, info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        if info.operation.operation is OperationType.SUBSCRIPTION:
            # An event is the published mutation response: its fields come from there, nothing runs (as on AppSync).
            return source.get(info.field_name)
        return await run(info, operation, source, arguments)

    return resolve


def _published(argument: str) -> Resolver:
    """A publish mutation, resolved as on AppSync's NONE data source: its AWSJSON argument, parsed, is the answer
    (then delivered by the subscriptions whose ``@aws_subscribe`` names it)."""

    async def resolve(_root: object, _info: GraphQLResolveInfo[Any], **arguments: Any) -> Any:
        payload = arguments[argument]
        return json.loads(payload) if isinstance(payload, str) else payload

    return resolve


def _events(field: str) -> Callable[..., AsyncIterator[Json]]:
    """No resolver on AppSync either: the events are the triggering mutations' responses (subscriptions.py)."""

    def subscribe(_root: object, info: GraphQLResolveInfo[Any], **arguments: Any) -> AsyncIterator[Json]:
        subscriptions: Subscriptions = info.context.subscriptions
        events = subscriptions.listen(field, arguments)
        if info.context.listening is not None:
            info.context.listening.set()
        return events

    return subscribe


def _event(response: Json, _info: GraphQLResolveInfo[Any], **_arguments: Any) -> Json:
    return response


async def run(info: GraphQLResolveInfo[Any], operation: Callable[..., Any], *operation_arguments: Any) -> Any:
    """``operation(service, *operation_arguments)``, in a worker thread so that a DynamoDB call never holds up the
    websockets."""
    return await asyncio.to_thread(operation, info.context.service, *operation_arguments)
