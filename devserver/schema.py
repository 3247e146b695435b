"""The Strawberry mirror of schema.graphql: the same API, served by the local development server.

The types are in graphql_types.py, the root fields' resolvers in resolvers.py, each a few lines over
inventory.operations, the functions the Lambda resolvers call. The contract tests (tests/contract) prove that this
schema and schema.graphql are the same API and answer alike.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxTokensLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from devserver import resolvers
from devserver.authorization import FieldAuthorization
from devserver.errors import AppSyncErrors, log_errors
from devserver.graphql_types import AWS_DATE_TIME, AWSDateTime
from devserver.query_limits import MAX_DOCUMENT_TOKENS, QueryLimits
from devserver.request_log import RequestLog
from devserver.subscriptions import PublishMutations

SCHEMA_DESCRIPTION = """Inventory API, contract v1.

Failures are GraphQL errors whose errorType is one of ValidationError, ItemNotFound, DuplicateSku, VersionConflict,
InsufficientStock, IdempotencyConflict or InternalError, with details in errorInfo. Checks run in the order
validation, existence, state; a refused mutation writes nothing.

Access: the API key, AWS IAM and the signed-in users of the stack's Cognito user pool (when it has one) may read:
every query, subscription and type. Mutations take AWS IAM, the users of the writers group (inventory-writers unless
the stack names another) and the API key unless the stack makes the key read-only (prod does). A caller without
access to a field gets the error Unauthorized ("Not Authorized to access <field> on type <Type>") and no value."""


@strawberry.type(description="Reads.")
class Query:
    get_item = strawberry.field(resolver=resolvers.get_item, description="The item with this id, or null.")
    get_item_by_sku = strawberry.field(
        resolver=resolvers.get_item_by_sku,
        description="The item with this sku, or null (also for a sku that no item could have).",
    )
    list_items = strawberry.field(
        resolver=resolvers.list_items,
        description="Items in sku order, optionally filtered. limit: 1 to 100, default 20. Walking nextToken visits "
        "every matching item once; a nextToken works only with the filter it came from.",
    )


@strawberry.type(description="Writes. Each returns what it changed; failures are GraphQL errors and write nothing.")
class Mutation:
    create_item = strawberry.mutation(
        resolver=resolvers.create_item, description="Creates an item. DuplicateSku when the sku is taken."
    )
    update_item = strawberry.mutation(
        resolver=resolvers.update_item,
        description="Changes descriptive fields and bumps version. ItemNotFound, VersionConflict.",
    )
    delete_item = strawberry.mutation(
        resolver=resolvers.delete_item,
        description="Deletes the item and frees its sku; returns it, or null when there was none. Its movements are "
        "kept for audit.",
    )
    adjust_stock = strawberry.mutation(
        resolver=resolvers.adjust_stock,
        description="Moves one item's stock, exactly once per idempotencyKey. ItemNotFound, InsufficientStock, "
        "IdempotencyConflict.",
    )
    fulfill_order = strawberry.mutation(
        resolver=resolvers.fulfill_order,
        description="Sells every line of an order in one transaction, exactly once per orderId. ItemNotFound, "
        "InsufficientStock (errorInfo.lines lists each short line), IdempotencyConflict.",
    )


@strawberry.type(description="Live updates.")
class Subscription:
    on_item_changed = strawberry.subscription(
        resolver=resolvers.on_item_changed,
        description="Items created, updated or deleted; give id to hear about one item only.",
    )
    on_stock_movement = strawberry.subscription(
        resolver=resolvers.on_stock_movement,
        description="Stock movements made by adjustStock; give itemId to hear about one item only.",
    )


class InventorySchema(strawberry.Schema):
    """The schema, with its description (Strawberry's constructor takes none) and the mirror's error logging."""

    def __init__(self) -> None:
        super().__init__(
            query=Query,
            mutation=Mutation,
            subscription=Subscription,
            config=StrawberryConfig(scalar_map={AWSDateTime: AWS_DATE_TIME}),
            extensions=[
                RequestLog,  # --verbose: one line per operation
                lambda: MaxTokensLimiter(max_token_count=MAX_DOCUMENT_TOKENS),  # bounds the parse
                QueryLimits,  # AppSync's queryDepthLimit and resolverCountLimit
                FieldAuthorization,
                PublishMutations,
                AppSyncErrors,
            ],
        )
        self._schema.description = SCHEMA_DESCRIPTION

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


schema = InventorySchema()
