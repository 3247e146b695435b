"""The field map names real schema fields, each once, and the Lambda functions serve what it says."""

from __future__ import annotations

from inventory.events import CHANNELS
from inventory.fields import FIELDS, Side
from resolvers import handlers
from tests.graphql_schema import appsync_schema


def test_every_mapped_field_exists_in_the_schema_once() -> None:
    schema = appsync_schema()
    paths = [field.path for field in FIELDS]
    assert len(paths) == len(set(paths))
    for field in FIELDS:
        assert field.field_name in schema.get_type(field.type_name).fields, field.path  # type: ignore[union-attr]


def test_every_root_query_and_mutation_field_is_mapped() -> None:
    """Except the events' publish mutations, which resolve on a NONE data source (inventory.events.CHANNELS)."""
    schema = appsync_schema()
    mapped = {(field.type_name, field.field_name) for field in FIELDS}
    mapped |= {("Mutation", channel.publish_field) for channel in CHANNELS.values()}
    for root in (schema.query_type, schema.mutation_type):
        assert root is not None
        assert {(root.name, name) for name in root.fields} <= mapped


def test_each_function_serves_the_fields_of_its_side_and_no_other() -> None:
    """The routers register what FIELDS says: the side's fields, as batch resolvers exactly when batched."""
    for app, side in ((handlers.queries_app, Side.QUERIES), (handlers.mutations_app, Side.MUTATIONS)):
        for field in FIELDS:
            mine = field.side is side
            single = app._resolver_registry.find_resolver(field.type_name, field.field_name)
            batch = app._batch_resolver_registry.find_resolver(field.type_name, field.field_name)
            assert (single is not None, batch is not None) == (mine and not field.batched, mine and field.batched)
