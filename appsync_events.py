"""AppSync direct Lambda resolver events, built the way AppSync sends them: for the tests and the benchmarks, which
both drive the Lambda handlers as AppSync would (the benchmarks may not import the tests, so this lives beside both;
it is no part of the Lambda bundle).

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

import functools
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, build_schema, get_named_type, is_object_type

ROOT = Path(__file__).resolve().parent
SCHEMA_PATH = ROOT / "schema.graphql"
APPSYNC_DECLARATIONS_PATH = ROOT / "appsync.graphql"


def appsync_schema() -> GraphQLSchema:
    """schema.graphql as graphql-core sees it, with appsync.graphql: the scalars and directives AppSync declares
    implicitly. A new schema object per call: callers may change theirs."""
    return build_schema(APPSYNC_DECLARATIONS_PATH.read_text() + SCHEMA_PATH.read_text())


@functools.cache
def _schema() -> GraphQLSchema:
    return appsync_schema()


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
