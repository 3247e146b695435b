"""One function per GraphQL field: raw GraphQL arguments in, the field's JSON-shaped result out.

This is the whole contract between the schema and the service, shared by both transports: the Lambda resolvers
return these dicts to AppSync, the local Strawberry server builds its types from them. So argument parsing, default
values, output formats and error wording cannot differ between the two. The GraphQL edge is this module with
inputs.py (arguments), views.py (results) and errors.py (refusals); below it, nothing knows GraphQL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from inventory import inputs
from inventory.errors import api_error
from inventory.model import DomainError
from inventory.service import InventoryService
from inventory.views import (
    Json,
    item_page_view,
    item_view,
    location_view,
    movement_page_view,
    movement_view,
    optional_item_view,
    optional_location_view,
    optional_reservation_view,
    order_view,
    reservation_view,
    set_stock_view,
    transfer_view,
)

P = ParamSpec("P")
R = TypeVar("R")


def _worded(operation: Callable[P, R]) -> Callable[P, R]:
    """Domain errors leave an operation as the client's errors (errors.api_error): the one translation."""

    @functools.wraps(operation)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return operation(*args, **kwargs)
        except DomainError as error:
            raise api_error(error) from error

    return run


# Query


@_worded
def get_item(service: InventoryService, arguments: Mapping[str, Any]) -> Json | None:
    return optional_item_view(service.get_item(inputs.item_id(arguments.get("id"))), service.now().ms)


@_worded
def get_item_by_sku(service: InventoryService, arguments: Mapping[str, Any]) -> Json | None:
    sku = inputs.sku_or_none(arguments.get("sku"))
    return None if sku is None else optional_item_view(service.get_item_by_sku(sku), service.now().ms)


@_worded
def list_items(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    settings = service.settings
    item_filter = inputs.item_filter(arguments.get("filter"))
    limit = inputs.limit(arguments.get("limit"), settings.default_page_size, settings.max_page_size)
    page = service.list_items(item_filter, limit, inputs.next_token(arguments.get("nextToken")))
    return item_page_view(page, service.now().ms)


@_worded
def get_location(service: InventoryService, arguments: Mapping[str, Any]) -> Json | None:
    return optional_location_view(service.get_location(inputs.item_id(arguments.get("id"))))


@_worded
def list_locations(service: InventoryService, arguments: Mapping[str, Any]) -> list[Json]:
    return [location_view(location) for location in service.list_locations()]


@_worded
def get_reservation(service: InventoryService, arguments: Mapping[str, Any]) -> Json | None:
    reservation = service.get_reservation(inputs.item_id(arguments.get("id")))
    return optional_reservation_view(reservation, service.now().ms)


# Item


@_worded
def item_movements(service: InventoryService, source: Mapping[str, Any], arguments: Mapping[str, Any]) -> Json:
    """``Item.movements``: the source is the parent Item as this module rendered it."""
    settings = service.settings
    limit = inputs.limit(arguments.get("limit"), settings.default_page_size, settings.max_page_size)
    next_token = inputs.next_token(arguments.get("nextToken"))
    return movement_page_view(service.list_movements(str(source["id"]), limit, next_token))


# Mutation


@_worded
def create_item(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return item_view(service.create_item(inputs.create_item(arguments.get("input"))), service.now().ms)


@_worded
def update_item(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return item_view(service.update_item(inputs.update_item(arguments.get("input"))), service.now().ms)


@_worded
def delete_item(service: InventoryService, arguments: Mapping[str, Any]) -> Json | None:
    return optional_item_view(service.delete_item(inputs.item_id(arguments.get("id"))), service.now().ms)


@_worded
def adjust_stock(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return movement_view(service.adjust_stock(inputs.adjust_stock(arguments.get("input"))))


@_worded
def fulfill_order(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return order_view(service.fulfill_order(inputs.fulfill_order(arguments.get("input"))))


@_worded
def create_location(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return location_view(service.create_location(inputs.create_location(arguments.get("input"))))


@_worded
def update_location(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return location_view(service.update_location(inputs.update_location(arguments.get("input"))))


@_worded
def reserve_stock(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    reservation = service.reserve_stock(inputs.reserve_stock(arguments.get("input")))
    return reservation_view(reservation, service.now().ms)


@_worded
def commit_reservation(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    reservation = service.commit_reservation(inputs.item_id(arguments.get("id")))
    return reservation_view(reservation, service.now().ms)


@_worded
def release_reservation(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    reservation = service.release_reservation(inputs.item_id(arguments.get("id")))
    return reservation_view(reservation, service.now().ms)


@_worded
def transfer_stock(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return transfer_view(service.transfer_stock(inputs.transfer_stock(arguments.get("input"))))


@_worded
def set_stock(service: InventoryService, arguments: Mapping[str, Any]) -> Json:
    return set_stock_view(service.set_stock(inputs.set_stock(arguments.get("input"))))
