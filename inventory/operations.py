"""One function per GraphQL field: raw GraphQL arguments in, the field's JSON-shaped result out.

This is the whole contract between the schema and the service, shared by both transports: the Lambda resolvers
return these dicts to AppSync, the local Strawberry server builds its types from them. So argument parsing, default
values and output formats (AWSDateTime, Float prices, enum names) cannot differ between the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from inventory import inputs
from inventory.models import Item, OrderResult, Page, StockMovement
from inventory.service import InventoryService

Json = dict[str, Any]


def item_view(item: Item) -> Json:
    return {
        "id": item.id,
        "sku": item.sku,
        "name": item.name,
        "description": item.description,
        "category": item.category,
        "price": float(item.price),  # GraphQL Float; at most 2 decimals, so the float prints back exactly
        "quantity": item.quantity,
        "reorderPoint": item.reorder_point,
        "status": item.status.value,
        "lowStock": item.low_stock,
        "version": item.version,
        "createdAt": item.created_at,
        "updatedAt": item.updated_at,
    }


def movement_view(movement: StockMovement) -> Json:
    return {
        "id": movement.id,
        "itemId": movement.item_id,
        "delta": movement.delta,
        "quantityAfter": movement.quantity_after,
        "reason": movement.reason.value,
        "reference": movement.reference,
        "createdAt": movement.created_at,
    }


def _optional_item(item: Item | None) -> Json | None:
    return None if item is None else item_view(item)


def _item_page(page: Page[Item]) -> Json:
    return {"items": [item_view(item) for item in page.items], "nextToken": page.next_token}


def _order_view(result: OrderResult) -> Json:
    return {"orderId": result.order_id, "movements": [movement_view(m) for m in result.movements]}


# Query


def get_item(service: InventoryService, arguments: Mapping[str, Any]) -> Json | None:
    return _optional_item(service.get_item(inputs.item_id(arguments.get("id"))))


def get_item_by_sku(service: InventoryService, arguments: Mapping[str, Any]) -> Json | None:
    sku = inputs.sku_or_none(arguments.get("sku"))
    return None if sku is None else _optional_item(service.get_item_by_sku(sku))


def list_items(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    settings = service.settings
    item_filter = inputs.item_filter(arguments.get("filter"))
    limit = inputs.limit(arguments.get("limit"), settings.default_page_size, settings.max_page_size)
    return _item_page(service.list_items(item_filter, limit, inputs.next_token(arguments.get("nextToken"))))


# Item


def item_movements(service: InventoryService, source: Mapping[str, Any], arguments: Mapping[str, Any]) -> Json:
    """``Item.movements``: the source is the parent Item as this module rendered it."""
    settings = service.settings
    limit = inputs.limit(arguments.get("limit"), settings.default_page_size, settings.max_page_size)
    page = service.list_movements(str(source["id"]), limit, inputs.next_token(arguments.get("nextToken")))
    return {"items": [movement_view(m) for m in page.items], "nextToken": page.next_token}


# Mutation


def create_item(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return item_view(service.create_item(inputs.create_item(arguments.get("input"))))


def update_item(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return item_view(service.update_item(inputs.update_item(arguments.get("input"))))


def delete_item(service: InventoryService, arguments: Mapping[str, Any]) -> Json | None:
    return _optional_item(service.delete_item(inputs.item_id(arguments.get("id"))))


def adjust_stock(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return movement_view(service.adjust_stock(inputs.adjust_stock(arguments.get("input"))))


def fulfill_order(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return _order_view(service.fulfill_order(inputs.fulfill_order(arguments.get("input"))))
