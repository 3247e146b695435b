"""The rendition of schema.graphql that AppSync is given, and the stack's authorization settings applied to it.

schema.graphql stays fully described for readers, codegen and the local server. AppSync's schema parser has for
years rejected GraphQL string descriptions ("Failed to parse schema document", aws-appsync-community issue 38), so
the rendition has the same types, fields, arguments, enum values and directives with every description turned into
``#`` comment lines above what it describes, which AppSync shows as descriptions. ``#`` comments inside an enum body
have been rejected too, so the values' descriptions are folded into the enum's own comment. The schema's own
description has no place AppSync shows and is left out: nothing precedes the ``schema`` block.

:func:`configure` applies the settings to the directives (the local server enforces what it returns, so both sides
grant the same access). Pure Python over graphql-core's AST: no CDK, so the local server can import it too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from graphql import (
    ArgumentNode,
    DefinitionNode,
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListValueNode,
    Node,
    ObjectTypeDefinitionNode,
    OperationType,
    ScalarTypeDefinitionNode,
    SchemaDefinitionNode,
    StringValueNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"
API_KEY_DIRECTIVE = "aws_api_key"
USER_POOLS_DIRECTIVE = "aws_cognito_user_pools"
GROUPS_ARGUMENT = "cognito_groups"
# What AppSync grants access by: a type or field carrying one of these admits that mode's callers only.
AUTH_DIRECTIVES = frozenset({"aws_api_key", "aws_iam", "aws_oidc", "aws_lambda", "aws_cognito_user_pools", "aws_auth"})

N = TypeVar("N", bound=Node)
FieldsOwner = ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode


@dataclass(frozen=True)
class SchemaAuth:
    """The stack's authorization settings, as they bear on the schema's directives."""

    api_key_writes: bool  # False: @aws_api_key leaves the mutation type, so the key can only read
    user_pools: bool  # a Cognito user pool is an authorization mode; without one @aws_cognito_user_pools goes
    writers_group: str | None = None  # renames the group schema.graphql names on the mutation type; None keeps it


def appsync_definition(sdl: str, auth: SchemaAuth) -> str:
    """schema.graphql's text as AppSync is given it: ``auth`` applied, descriptions as comments."""
    return render(configure(parse(sdl), auth))


def configure(document: DocumentNode, auth: SchemaAuth) -> DocumentNode:
    """``document`` with ``auth`` applied to its authorization directives.

    Refuses (ValueError) to leave a type or field that had authorization directives without any: AppSync would then
    admit the default mode (the API key) to it, widening access instead of narrowing it.
    """
    mutation = root_type_name(document, OperationType.MUTATION)
    renamed = (writers_group(document), auth.writers_group) if auth.writers_group is not None else None

    def directive(node: DirectiveNode, on_mutation_type: bool) -> DirectiveNode | None:
        name = node.name.value
        if name == USER_POOLS_DIRECTIVE and not auth.user_pools:
            return None
        if name == API_KEY_DIRECTIVE and on_mutation_type and not auth.api_key_writes:
            return None
        if name == USER_POOLS_DIRECTIVE and renamed is not None:
            return _renamed_group(node, *renamed)
        return node

    def directives(owner: str, nodes: tuple[DirectiveNode, ...] | None, on_mutation_type: bool) -> tuple[Any, ...]:
        kept = tuple(kept for node in nodes or () if (kept := directive(node, on_mutation_type)) is not None)
        if _grants(nodes or ()) and not _grants(kept):
            raise ValueError(f"{owner} would keep no authorization directive, and so admit the default mode")
        return kept

    def configured(definition: DefinitionNode) -> DefinitionNode:
        if not isinstance(definition, ObjectTypeDefinitionNode):
            return definition
        name = definition.name.value
        on_mutation_type = name == mutation
        fields = tuple(
            _copy(field, directives=directives(f"{name}.{field.name.value}", field.directives, on_mutation_type))
            for field in definition.fields or ()
        )
        return _copy(definition, directives=directives(name, definition.directives, on_mutation_type), fields=fields)

    return DocumentNode(definitions=tuple(configured(definition) for definition in document.definitions))


def root_type_name(document: DocumentNode, operation: OperationType) -> str:
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            for operation_type in definition.operation_types:
                if operation_type.operation is operation:
                    return operation_type.type.name.value
    return operation.value.capitalize()  # GraphQL's default root type names: Query, Mutation, Subscription


def writers_group(document: DocumentNode) -> str:
    """The one Cognito group the mutation type's ``@aws_cognito_user_pools(cognito_groups: [...])`` names."""
    mutation = root_type_name(document, OperationType.MUTATION)
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode) and definition.name.value == mutation:
            groups = [group for directive in definition.directives or () for group in _groups(directive)]
            if len(groups) == 1:
                return groups[0]
    raise ValueError(f"the {mutation} type must name exactly one group in @{USER_POOLS_DIRECTIVE}(cognito_groups)")


def render(document: DocumentNode) -> str:
    """SDL without string descriptions: the schema block first, then the other definitions in their order."""
    schema_blocks = [d for d in document.definitions if isinstance(d, SchemaDefinitionNode)]
    others = [d for d in document.definitions if not isinstance(d, SchemaDefinitionNode)]
    return "\n\n".join(_rendered(definition) for definition in (*schema_blocks, *others)) + "\n"


def _rendered(node: Node) -> str:
    if isinstance(node, SchemaDefinitionNode):
        return print_ast(_copy(node, description=None))
    if isinstance(node, (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode, InputObjectTypeDefinitionNode)):
        return _with_fields(node)
    if isinstance(node, EnumTypeDefinitionNode):
        return _enum(node)
    if isinstance(node, DirectiveDefinitionNode):
        arguments = node.arguments or ()
        comments = [*_comment(node, ""), *(line for a in arguments for line in _comment(a, "", f"{a.name.value}: "))]
        return "\n".join([*comments, print_ast(_copy(node, description=None, arguments=_bare(arguments)))])
    if isinstance(node, (ScalarTypeDefinitionNode, UnionTypeDefinitionNode)):
        return "\n".join([*_comment(node, ""), print_ast(_copy(node, description=None))])
    return print_ast(node)  # type extensions carry no description


def _with_fields(node: FieldsOwner) -> str:
    lines = [*_comment(node, ""), print_ast(_copy(node, description=None, fields=())) + " {"]
    for field in node.fields or ():
        lines.extend(_comment(field, "  "))
        arguments: tuple[InputValueDefinitionNode, ...] = getattr(field, "arguments", None) or ()
        for argument in arguments:  # arguments print on the field's line, so their descriptions join its comment
            lines.extend(_comment(argument, "  ", f"{argument.name.value}: "))
        bare = _copy(field, description=None)
        if isinstance(field, FieldDefinitionNode):
            bare = _copy(bare, arguments=_bare(arguments))
        lines.append("  " + print_ast(bare))
    lines.append("}")
    return "\n".join(lines)


def _enum(node: EnumTypeDefinitionNode) -> str:
    lines = _comment(node, "")
    for value in node.values or ():
        lines.extend(_comment(value, "", f"{value.name.value}: "))
    lines.append(print_ast(_copy(node, description=None, values=())) + " {")
    lines.extend("  " + print_ast(_copy(value, description=None)) for value in node.values or ())
    lines.append("}")
    return "\n".join(lines)


def _comment(node: Any, indent: str, label: str = "") -> list[str]:
    """``node``'s description as comment lines; a label (``name: ``) goes on the first line, later lines align."""
    description: StringValueNode | None = node.description
    if description is None:
        return []
    lines = description.value.splitlines() or [""]
    first, *rest = lines
    return [f"{indent}# {label}{first}".rstrip(), *(f"{indent}# {' ' * len(label)}{line}".rstrip() for line in rest)]


def _bare(arguments: Iterable[InputValueDefinitionNode]) -> tuple[InputValueDefinitionNode, ...]:
    return tuple(_copy(argument, description=None) for argument in arguments)


def _grants(directives: Iterable[DirectiveNode]) -> bool:
    return any(directive.name.value in AUTH_DIRECTIVES for directive in directives)


def _groups(directive: DirectiveNode) -> list[str]:
    if directive.name.value != USER_POOLS_DIRECTIVE:
        return []
    return [
        value.value
        for argument in directive.arguments or ()
        if argument.name.value == GROUPS_ARGUMENT and isinstance(argument.value, ListValueNode)
        for value in argument.value.values
        if isinstance(value, StringValueNode)
    ]


def _renamed_group(directive: DirectiveNode, old: str, new: str) -> DirectiveNode:
    def renamed(argument: ArgumentNode) -> ArgumentNode:
        if argument.name.value != GROUPS_ARGUMENT or not isinstance(argument.value, ListValueNode):
            return argument
        values = tuple(
            StringValueNode(value=new) if isinstance(value, StringValueNode) and value.value == old else value
            for value in argument.value.values
        )
        return ArgumentNode(name=argument.name, value=ListValueNode(values=values))

    return _copy(directive, arguments=tuple(renamed(argument) for argument in directive.arguments or ()))


def _copy(node: N, **changes: Any) -> N:
    """A copy of an AST node with some attributes changed (graphql-core's nodes are not dataclasses)."""
    values = {key: getattr(node, key, None) for key in node.keys if key != "loc"}
    values.update(changes)
    return type(node)(**values)
