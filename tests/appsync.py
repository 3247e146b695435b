"""AppSync direct Lambda resolver events, built the way AppSync sends them, and a way to invoke the handlers.

A direct resolver (no request mapping) receives AppSync's whole context as the event:

    {"arguments": {...}, "identity": null | {...}, "source": null | {...},
     "request": {"headers": {...}, "domainName": null},
     "prev": null,
     "info": {"fieldName", "parentTypeName", "variables", "selectionSetList", "selectionSetGraphQL"},
     "stash": {}}

``identity`` is null with API_KEY (the API's default mode) and the caller's IAM identity with AWS_IAM. A batched
field (``Item.movements``) receives a list of such events, one per parent object, each with that parent as
``source``, and must answer a list of results in the same order. The selection set defaults to what a client
asking for every field of the return type would send (fields that take arguments have resolvers of their own and
are left out), derived from schema.graphql so that it follows the contract.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLObjectType, get_named_type, is_object_type

from inventory.fields import FIELDS, Side
from resolvers import handlers, routers
from resolvers.runtime import build_app
from tests.graphql_schema import appsync_schema

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
API_HOST = f"abcdefghijklmnopqrstuvwxyz.appsync-api.{REGION}.amazonaws.com"

# identity as AppSync passes it: null for API_KEY, the signer's details for AWS_IAM.
API_KEY_IDENTITY: None = None


def iam_identity(username: str = "AROAEXAMPLEROLEID:tester") -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "cognitoIdentityAuthProvider": None,
        "cognitoIdentityAuthType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "sourceIp": ["203.0.113.10"],
        "userArn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/inventory-client/tester",
        "username": username,
    }


def request_headers(api_key: str | None = "da2-exampleexampleexample00") -> dict[str, str]:
    """The HTTP headers AppSync forwards (lower-cased), as a client calling the GraphQL endpoint sends them:
    ``x-api-key`` with API_KEY, a SigV4 ``authorization`` without one (AWS_IAM)."""
    headers = {
        "accept": "application/json, text/plain, */*",
        "content-type": "application/json",
        "content-length": "512",
        "host": API_HOST,
        "user-agent": "inventory-integration-tests/1.0",
        "x-forwarded-for": "203.0.113.10, 198.51.100.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
        "x-amzn-requestid": str(uuid.uuid4()),
        "x-amzn-trace-id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
    }
    if api_key is not None:
        headers["x-api-key"] = api_key
    else:
        headers["x-amz-date"] = "20240101T000000Z"
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20240101/{REGION}/appsync/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date, Signature=0123456789abcdef"
        )
    return headers


# Selection sets


@functools.cache
def _schema() -> Any:
    return appsync_schema()


def default_selection(parent_type: str, field_name: str, depth: int = 3) -> list[str]:
    """selectionSetList for asking every field of the return type (nested objects included, up to ``depth``).

    Fields with arguments (``Item.movements``) are left out: AppSync resolves them with their own resolver.
    A field returning a scalar has an empty selection set.
    """
    parent = _schema().type_map[parent_type]
    assert isinstance(parent, GraphQLObjectType), parent_type
    return _paths(get_named_type(parent.fields[field_name].type), "", depth)


def _paths(graphql_type: Any, prefix: str, depth: int) -> list[str]:
    if not is_object_type(graphql_type) or depth == 0:
        return []
    paths: list[str] = []
    for name, child in graphql_type.fields.items():
        if child.args:
            continue
        path = f"{prefix}{name}"
        paths.append(path)
        paths.extend(_paths(get_named_type(child.type), f"{path}/", depth - 1))
    return paths


def selection_set_graphql(selection: Sequence[str]) -> str:
    """The selection set as AppSync prints it in info.selectionSetGraphQL ("" when there is none)."""
    if not selection:
        return ""
    tree: dict[str, Any] = {}
    for path in selection:
        node = tree
        for part in path.split("/"):
            node = node.setdefault(part, {})

    def render(node: Mapping[str, Any], indent: int) -> list[str]:
        lines = []
        for name, children in node.items():
            pad = "  " * indent
            if children:
                lines += [f"{pad}{name} {{", *render(children, indent + 1), f"{pad}}}"]
            else:
                lines.append(f"{pad}{name}")
        return lines

    return "\n".join(["{", *render(tree, 1), "}"])


# Events


def _default_headers(identity: Mapping[str, Any] | None) -> dict[str, str]:
    return request_headers() if identity is None else request_headers(api_key=None)


def resolver_event(
    parent_type: str,
    field_name: str,
    arguments: Mapping[str, Any] | None = None,
    *,
    source: Mapping[str, Any] | None = None,
    identity: Mapping[str, Any] | None = API_KEY_IDENTITY,
    variables: Mapping[str, Any] | None = None,
    selection: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
    prev: Mapping[str, Any] | None = None,
    stash: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One direct resolver event for ``parent_type.field_name``.

    ``variables`` defaults to the arguments, as if the client had passed each argument as a variable of the same
    name (what generated clients do); ``selection`` defaults to :func:`default_selection`.
    """
    arguments = dict(arguments or {})
    selection_list = default_selection(parent_type, field_name) if selection is None else list(selection)
    return {
        "arguments": arguments,
        "identity": None if identity is None else dict(identity),
        "source": None if source is None else dict(source),
        "request": {"headers": dict(_default_headers(identity) if headers is None else headers), "domainName": None},
        "prev": None if prev is None else dict(prev),
        "info": {
            "fieldName": field_name,
            "parentTypeName": parent_type,
            "variables": dict(arguments if variables is None else variables),
            "selectionSetList": selection_list,
            "selectionSetGraphQL": selection_set_graphql(selection_list),
        },
        "stash": dict(stash or {}),
    }


def batch_event(
    parent_type: str,
    field_name: str,
    sources: Sequence[Mapping[str, Any]],
    arguments: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    *,
    identity: Mapping[str, Any] | None = API_KEY_IDENTITY,
    variables: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The event of a batched resolver: one entry per parent object (``source``), in the order AppSync expects the
    results back. ``arguments``: one mapping for every entry, or a sequence with one mapping per source (as when a
    query selects the field under several aliases)."""
    if arguments is None or isinstance(arguments, Mapping):
        per_entry: list[Mapping[str, Any]] = [arguments or {}] * len(sources)
    else:
        per_entry = list(arguments)
        assert len(per_entry) == len(sources), "one arguments mapping per source"
    headers = _default_headers(identity)  # one GraphQL request: the same headers in every entry
    return [
        resolver_event(
            parent_type,
            field_name,
            entry_arguments,
            source=source,
            identity=identity,
            variables={} if variables is None else variables,
            headers=headers,
        )
        for source, entry_arguments in zip(sources, per_entry, strict=True)
    ]


# Lambda


@dataclass
class FakeLambdaContext:
    """The attributes of the Lambda context object that the handlers (Powertools Logger) read."""

    function_name: str = "inventory-resolvers"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:inventory-resolvers"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/inventory-resolvers"
    log_stream_name: str = "2024/01/01/[$LATEST]0123456789abcdef0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


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
