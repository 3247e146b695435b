"""The GraphQL edge's output: the JSON each object type of the contract is rendered as (AWSDateTime strings, Float
prices, enum names), from the model's records through the one spelling of attributes.py."""

from __future__ import annotations

from typing import Any

from inventory.attributes import attributes
from inventory.model import Item, OrderResult, Page, StockMovement

Json = dict[str, Any]


def item_view(item: Item) -> Json:
    view = attributes(item)
    del view["stockRevision"]  # orders movements and guards writes; not part of the contract
    view["price"] = float(item.price)  # GraphQL Float; at most 2 decimals, so the float prints back exactly
    view["lowStock"] = item.low_stock
    return view


def movement_view(movement: StockMovement) -> Json:
    view = attributes(movement)
    del view["sequence"]  # the item's stock revision, the movement's sort key: not part of the contract
    return view


def optional_item_view(item: Item | None) -> Json | None:
    return None if item is None else item_view(item)


def item_page_view(page: Page[Item]) -> Json:
    return {"items": [item_view(item) for item in page.items], "nextToken": page.next_token}


def movement_page_view(page: Page[StockMovement]) -> Json:
    return {"items": [movement_view(m) for m in page.items], "nextToken": page.next_token}


def order_view(result: OrderResult) -> Json:
    return {"orderId": result.order_id, "movements": [movement_view(m) for m in result.movements]}
