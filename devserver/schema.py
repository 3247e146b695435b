"""The local server's schema: schema.graphql itself, built at start-up (devserver/contract.py), its fields bound to
inventory.operations through inventory.fields.FIELDS (devserver/resolvers.py), served by Strawberry with the
extensions below. Nothing of the contract is restated here: a field added to schema.graphql and to FIELDS is served.

Strawberry is code-first and builds its graphql-core schema from Python types; this schema is built from the SDL
instead and put in place of that one, so Strawberry's execution, extensions and ASGI app serve it unchanged. The
contract tests (tests/contract) prove that it is the same API as schema.graphql and answers like the Lambda path.
"""

from __future__ import annotations

import strawberry
from graphql import GraphQLError, GraphQLSchema
from strawberry.extensions import MaxTokensLimiter
from strawberry.types import ExecutionContext

from devserver.authorization import FieldAuthorization
from devserver.contract import build_contract
from devserver.errors import AppSyncErrors, log_errors
from devserver.query_limits import MAX_DOCUMENT_TOKENS, QueryLimits
from devserver.request_log import RequestLog
from devserver.resolvers import bind
from devserver.subscriptions import PublishMutations
from inventory import fields


@strawberry.type(name="Query")  # the name Strawberry's printer gives the query root (str(schema))
class _Unserved:
    """What Strawberry's constructor requires, a code-first Query; replaced by the contract, never served."""

    unserved: bool


class InventorySchema(strawberry.Schema):
    """``contract``: the schema to serve, without resolvers (default: schema.graphql); it is bound to
    ``inventory.fields.FIELDS`` as that module holds it when the schema is made."""

    def __init__(self, contract: GraphQLSchema | None = None) -> None:
        super().__init__(
            query=_Unserved,
            extensions=[
                RequestLog,  # --verbose: one line per operation
                lambda: MaxTokensLimiter(max_token_count=MAX_DOCUMENT_TOKENS),  # bounds the parse
                QueryLimits,  # AppSync's queryDepthLimit and resolverCountLimit
                FieldAuthorization,
                PublishMutations,
                AppSyncErrors,
            ],
        )
        served = build_contract() if contract is None else contract
        bind(served, fields.FIELDS)
        served._strawberry_schema = self  # type: ignore[attr-defined]  # where Strawberry finds its schema back
        self._schema = served

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


schema = InventorySchema()
