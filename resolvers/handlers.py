"""The Lambda entry points. Reads and writes are separate functions so the query side can hold read-only rights."""

import gc

# Cold start: the imports below create many long-lived objects, and collecting garbage while they load finds none
# (about 30 ms of a cold start, measured by `make bench`). So collect nothing until they are loaded, then freeze
# them out of every later collection.
gc.disable()

from typing import Any  # noqa: E402

from aws_lambda_powertools.logging import correlation_paths  # noqa: E402
from aws_lambda_powertools.utilities.typing import LambdaContext  # noqa: E402

from resolvers import routers  # noqa: E402
from resolvers.runtime import build_app, logger  # noqa: E402

queries_app = build_app(routers.queries)
mutations_app = build_app(routers.mutations)

gc.freeze()
gc.enable()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.APPSYNC_RESOLVER)
def queries_handler(event: dict[str, Any] | list[dict[str, Any]], context: LambdaContext) -> Any:
    return queries_app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.APPSYNC_RESOLVER)
def mutations_handler(event: dict[str, Any] | list[dict[str, Any]], context: LambdaContext) -> Any:
    return mutations_app.resolve(event, context)
