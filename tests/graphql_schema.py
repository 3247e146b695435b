"""schema.graphql as graphql-core sees it, with appsync.graphql: declared in appsync_events, which the benchmarks
share, and re-exported here for the tests."""

from __future__ import annotations

from appsync_events import APPSYNC_DECLARATIONS_PATH, ROOT, SCHEMA_PATH, appsync_schema

__all__ = ["APPSYNC_DECLARATIONS_PATH", "ROOT", "SCHEMA_PATH", "appsync_schema"]
