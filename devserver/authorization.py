"""Who may call what on the local server, decided as AppSync decides it, from the same source: the authorization
directives of schema.graphql, parsed at start-up and configured by the same function the stack uses
(infra/appsync_schema.py), so the local rule and the deployed one cannot drift.

AppSync's semantics, followed here: a field's directives replace its type's; a type or field without any admits the
default mode only (the API key, as infra/api.py configures it); several directives admit any of their modes;
``@aws_cognito_user_pools(cognito_groups: [...])`` admits the users of any of those groups, without the argument
every signed-in user. Credentials are checked before GraphQL runs (a wrong key or token: HTTP 401); a caller then
reaching a field it may not access gets the error ``Unauthorized`` for that field and null in its place.
AWS IAM (SigV4) callers are not modelled locally: only the server's own stream reader calls as IAM
(devserver/stream.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLResolveInfo,
    ListValueNode,
    ObjectTypeDefinitionNode,
    OperationType,
    StringValueNode,
    parse,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from devserver import user_pool
from devserver.errors import AppSyncError
from infra.appsync_schema import GROUPS_ARGUMENT, SCHEMA_PATH, SchemaAuth, configure

UNAUTHORIZED_TYPE = "Unauthorized"
API_KEY_REFUSED = "You are not authorized to make this call."


class Mode(StrEnum):
    """AppSync's authorization types, as its templates name them."""

    API_KEY = "API_KEY"
    AWS_IAM = "AWS_IAM"
    USER_POOL = "AMAZON_COGNITO_USER_POOLS"


DEFAULT_MODE = Mode.API_KEY  # the stack's default authorization mode (a contract test keeps them equal)
MODES = {"aws_api_key": Mode.API_KEY, "aws_iam": Mode.AWS_IAM, "aws_cognito_user_pools": Mode.USER_POOL}


@dataclass(frozen=True)
class Caller:
    mode: Mode
    groups: frozenset[str] = frozenset()
    username: str | None = None


@dataclass(frozen=True)
class Grant:
    mode: Mode
    groups: frozenset[str] | None = None  # user pools: None admits every signed-in user

    def admits(self, caller: Caller) -> bool:
        return caller.mode is self.mode and (self.groups is None or not self.groups.isdisjoint(caller.groups))


class FieldRules:
    """Per object type and field, the grants its directives (or its type's, or the default mode) make."""

    def __init__(self, document: DocumentNode) -> None:
        self._grants: dict[tuple[str, str], tuple[Grant, ...]] = {}
        for definition in document.definitions:
            if isinstance(definition, ObjectTypeDefinitionNode):
                type_grants = _grants(definition.directives or ()) or (Grant(DEFAULT_MODE),)
                for field in definition.fields or ():
                    key = (definition.name.value, field.name.value)
                    self._grants[key] = _grants(field.directives or ()) or type_grants

    @classmethod
    def of_contract(cls, *, api_key_writes: bool) -> FieldRules:
        """schema.graphql's rule, with the API key read-only or read-write as a stack configures it."""
        return cls(
            configure(parse(SCHEMA_PATH.read_text()), SchemaAuth(api_key_writes=api_key_writes, user_pools=True))
        )

    def allows(self, caller: Caller, type_name: str, field_name: str) -> bool:
        grants = self._grants.get((type_name, field_name))
        return grants is None or any(grant.admits(caller) for grant in grants)  # None: __typename, introspection


def _grants(directives: Iterable[DirectiveNode]) -> tuple[Grant, ...]:
    grants = []
    for directive in directives:
        mode = MODES.get(directive.name.value)
        if mode is not None:  # @aws_oidc, @aws_lambda: modes the stack does not configure
            grants.append(Grant(mode, _groups(directive) if mode is Mode.USER_POOL else None))
    return tuple(grants)


def _groups(directive: DirectiveNode) -> frozenset[str] | None:
    for argument in directive.arguments or ():
        if argument.name.value == GROUPS_ARGUMENT and isinstance(argument.value, ListValueNode):
            return frozenset(value.value for value in argument.value.values if isinstance(value, StringValueNode))
    return None


@dataclass(frozen=True)
class Access:
    """What a request or websocket connection may reach: the rules, and who is calling."""

    rules: FieldRules
    caller: Caller


class Refused(Exception):
    """Credentials AppSync would refuse before running anything (HTTP 401 ``UnauthorizedException``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Authenticator:
    """Checks the credentials a request carries. ``api_key`` None: no check at all (``--no-auth``);
    ``user_pool_secret`` set: local Cognito tokens are accepted in ``Authorization`` (``--auth cognito``)."""

    def __init__(self, *, api_key: str | None, user_pool_secret: str | None, api_key_writes: bool) -> None:
        self.api_key, self.user_pool_secret = api_key, user_pool_secret
        self.rules = FieldRules.of_contract(api_key_writes=api_key_writes)

    def access(self, *sources: Mapping[str, Any]) -> Access | None:
        """The access of a caller whose credentials are in ``sources`` (request headers, a websocket's connection
        parameters); None when nothing is checked. A token, when accepted and given, decides; otherwise the API key.
        Raises :class:`Refused`."""
        if self.api_key is None:
            return None
        token = next((found for source in sources if (found := _header(source, "authorization")) is not None), None)
        if token is not None and self.user_pool_secret is not None:
            try:
                user = user_pool.verify(self.user_pool_secret, str(token))
            except user_pool.InvalidToken as invalid:
                raise Refused(invalid.message) from None
            return Access(self.rules, Caller(Mode.USER_POOL, user.groups, user.username))
        if any(_same(_header(source, "x-api-key"), self.api_key) for source in sources):
            return Access(self.rules, Caller(Mode.API_KEY))
        raise Refused(API_KEY_REFUSED)


def _header(source: Mapping[str, Any], name: str) -> Any:
    """A header from request headers (case-insensitive already) or connection parameters (any case, or nested
    under ``headers`` as some clients send them)."""
    for key, value in source.items():
        if isinstance(key, str) and key.lower() == name:
            return value
    nested = source.get("headers")
    return _header(nested, name) if isinstance(nested, Mapping) else None


def _same(offered: Any, expected: str) -> bool:
    return isinstance(offered, str) and hmac.compare_digest(offered.encode(), expected.encode())


class FieldAuthorization(SchemaExtension):
    """Refuses each field the caller may not access, as AppSync does: the error Unauthorized, null in its place
    (and, by GraphQL's null propagation, in its non-null parents). Nothing is checked without an access (the
    schema run in process, ``--no-auth``)."""

    def resolve(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo[Any], *args: Any, **kwargs: Any
    ) -> Any:
        access: Access | None = info.context.access
        if access is not None and not access.rules.allows(access.caller, info.parent_type.name, info.field_name):
            raise unauthorized(info.field_name, info.parent_type.name, info.field_nodes, info.path.as_list())
        return _next(root, info, *args, **kwargs)

    def on_validate(self) -> Iterator[None]:
        # A subscription's root field is resolved only when an event comes, so it is checked before it starts:
        # errors set here are answered instead of validating and subscribing.
        context = self.execution_context
        access: Access | None = context.context.access
        document = context.graphql_document
        operation = get_operation_ast(document, context.operation_name) if document is not None else None
        subscription = context.schema._schema.subscription_type
        if access is not None and operation is not None and subscription is not None:
            refused: list[GraphQLError] = [
                unauthorized(field.name.value, subscription.name, [field], [(field.alias or field.name).value])
                for field in operation.selection_set.selections
                if operation.operation is OperationType.SUBSCRIPTION
                and isinstance(field, FieldNode)
                and not access.rules.allows(access.caller, subscription.name, field.name.value)
            ]
            if refused:
                context.pre_execution_errors = refused
        yield


def unauthorized(field: str, type_name: str, nodes: Sequence[FieldNode], path: list[str | int]) -> AppSyncError:
    """AppSync's error for a field the caller may not access."""
    message = f"Not Authorized to access {field} on type {type_name}"
    return AppSyncError(GraphQLError(message, nodes, path=path), UNAUTHORIZED_TYPE, message, None)
