"""Subscriptions the way AppSync's ``@aws_subscribe`` serves them, in process.

AppSync runs no resolver for a subscription: when a mutation listed in ``@aws_subscribe(mutations: [...])``
succeeds, it sends that mutation's *response* (the fields the mutation selected, nothing more) to every subscriber
whose arguments match it, each argument compared with the response field of the same name (a subscriber to
``onItemChanged(id: "x")`` hears only the item "x"; an argument left out or null matches everything). The mirror
does the same: :class:`PublishMutations` publishes each mutation's response, once the mutation has run, to the
subscription fields whose ``@aws_subscribe`` names it in the schema served (schema.graphql's, :func:`triggers`), and
the subscription resolvers read from :class:`Subscriptions`.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

from graphql import FieldDefinitionNode, FieldNode, GraphQLSchema, ListValueNode, OperationType, StringValueNode
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

Json = dict[str, Any]

SUBSCRIBE_DIRECTIVE, MUTATIONS_ARGUMENT = "aws_subscribe", "mutations"


@functools.cache  # the schema served never changes
def triggers(schema: GraphQLSchema) -> Mapping[str, tuple[str, ...]]:
    """Mutation field -> the subscription fields that deliver its response, as their ``@aws_subscribe`` says."""
    delivered: dict[str, tuple[str, ...]] = {}
    subscription = schema.subscription_type
    for name, field in subscription.fields.items() if subscription else ():
        for mutation in _subscribed_mutations(field.ast_node):
            delivered[mutation] = (*delivered.get(mutation, ()), name)
    return delivered


def _subscribed_mutations(node: FieldDefinitionNode | None) -> list[str]:
    return [
        value.value
        for directive in (node.directives or () if node else ())
        if directive.name.value == SUBSCRIBE_DIRECTIVE
        for argument in directive.arguments or ()
        if argument.name.value == MUTATIONS_ARGUMENT and isinstance(argument.value, ListValueNode)
        for value in argument.value.values
        if isinstance(value, StringValueNode)
    ]


def matches(payload: Mapping[str, Any], arguments: Mapping[str, Any]) -> bool:
    """AppSync's argument filtering: every argument given (not null) equals the response field of its name."""
    return all(payload.get(name) == value for name, value in arguments.items() if value is not None)


class Subscriptions:
    """Fan-out of mutation responses to the subscribers listening on this server (one event loop)."""

    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[asyncio.Queue[Json]]] = defaultdict(set)

    def publish(self, fields: Iterable[str], response: Json) -> None:
        """Send ``response`` to the subscribers of each of ``fields``."""
        for field in fields:
            for queue in self._listeners[field]:
                queue.put_nowait(response)

    def listening(self, field: str) -> int:
        """How many subscribers are listening on ``field`` right now."""
        return len(self._listeners[field])

    def listen(self, field: str, arguments: Mapping[str, Any]) -> AsyncIterator[Json]:
        """The responses of the mutations that trigger ``field`` and match ``arguments``, as they happen. The
        subscriber is registered by this call, not by the first wait for an event: it hears every response published
        once this returned (AppSync's real-time protocol acknowledges a subscription then, devserver/realtime.py)."""
        return _Listener(self._listeners[field], arguments)


class _Listener:
    """One subscriber: registered when made, forgotten when closed (``aclose``), even if it never waited."""

    def __init__(self, listeners: set[asyncio.Queue[Json]], arguments: Mapping[str, Any]) -> None:
        self._queue: asyncio.Queue[Json] = asyncio.Queue()
        self._listeners, self._arguments = listeners, arguments
        listeners.add(self._queue)

    def __aiter__(self) -> _Listener:
        return self

    async def __anext__(self) -> Json:
        try:
            while True:
                response = await self._queue.get()
                if matches(response, self._arguments):
                    return response
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        self._listeners.discard(self._queue)


class PublishMutations(SchemaExtension):
    """After a mutation operation ran, publish the response of each of its root fields that is not null."""

    def on_execute(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document, result = context.graphql_document, context.result
        if document is None or result is None or not result.data:
            return
        operation = get_operation_ast(document, context.operation_name)
        if operation is None or operation.operation is not OperationType.MUTATION:
            return
        subscriptions: Subscriptions = context.context.subscriptions
        delivered = triggers(context.schema._schema)
        for selection in operation.selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                response = result.data.get(key)
                if isinstance(response, dict):
                    subscriptions.publish(delivered.get(selection.name.value, ()), response)
