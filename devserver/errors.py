"""GraphQL errors shaped the way AppSync shapes them, and the one place where the mirror's failures become them.

AppSync puts ``errorType`` and ``errorInfo`` beside ``message``, ``path`` and ``locations`` (not under
``extensions``), with ``data: null`` and a ``sourceName`` in each location. On the deployed API the Lambda handler
returns the error envelope of :mod:`inventory.errors` and the resolver's response handler calls
``util.error(message, type, null, info)``; here a domain exception reaches :class:`AppSyncErrors`, which builds the
same three values from the same exception. Anything unexpected becomes ``InternalError`` with the generic message
(logged with its trace on the server, never sent). Errors GraphQL itself raises (syntax, validation, a null in a
non-null field) keep their message and have no errorType.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo
from strawberry.extensions import SchemaExtension
from strawberry.types import StreamExecutionResult

from inventory.errors import INTERNAL_ERROR_MESSAGE, INTERNAL_ERROR_TYPE, InventoryError

logger = logging.getLogger("devserver")


class UnexpectedFailure(Exception):
    """Marks an exception a resolver raised that is not a domain failure; the cause is kept for the server log."""


class AppSyncError(GraphQLError):
    """A GraphQL error that formats itself like AppSync's."""

    def __init__(self, error: GraphQLError, error_type: str | None, message: str, info: Any) -> None:
        super().__init__(message, error.nodes, error.source, error.positions, error.path, error.original_error)
        self.error_type = error_type
        self.error_info = info

    @property
    def formatted(self) -> Any:
        locations = [
            {"line": location.line, "column": location.column, "sourceName": None} for location in self.locations or ()
        ]
        return {
            "path": self.path,
            "data": None,
            "errorType": self.error_type,
            "errorInfo": self.error_info,
            "locations": locations or None,
            "message": self.message,
        }


def appsync_error(error: GraphQLError) -> AppSyncError:
    if isinstance(error, AppSyncError):
        return error
    original = error.original_error
    if isinstance(original, InventoryError):
        return AppSyncError(error, original.error_type, original.message, original.info)
    if isinstance(original, UnexpectedFailure):
        return AppSyncError(error, INTERNAL_ERROR_TYPE, INTERNAL_ERROR_MESSAGE, None)
    if original is not None and not isinstance(original, GraphQLError) and error.path is None:
        # Raised outside any resolver (a subscription stream, an extension): as unexpected as it gets.
        return AppSyncError(error, INTERNAL_ERROR_TYPE, INTERNAL_ERROR_MESSAGE, None)
    return AppSyncError(error, None, error.message, None)


def log_errors(errors: Sequence[GraphQLError]) -> None:
    """Refusals in one line each; unexpected failures with their trace (the client gets neither)."""
    for error in errors:
        original = error.original_error
        where = "/".join(str(part) for part in error.path or ()) or "request"
        if isinstance(original, InventoryError):
            logger.info("%s refused: %s %s", where, original.error_type, original.info)
        elif isinstance(original, UnexpectedFailure):
            logger.error("%s failed unexpectedly", where, exc_info=original.__cause__ or original)
        elif original is not None and not isinstance(original, GraphQLError) and error.path is None:
            logger.error("request failed unexpectedly", exc_info=original)
        else:
            logger.info("%s: %s", where, error.message)


class AppSyncErrors(SchemaExtension):
    """Turns every error of a result into an :class:`AppSyncError`, for HTTP and websocket results alike."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any
    ) -> Any:
        # Every resolver runs through here, so an exception is marked unexpected exactly when a resolver raised it
        # and it is not a domain failure; errors GraphQL raises while completing values never pass here.
        try:
            result = _next(root, info, *args, **kwargs)
        except _EXPECTED:
            raise
        except Exception as error:
            raise UnexpectedFailure(type(error).__name__) from error
        if inspect.isawaitable(result):
            return _awaited(result)
        return result

    def on_operation(self) -> Iterator[None]:
        yield
        _convert(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        _convert(result)
        yield


# Domain failures, errors GraphQL raised, and failures already marked go through as they are.
_EXPECTED = (InventoryError, GraphQLError, UnexpectedFailure)


async def _awaited(result: Any) -> Any:
    try:
        return await result
    except _EXPECTED:
        raise
    except Exception as error:
        raise UnexpectedFailure(type(error).__name__) from error


def _convert(result: Any) -> None:
    errors = getattr(result, "errors", None)
    if errors:
        result.errors = [appsync_error(error) for error in errors]


def request_error(error_type: str, message: str) -> dict[str, Any]:
    """The body AppSync answers when it refuses a request before GraphQL runs (HTTP 4xx)."""
    return {"errors": [{"errorType": error_type, "message": message}]}
