"""The AppSync rendition of schema.graphql: the same API without string descriptions, the stack's authorization
settings applied, and what each environment's template carries. AppSync, not the Lambda functions, enforces these
directives, so this is where the deployed access rule is tested."""

from __future__ import annotations

import re
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    build_schema,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

from devserver.authorization import DEFAULT_MODE
from infra.appsync_schema import SCHEMA_PATH, SchemaAuth, appsync_definition, configure, writers_group
from inventory.events import CHANNELS
from tests.graphql_schema import APPSYNC_DECLARATIONS_PATH
from tests.infra.conftest import Synthesized

READ_WRITE = SchemaAuth(api_key_writes=True, user_pools=True)
READ_ONLY = SchemaAuth(api_key_writes=False, user_pools=True)
SETTINGS = [
    READ_WRITE,
    READ_ONLY,
    SchemaAuth(api_key_writes=True, user_pools=False),
    SchemaAuth(api_key_writes=False, user_pools=True, writers_group="shop-staff"),
]
OBJECT_TYPES = ("Item", "StockMovement", "ItemConnection", "StockMovementConnection", "OrderResult")


class _WithoutDescriptions(Visitor):
    def enter(self, node: Any, *_: Any) -> Any:
        if getattr(node, "description", None) is None:
            return None
        values = {key: getattr(node, key) for key in node.keys if key != "loc"}
        return type(node)(**{**values, "description": None})


def _definitions(document: DocumentNode) -> dict[str, str]:
    """Each definition printed without descriptions, by name: types, fields, arguments with their defaults, enum
    values and every directive with its arguments."""
    bare: DocumentNode = visit(document, _WithoutDescriptions())
    return {
        "schema" if isinstance(d, SchemaDefinitionNode) else d.name.value: print_ast(d)  # type: ignore[attr-defined]
        for d in bare.definitions
    }


def _descriptions(document: DocumentNode) -> list[str]:
    found: list[str] = []

    class Collect(Visitor):
        def enter(self, node: Any, *_: Any) -> None:
            if getattr(node, "description", None) is not None:
                found.append(node.description.value)

    visit(document, Collect())
    return found


def _directives(sdl: str) -> dict[str, str]:
    """Type name -> its directives as printed, for the object types of ``sdl``."""
    return {
        d.name.value: " ".join(print_ast(directive) for directive in d.directives or ())
        for d in parse(sdl).definitions
        if isinstance(d, ObjectTypeDefinitionNode)
    }


def _field_directives(sdl: str) -> dict[str, list[str]]:
    """``Type.field``: the directives of each field that has some (@aws_subscribe aside)."""
    found = {
        f"{d.name.value}.{field.name.value}": [
            directive.name.value for directive in field.directives or () if directive.name.value != "aws_subscribe"
        ]
        for d in parse(sdl).definitions
        if isinstance(d, ObjectTypeDefinitionNode)
        for field in d.fields or ()
    }
    return {field: directives for field, directives in found.items() if directives}


CONTRACT = SCHEMA_PATH.read_text()


@pytest.mark.parametrize("auth", SETTINGS, ids=repr)
def test_the_rendition_is_the_configured_schema_graphql_but_for_descriptions(auth: SchemaAuth) -> None:
    rendition = appsync_definition(CONTRACT, auth)

    assert _definitions(parse(rendition)) == _definitions(configure(parse(CONTRACT), auth))
    build_schema(
        APPSYNC_DECLARATIONS_PATH.read_text() + rendition
    )  # a valid schema, with AppSync's directives used as declared


@pytest.mark.parametrize("auth", SETTINGS, ids=repr)
def test_the_rendition_has_no_string_description_and_starts_with_the_schema_block(auth: SchemaAuth) -> None:
    rendition = appsync_definition(CONTRACT, auth)

    assert _descriptions(parse(rendition)) == []
    assert isinstance(parse(rendition).definitions[0], SchemaDefinitionNode)
    assert rendition.startswith("schema {")
    assert _descriptions(parse(CONTRACT))  # the contract itself stays described


def test_descriptions_become_comments_and_enum_bodies_hold_none() -> None:
    rendition = appsync_definition(CONTRACT, READ_WRITE)
    comments = "\n".join(line.strip() for line in rendition.splitlines() if line.strip().startswith("#"))
    schema_description = parse(CONTRACT).definitions[0].description  # type: ignore[attr-defined]

    for description in _descriptions(parse(CONTRACT)):
        if description != schema_description.value:
            for line in description.splitlines():
                assert line in comments, line
    assert "# OUT_OF_STOCK: On sale, none in stock" in comments  # an enum value's description, on its enum
    for body in re.findall(r"^enum \w+ \{\n(.*?)^\}", rendition, flags=re.MULTILINE | re.DOTALL):
        assert "#" not in body


def test_argument_descriptions_defaults_and_multi_line_descriptions_are_rendered() -> None:
    sdl = '''
"""
Root.
Second line.
"""
type Query {
  "Lists."
  list(
    "How many."
    limit: Int = 20
    order: Order = ASC @deprecated
  ): [String] @aws_api_key
}
"Order."
enum Order {
  "Ascending."
  ASC
  DESC
}
"An input."
input Filter {
  "By name."
  name: String = "x"
}
'''
    rendition = appsync_definition(sdl, READ_WRITE)

    assert _definitions(parse(rendition)) == _definitions(parse(sdl))
    assert _descriptions(parse(rendition)) == []
    assert "# Root.\n# Second line.\ntype Query {" in rendition
    assert "  # Lists.\n  # limit: How many.\n  list(limit: Int = 20, order: Order = ASC @deprecated)" in rendition
    assert "# Order.\n# ASC: Ascending.\nenum Order {\n  ASC\n  DESC\n}" in rendition
    assert '  # By name.\n  name: String = "x"' in rendition


def test_schema_graphql_lets_everyone_read_and_the_writers_group_write() -> None:
    directives = _directives(CONTRACT)

    for type_name in (*OBJECT_TYPES, "Query", "Subscription"):
        assert directives[type_name] == "@aws_api_key @aws_iam @aws_cognito_user_pools"
    assert (
        directives["Mutation"] == '@aws_api_key @aws_iam @aws_cognito_user_pools(cognito_groups: ["inventory-writers"])'
    )
    assert writers_group(parse(CONTRACT)) == "inventory-writers"
    # No field overrides its type's rule, but the publish mutations: AWS IAM only (the stream handler), so neither
    # the API key nor the writers group can make subscribers hear what did not happen.
    assert _field_directives(CONTRACT) == {f"Mutation.{c.publish_field}": ["aws_iam"] for c in CHANNELS.values()}


@pytest.mark.parametrize(
    "auth",
    [SchemaAuth(api_key_writes=True, user_pools=True), SchemaAuth(api_key_writes=False, user_pools=False)],
    ids=["writing-key-with-pool", "read-only-key"],
)
def test_every_setting_keeps_the_publish_mutations_aws_iam_only(auth: SchemaAuth) -> None:
    rendered = appsync_definition(CONTRACT, auth)

    assert _field_directives(rendered) == {f"Mutation.{c.publish_field}": ["aws_iam"] for c in CHANNELS.values()}


def test_a_read_only_api_key_takes_aws_api_key_off_the_mutation_type_only() -> None:
    read_write, read_only = (
        _directives(appsync_definition(CONTRACT, READ_WRITE)),
        _directives(appsync_definition(CONTRACT, READ_ONLY)),
    )

    assert read_only.pop("Mutation") == '@aws_iam @aws_cognito_user_pools(cognito_groups: ["inventory-writers"])'
    assert read_write.pop("Mutation").startswith("@aws_api_key @aws_iam ")
    assert read_only == read_write


def test_the_writers_group_setting_renames_the_group_schema_graphql_names() -> None:
    auth = SchemaAuth(api_key_writes=True, user_pools=True, writers_group="shop-staff")
    directives = _directives(appsync_definition(CONTRACT, auth))

    assert directives["Mutation"] == '@aws_api_key @aws_iam @aws_cognito_user_pools(cognito_groups: ["shop-staff"])'
    assert "inventory-writers" not in appsync_definition(CONTRACT, auth)


def test_without_a_user_pool_no_cognito_directive_is_deployed() -> None:
    rendition = appsync_definition(CONTRACT, SchemaAuth(api_key_writes=False, user_pools=False))

    assert "aws_cognito_user_pools" not in rendition
    assert _directives(rendition)["Mutation"] == "@aws_iam"
    assert _directives(rendition)["Query"] == "@aws_api_key @aws_iam"


def test_a_setting_that_would_leave_a_type_open_to_the_default_mode_is_refused() -> None:
    # A type whose only directive goes would be served to the default mode (the API key): wider, not narrower.
    sdl = "type Query { a: Int }\ntype Mutation @aws_api_key { b: Int }\ntype Item { c: Int @aws_cognito_user_pools }"
    with pytest.raises(ValueError, match="Mutation would keep no authorization directive"):
        configure(parse(sdl), SchemaAuth(api_key_writes=False, user_pools=True))
    with pytest.raises(ValueError, match=r"Item\.c would keep no authorization directive"):
        configure(parse(sdl), SchemaAuth(api_key_writes=True, user_pools=False))


def _deployed(synth: Synthesized) -> str:
    definition: str = synth.one("AWS::AppSync::GraphQLSchema")[1]["Properties"]["Definition"]
    return definition


def test_dev_deploys_an_api_key_that_writes(dev: Synthesized) -> None:
    directives = _directives(_deployed(dev))

    assert directives["Mutation"] == "@aws_api_key @aws_iam"
    assert directives["Query"] == directives["Subscription"] == "@aws_api_key @aws_iam"


def test_prod_deploys_a_read_only_api_key(prod: Synthesized) -> None:
    directives = _directives(_deployed(prod))

    assert directives["Mutation"] == "@aws_iam"
    for type_name in (*OBJECT_TYPES, "Query", "Subscription"):
        assert directives[type_name] == "@aws_api_key @aws_iam"


def test_with_a_user_pool_signed_in_users_read_and_the_configured_group_writes(variant: Synthesized) -> None:
    directives = _directives(_deployed(variant))

    assert directives["Mutation"] == '@aws_api_key @aws_iam @aws_cognito_user_pools(cognito_groups: ["shop-staff"])'
    for type_name in (*OBJECT_TYPES, "Query", "Subscription"):
        assert directives[type_name] == "@aws_api_key @aws_iam @aws_cognito_user_pools"


def test_the_local_server_assumes_the_stacks_default_mode(env: Synthesized) -> None:
    # A type or field without directives admits the default mode only: locally too, so the two must agree.
    assert env.one("AWS::AppSync::GraphQLApi")[1]["Properties"]["AuthenticationType"] == DEFAULT_MODE.value
