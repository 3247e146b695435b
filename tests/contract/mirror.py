"""The local server's Strawberry schema driven in process: what the server answers, JSON as it sends it."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, parse
from strawberry.http import process_result

from devserver.context import Context
from devserver.schema import InventorySchema, schema
from devserver.subscriptions import Subscriptions
from inventory.service import InventoryService

Json = dict[str, Any]


def _wire(value: Any) -> Any:
    return json.loads(json.dumps(value))


class Mirror:
    def __init__(self, service: InventoryService, served: InventorySchema = schema) -> None:
        self.schema = served
        self.subscriptions = Subscriptions()
        self.context = Context(service, self.subscriptions)

    async def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> Json:
        result = await self.schema.execute(document, variable_values=dict(variables or {}), context_value=self.context)
        answer: Json = _wire(process_result(result))
        return answer

    @contextlib.asynccontextmanager
    async def subscribed(self, document: str, variables: Mapping[str, Any] | None = None) -> AsyncIterator[list[Json]]:
        """Subscribe; yields the list that the events fill as they arrive (the subscriber listens on entry)."""
        (operation,) = parse(document).definitions
        assert isinstance(operation, OperationDefinitionNode)
        (field,) = operation.selection_set.selections
        assert isinstance(field, FieldNode)
        listening = self.subscriptions.listening(field.name.value)
        stream = await self.schema.subscribe(
            document, variable_values=dict(variables or {}), context_value=self.context
        )
        received: list[Json] = []

        async def consume() -> None:
            async for result in stream:
                received.append(_wire(process_result(result)))

        task = asyncio.create_task(consume())
        while self.subscriptions.listening(field.name.value) == listening and not task.done():
            await asyncio.sleep(0.001)
        try:
            yield received
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
