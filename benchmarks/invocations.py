"""The Lambda handlers invoked as AppSync invokes them (events from appsync_events, shared with the tests); an
operation that answers an error envelope stops the benchmark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from aws_lambda_powertools.utilities.typing import LambdaContext

from appsync_events import FakeLambdaContext, batch_event, resolver_event
from resolvers import handlers

CONTEXT = cast(LambdaContext, FakeLambdaContext(function_name="inventory-benchmark"))


class OperationFailed(RuntimeError):
    """A benchmarked operation returned an error envelope: its figures would describe an error path."""


def succeeded(result: Any) -> Any:
    if isinstance(result, Mapping) and "error" in result:
        raise OperationFailed(str(result["error"]))
    return result


def query(field_name: str, **arguments: Any) -> Any:
    return succeeded(handlers.queries_handler(resolver_event("Query", field_name, arguments), CONTEXT))


def mutation(field_name: str, **arguments: Any) -> Any:
    return succeeded(handlers.mutations_handler(resolver_event("Mutation", field_name, arguments), CONTEXT))


def movements(items: Sequence[Mapping[str, Any]], **arguments: Any) -> list[Any]:
    """``Item.movements`` for each item, in one batched invocation (as AppSync sends it with a batch size)."""
    events = batch_event("Item", "movements", items, arguments)
    return [succeeded(result) for result in handlers.queries_handler(events, CONTEXT)]
