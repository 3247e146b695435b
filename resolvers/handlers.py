"""The Lambda entry points. Reads and writes are separate functions so the query side can hold read-only rights."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from resolvers import mutations, queries
from resolvers.runtime import build_app, logger

queries_app = build_app(queries.router)
mutations_app = build_app(mutations.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.APPSYNC_RESOLVER)
def queries_handler(event: dict[str, Any] | list[dict[str, Any]], context: LambdaContext) -> Any:
    return queries_app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.APPSYNC_RESOLVER)
def mutations_handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return mutations_app.resolve(event, context)
