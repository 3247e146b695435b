"""Every GraphQL field that runs a resolver: the operation that serves it, which function serves it, and whether
AppSync batches it. The one declaration of these facts, read by the CDK stack (data sources, resolvers, batch
sizes), the Lambda routers, the local server and the tests.

A root field's operation takes ``(service, arguments)``; a nested field's takes ``(service, source, arguments)``,
``source`` being the parent object as the operations render it. Fields not listed here resolve from their parent.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, NamedTuple

from inventory import operations


class Side(enum.StrEnum):
    """Which Lambda function serves a field: reads go to the one that cannot write."""

    QUERIES = "queries"
    MUTATIONS = "mutations"


class ResolvedField(NamedTuple):
    type_name: str
    field_name: str
    operation: Callable[..., Any]
    side: Side
    batched: bool = False  # AppSync sends the parents of one response together, in one invocation

    @property
    def path(self) -> str:
        """``Type.field``, as AppSync names it in logs and as the BATCHED_FIELDS variable lists it."""
        return f"{self.type_name}.{self.field_name}"


FIELDS: tuple[ResolvedField, ...] = (
    ResolvedField("Query", "getItem", operations.get_item, Side.QUERIES),
    ResolvedField("Query", "getItemBySku", operations.get_item_by_sku, Side.QUERIES),
    ResolvedField("Query", "listItems", operations.list_items, Side.QUERIES),
    ResolvedField("Query", "getLocation", operations.get_location, Side.QUERIES),
    ResolvedField("Query", "listLocations", operations.list_locations, Side.QUERIES),
    ResolvedField("Query", "getReservation", operations.get_reservation, Side.QUERIES),
    ResolvedField("Item", "movements", operations.item_movements, Side.QUERIES, batched=True),
    ResolvedField("Mutation", "createItem", operations.create_item, Side.MUTATIONS),
    ResolvedField("Mutation", "updateItem", operations.update_item, Side.MUTATIONS),
    ResolvedField("Mutation", "deleteItem", operations.delete_item, Side.MUTATIONS),
    ResolvedField("Mutation", "adjustStock", operations.adjust_stock, Side.MUTATIONS),
    ResolvedField("Mutation", "fulfillOrder", operations.fulfill_order, Side.MUTATIONS),
    ResolvedField("Mutation", "createLocation", operations.create_location, Side.MUTATIONS),
    ResolvedField("Mutation", "updateLocation", operations.update_location, Side.MUTATIONS),
    ResolvedField("Mutation", "reserveStock", operations.reserve_stock, Side.MUTATIONS),
    ResolvedField("Mutation", "commitReservation", operations.commit_reservation, Side.MUTATIONS),
    ResolvedField("Mutation", "releaseReservation", operations.release_reservation, Side.MUTATIONS),
    ResolvedField("Mutation", "transferStock", operations.transfer_stock, Side.MUTATIONS),
    ResolvedField("Mutation", "setStock", operations.set_stock, Side.MUTATIONS),
)


def fields_of(side: Side) -> tuple[ResolvedField, ...]:
    return tuple(field for field in FIELDS if field.side is side)
