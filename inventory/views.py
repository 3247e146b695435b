"""The GraphQL edge's output: the JSON each object type of the contract is rendered as (AWSDateTime strings, Float
prices, enum names), from the model's records through the one spelling of attributes.py. What depends on time
(reserved, available, an item's updatedAt, a reservation's status) is rendered at one instant, ``now_ms``."""

from __future__ import annotations

from typing import Any

from inventory.attributes import attributes
from inventory.model import (
    Item,
    Location,
    OrderResult,
    Page,
    Reservation,
    StockLevel,
    StockMovement,
    TransferResult,
)

Json = dict[str, Any]


def item_view(item: Item, now_ms: int) -> Json:
    view = attributes(item)
    # Internal counters (they order movements and guard writes) and the stored levels are not the contract.
    del view["stockRevision"], view["holdsRevision"]
    view["price"] = float(item.price)  # GraphQL Float; at most 2 decimals, so the float prints back exactly
    view["lowStock"] = item.low_stock
    view["updatedAt"] = item.updated_at_as_of(now_ms)
    view["onHand"] = item.quantity
    view["reserved"] = item.reserved_at(now_ms)
    view["available"] = item.available_at(now_ms)
    view["levels"] = [level_view(level) for level in item.stock_levels(now_ms)]
    return view


def level_view(level: StockLevel) -> Json:
    return {**attributes(level), "available": level.available}


def movement_view(movement: StockMovement) -> Json:
    return attributes(movement)


def optional_item_view(item: Item | None, now_ms: int) -> Json | None:
    return None if item is None else item_view(item, now_ms)


def item_page_view(page: Page[Item], now_ms: int) -> Json:
    return {"items": [item_view(item, now_ms) for item in page.items], "nextToken": page.next_token}


def movement_page_view(page: Page[StockMovement]) -> Json:
    return {"items": [movement_view(m) for m in page.items], "nextToken": page.next_token}


def order_view(result: OrderResult) -> Json:
    return {"orderId": result.order_id, "movements": [movement_view(m) for m in result.movements]}


def location_view(location: Location) -> Json:
    return {**attributes(location), "isDefault": location.is_default}


def optional_location_view(location: Location | None) -> Json | None:
    return None if location is None else location_view(location)


def reservation_view(reservation: Reservation, now_ms: int) -> Json:
    return {
        "id": reservation.id,
        "status": reservation.status_at(now_ms).value,
        "locationId": reservation.location_id,
        "lines": [{"itemId": line.item_id, "quantity": line.quantity} for line in reservation.lines],
        "expiresAt": reservation.expires_at,
        "reference": reservation.reference,
        "createdAt": reservation.created_at,
        "movements": [movement_view(m) for m in reservation.movements],
    }


def optional_reservation_view(reservation: Reservation | None, now_ms: int) -> Json | None:
    return None if reservation is None else reservation_view(reservation, now_ms)


def transfer_view(result: TransferResult) -> Json:
    return {**attributes(result), "movements": [movement_view(m) for m in result.movements]}


def set_stock_view(movements: tuple[StockMovement, ...]) -> Json:
    return {"movements": [movement_view(m) for m in movements]}
