"""Invoking the Lambda handlers with AppSync events (built by appsync_events, shared with the benchmarks), and what
the tests check of their answers."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from appsync_events import FakeLambdaContext, batch_event, iam_identity, resolver_event
from inventory.fields import FIELDS, Side
from resolvers import handlers, routers
from resolvers.runtime import build_app

# The event builders are re-exported: tests import them from here, beside the helpers that invoke the handlers.
__all__ = [
    "LEAK_MARKERS",
    "FakeLambdaContext",
    "assert_no_leak",
    "batch_event",
    "container_per_thread",
    "error_of",
    "handler_for",
    "iam_identity",
    "invoke",
    "invoke_batch",
    "is_error",
    "mutate",
    "query",
    "resolver_event",
]


def handler_for(parent_type: str) -> Any:
    """The Lambda function AppSync calls for fields of ``parent_type``, by the side inventory.fields gives them:
    Query and Item on the read-only function, Mutation on the writing one."""
    sides = {field.side for field in FIELDS if field.type_name == parent_type}
    if len(sides) != 1:
        raise ValueError(f"no one Lambda function resolves fields of {parent_type}")
    return handlers.queries_handler if sides == {Side.QUERIES} else handlers.mutations_handler


def invoke(
    parent_type: str,
    field_name: str,
    arguments: Mapping[str, Any] | None = None,
    source: Mapping[str, Any] | None = None,
    **event_options: Any,
) -> Any:
    """Invoke the Lambda handler for one field with an AppSync event; returns what the handler returned."""
    event = resolver_event(parent_type, field_name, arguments, source=source, **event_options)
    return handler_for(parent_type)(event, FakeLambdaContext())


def invoke_batch(
    parent_type: str,
    field_name: str,
    sources: Sequence[Mapping[str, Any]],
    arguments: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    **event_options: Any,
) -> Any:
    """Invoke the Lambda handler once with a batch event (one entry per source)."""
    event = batch_event(parent_type, field_name, sources, arguments, **event_options)
    return handler_for(parent_type)(event, FakeLambdaContext())


def query(field_name: str, arguments: Mapping[str, Any] | None = None, **event_options: Any) -> Any:
    return invoke("Query", field_name, arguments, **event_options)


def mutate(field_name: str, arguments: Mapping[str, Any] | None = None, **event_options: Any) -> Any:
    return invoke("Mutation", field_name, arguments, **event_options)


def is_error(result: Any) -> bool:
    """Whether a handler result is the error envelope rather than a field value."""
    return isinstance(result, dict) and set(result) == {"error"}


def error_of(result: Any) -> dict[str, Any]:
    """The ``{"type", "message", "info"}`` of an error envelope; fails the test if ``result`` is not one."""
    assert is_error(result), f"expected an error envelope, got {result!r}"
    error: dict[str, Any] = result["error"]
    assert set(error) == {"type", "message", "info"}, error
    assert isinstance(error["message"], str) and error["message"], error
    return error


# What must never reach a client in an error message: stack traces, botocore/DynamoDB wording, Python reprs of
# exceptions. Table names are checked by the caller, who knows them.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "botocore",
    "boto3",
    "ClientError",
    "An error occurred (",
    "Exception",
    "ConditionalCheckFailed",
    "TransactionCanceled",
    "ResourceNotFound",
    "dynamodb",
    "DynamoDB",
)


def assert_no_leak(message: str, *secrets: str) -> None:
    """``message`` carries no stack trace, no botocore or DynamoDB text, and none of ``secrets`` (table names...)."""
    for marker in (*LEAK_MARKERS, *secrets):
        assert marker not in message, f"{marker!r} leaked into the error message: {message!r}"


# Concurrency


@contextlib.contextmanager
def container_per_thread() -> Iterator[None]:
    """Let threads invoke the handlers the way concurrent Lambda containers would: each with its own AppSyncResolver.

    Lambda gives a container one event at a time, and Powertools' AppSyncResolver keeps the event being resolved
    on the instance (``self.current_event``), so threads sharing one instance could swap each other's arguments.
    Inside this block the handler functions themselves still run (logger decorator, routing, error envelope), on
    an app of the calling thread's own, built from the same routers; the cached service and its client are
    shared (boto3 clients are thread-safe).
    """
    local = threading.local()

    class PerThreadApp:
        def __init__(self, name: str, router: Any) -> None:
            self._name, self._router = name, router

        def resolve(self, event: Any, context: Any) -> Any:
            app = getattr(local, self._name, None)
            if app is None:
                app = build_app(self._router)
                setattr(local, self._name, app)
            return app.resolve(event, context)

    saved = handlers.queries_app, handlers.mutations_app
    handlers.queries_app = PerThreadApp("queries", routers.queries)  # type: ignore[assignment]
    handlers.mutations_app = PerThreadApp("mutations", routers.mutations)  # type: ignore[assignment]
    try:
        yield
    finally:
        handlers.queries_app, handlers.mutations_app = saved
