"""The Powertools routers of the two functions, built from inventory.fields: each field is registered on the router
of its side with the operation FIELDS names for it, so a field added there is served without code here."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router
from aws_lambda_powertools.utilities.data_classes import AppSyncResolverEvent

from inventory.fields import ResolvedField, Side, fields_of
from resolvers.runtime import outcome, service

BATCH_QUERY_THREADS = 10


def _root_resolver(operation: Callable[..., Any]) -> Callable[..., Any]:
    def resolve(**arguments: Any) -> Any:
        return operation(service(), arguments)

    return resolve


def _batch_resolver(operation: Callable[..., Any]) -> Callable[[list[AppSyncResolverEvent]], list[Any]]:
    """AppSync sends this field of every parent in a response in one invocation (up to the configured batch size);
    each entry succeeds or fails on its own."""

    def resolve(event: list[AppSyncResolverEvent]) -> list[Any]:  # Powertools passes the batch as ``event=``
        def one(entry: AppSyncResolverEvent) -> Any:
            return outcome(lambda: operation(service(), entry.source, entry.arguments))

        # One Query per parent: run them side by side so the batch costs about one round trip, not N.
        with ThreadPoolExecutor(max_workers=min(BATCH_QUERY_THREADS, len(event) or 1)) as pool:
            return list(pool.map(one, event))

    return resolve


def _register(router: Router, field: ResolvedField) -> None:
    if field.batched:
        router.batch_resolver(type_name=field.type_name, field_name=field.field_name)(_batch_resolver(field.operation))
    elif field.type_name in {"Query", "Mutation"}:
        router.resolver(type_name=field.type_name, field_name=field.field_name)(_root_resolver(field.operation))
    else:  # a nested field unbatched would need its parent from the event; none is, so none is wired that way
        raise ValueError(f"{field.path}: a nested field must be batched")


def router_for(side: Side) -> Router:
    router = Router()
    for field in fields_of(side):
        _register(router, field)
    return router


queries = router_for(Side.QUERIES)  # Query.* and the batched Item.movements: the function that cannot write
mutations = router_for(Side.MUTATIONS)
