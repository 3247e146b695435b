"""The root fields of the mirror, each a few lines over :mod:`inventory.operations` (the functions the Lambda
resolvers call): the arguments as AppSync would hand them over, the JSON result turned into the mirror's types.
No rule lives here. ``Item.movements`` is next to ``Item`` (graphql_types.py)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry import UNSET

from devserver.context import InventoryInfo, arguments, run
from devserver.graphql_types import (
    AdjustStockInput,
    CreateItemInput,
    FulfillOrderInput,
    Item,
    ItemConnection,
    ItemFilter,
    OrderResult,
    StockMovement,
    UpdateItemInput,
)
from inventory import operations

# Query


async def get_item(info: InventoryInfo, id: strawberry.ID) -> Item | None:
    return Item.from_optional(await run(info, operations.get_item, arguments(id=id)))


async def get_item_by_sku(info: InventoryInfo, sku: str) -> Item | None:
    return Item.from_optional(await run(info, operations.get_item_by_sku, arguments(sku=sku)))


async def list_items(
    info: InventoryInfo, filter: ItemFilter | None = UNSET, limit: int | None = UNSET, next_token: str | None = UNSET
) -> ItemConnection:
    page = await run(info, operations.list_items, arguments(filter=filter, limit=limit, next_token=next_token))
    return ItemConnection.from_json(page)


# Mutation


async def create_item(info: InventoryInfo, input: CreateItemInput) -> Item:
    return Item.from_json(await run(info, operations.create_item, arguments(input=input)))


async def update_item(info: InventoryInfo, input: UpdateItemInput) -> Item:
    return Item.from_json(await run(info, operations.update_item, arguments(input=input)))


async def delete_item(info: InventoryInfo, id: strawberry.ID) -> Item | None:
    return Item.from_optional(await run(info, operations.delete_item, arguments(id=id)))


async def adjust_stock(info: InventoryInfo, input: AdjustStockInput) -> StockMovement:
    return StockMovement.from_json(await run(info, operations.adjust_stock, arguments(input=input)))


async def fulfill_order(info: InventoryInfo, input: FulfillOrderInput) -> OrderResult:
    return OrderResult.from_json(await run(info, operations.fulfill_order, arguments(input=input)))


# Subscription: no resolver on AppSync either; the events are the triggering mutations' responses
# (devserver/subscriptions.py).


async def on_item_changed(info: InventoryInfo, id: strawberry.ID | None = UNSET) -> AsyncGenerator[Item | None, None]:
    async for response in info.context.subscriptions.listen("onItemChanged", arguments(id=id)):
        yield Item.from_json(response, published=True)


async def on_stock_movement(
    info: InventoryInfo, item_id: strawberry.ID | None = UNSET
) -> AsyncGenerator[StockMovement | None, None]:
    async for response in info.context.subscriptions.listen("onStockMovement", arguments(item_id=item_id)):
        yield StockMovement.from_json(response)
