"""schema.graphql as graphql-core sees it, with appsync.graphql: the scalars and directives AppSync declares
implicitly."""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLSchema, build_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "schema.graphql"
APPSYNC_DECLARATIONS_PATH = ROOT / "appsync.graphql"


def appsync_schema() -> GraphQLSchema:
    return build_schema(APPSYNC_DECLARATIONS_PATH.read_text() + SCHEMA_PATH.read_text())
