"""schema.graphql as the local server serves it: built by graphql-core at start-up, with the declarations of
appsync.graphql it uses (AppSync declares those implicitly) and AppSync's scalar coercion.

Everything comes from the SDL: types, fields, arguments with their defaults, enums, descriptions, the schema's
description. The AppSync directives stay on the definitions that carry them (``ast_node.directives``), and the
served directive list is GraphQL's own, as it was when the mirror was written by hand, so introspection answers as
before.
"""

from __future__ import annotations

from graphql import (
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    GraphQLScalarType,
    GraphQLSchema,
    NamedTypeNode,
    ScalarTypeDefinitionNode,
    build_ast_schema,
    parse,
    specified_directives,
    visit,
)
from graphql.language import Visitor

from devserver.scalars import COERCIONS
from infra.appsync_schema import SCHEMA_PATH

APPSYNC_DECLARATIONS_PATH = SCHEMA_PATH.parent / "appsync.graphql"


def contract_document(schema_sdl: str, declarations_sdl: str) -> DocumentNode:
    """The schema's definitions and those of the AppSync declarations it names (scalars and directives)."""
    document = parse(schema_sdl)
    used: set[str] = set()

    class Names(Visitor):
        def enter_named_type(self, node: NamedTypeNode, *_: object) -> None:
            used.add(node.name.value)

        def enter_directive(self, node: DirectiveNode, *_: object) -> None:
            used.add(node.name.value)

    visit(document, Names())
    declarations = [
        definition
        for definition in parse(declarations_sdl).definitions
        if isinstance(definition, ScalarTypeDefinitionNode | DirectiveDefinitionNode) and definition.name.value in used
    ]
    return DocumentNode(definitions=(*document.definitions, *declarations))


def build_contract(schema_sdl: str | None = None, declarations_sdl: str | None = None) -> GraphQLSchema:
    """The served schema, without resolvers (devserver/resolvers.py binds them). Defaults: the repository's files."""
    built = build_ast_schema(
        contract_document(
            SCHEMA_PATH.read_text() if schema_sdl is None else schema_sdl,
            APPSYNC_DECLARATIONS_PATH.read_text() if declarations_sdl is None else declarations_sdl,
        )
    )
    for name, coerce in COERCIONS.items():
        scalar = built.type_map.get(name)
        if isinstance(scalar, GraphQLScalarType):
            scalar.serialize = scalar.parse_value = coerce  # type: ignore[method-assign, assignment]
    built.directives = tuple(specified_directives)  # AppSync's directives were declared to validate the SDL only
    return built
