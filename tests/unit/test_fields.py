"""The field map names real schema fields, each once, and agrees with what the stack wires."""

from __future__ import annotations

from infra import api
from inventory.fields import FIELDS, Side, fields_of
from tests.graphql_schema import appsync_schema


def test_every_mapped_field_exists_in_the_schema_once() -> None:
    schema = appsync_schema()
    paths = [field.path for field in FIELDS]
    assert len(paths) == len(set(paths))
    for field in FIELDS:
        assert field.field_name in schema.get_type(field.type_name).fields, field.path  # type: ignore[union-attr]


def test_every_root_query_and_mutation_field_is_mapped() -> None:
    schema = appsync_schema()
    mapped = {(field.type_name, field.field_name) for field in FIELDS}
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        assert {(root.name, name) for name in root.fields} <= mapped


def test_the_stack_serves_each_side_with_its_fields() -> None:
    assert {(f.type_name, f.field_name) for f in fields_of(Side.QUERIES)} == set(api.READ_FIELDS)
    assert {(f.type_name, f.field_name) for f in fields_of(Side.MUTATIONS)} == set(api.WRITE_FIELDS)
    assert {(f.type_name, f.field_name) for f in FIELDS if f.batched} == set(api.BATCHED_FIELDS)
