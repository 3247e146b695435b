"""Query fields and the nested Item.movements: the read-only side, served by a function that cannot write."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router
from aws_lambda_powertools.utilities.data_classes import AppSyncResolverEvent

from inventory import operations
from resolvers.runtime import outcome, service

router = Router()
BATCH_QUERY_THREADS = 10


@router.resolver(type_name="Query", field_name="getItem")
def get_item(**arguments: Any) -> Any:
    return operations.get_item(service(), arguments)


@router.resolver(type_name="Query", field_name="getItemBySku")
def get_item_by_sku(**arguments: Any) -> Any:
    return operations.get_item_by_sku(service(), arguments)


@router.resolver(type_name="Query", field_name="listItems")
def list_items(**arguments: Any) -> Any:
    return operations.list_items(service(), arguments)


@router.batch_resolver(type_name="Item", field_name="movements")
def item_movements(event: list[AppSyncResolverEvent]) -> list[Any]:
    """AppSync sends the movements of every Item in a response in one invocation (up to the configured batch size);
    each entry succeeds or fails on its own."""

    def movements_of(entry: AppSyncResolverEvent) -> Any:
        return outcome(lambda: operations.item_movements(service(), entry.source, entry.arguments))

    # One Query per parent item: run them side by side so the batch costs about one round trip, not N.
    with ThreadPoolExecutor(max_workers=min(BATCH_QUERY_THREADS, len(event) or 1)) as pool:
        return list(pool.map(movements_of, event))
