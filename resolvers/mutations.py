"""Mutation fields: the writing side."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.graphql_appsync.router import Router

from inventory import operations
from resolvers.runtime import service

router = Router()


@router.resolver(type_name="Mutation", field_name="createItem")
def create_item(**arguments: Any) -> Any:
    return operations.create_item(service(), arguments)


@router.resolver(type_name="Mutation", field_name="updateItem")
def update_item(**arguments: Any) -> Any:
    return operations.update_item(service(), arguments)


@router.resolver(type_name="Mutation", field_name="deleteItem")
def delete_item(**arguments: Any) -> Any:
    return operations.delete_item(service(), arguments)


@router.resolver(type_name="Mutation", field_name="adjustStock")
def adjust_stock(**arguments: Any) -> Any:
    return operations.adjust_stock(service(), arguments)


@router.resolver(type_name="Mutation", field_name="fulfillOrder")
def fulfill_order(**arguments: Any) -> Any:
    return operations.fulfill_order(service(), arguments)
