"""The contract in schema.graphql against the code that serves it."""

from __future__ import annotations

from decimal import Decimal

from graphql import GraphQLObjectType, GraphQLSchema, is_enum_type, is_input_object_type, is_object_type

from inventory import views
from inventory.events import CHANNELS
from inventory.model import (
    MAIN_LOCATION,
    Item,
    ItemStatus,
    Level,
    MovementReason,
    OrderLine,
    Reservation,
    ReservationStatus,
    StockMovement,
)
from resolvers.handlers import mutations_app, queries_app
from tests.graphql_schema import appsync_schema

SCHEMA: GraphQLSchema = appsync_schema()
SUBSCRIPTION_ONLY = {"Subscription"}  # served by AppSync itself through @aws_subscribe, no resolver
# The events' publish mutations resolve on a NONE data source (infra/api.py), not on a Lambda function.
PUBLISH_FIELDS = {("Mutation", channel.publish_field) for channel in CHANNELS.values()}
OWN_TYPES = [name for name in SCHEMA.type_map if not name.startswith("__") and not name.startswith("AWS")]


def _resolvable_fields() -> list[tuple[str, str]]:
    """Root fields, plus every field that takes arguments (those need a resolver of their own)."""
    fields = []
    for type_name in OWN_TYPES:
        graphql_type = SCHEMA.type_map[type_name]
        if not is_object_type(graphql_type) or type_name in SUBSCRIPTION_ONLY:
            continue
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, field in graphql_type.fields.items():
            if (type_name in {"Query", "Mutation"} or field.args) and (type_name, field_name) not in PUBLISH_FIELDS:
                fields.append((type_name, field_name))
    return fields


def test_every_resolvable_field_has_a_lambda_resolver() -> None:
    missing = []
    for type_name, field_name in _resolvable_fields():
        # Powertools keeps routes in per-app registries; batch routes (Item.movements) in their own.
        apps = [queries_app, mutations_app]
        registries = [r for app in apps for r in (app._resolver_registry, app._batch_resolver_registry)]
        if not any(registry.find_resolver(type_name, field_name) for registry in registries):
            missing.append(f"{type_name}.{field_name}")
    assert missing == []
    assert ("Item", "movements") in _resolvable_fields()


def test_queries_handler_serves_no_mutation() -> None:
    assert queries_app._resolver_registry.find_resolver("Mutation", "createItem") is None


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    undescribed = []
    for type_name in OWN_TYPES:
        graphql_type = SCHEMA.type_map[type_name]
        if not graphql_type.description:
            undescribed.append(type_name)
        if is_enum_type(graphql_type):
            undescribed += [f"{type_name}.{n}" for n, v in graphql_type.values.items() if not v.description]
        if is_object_type(graphql_type) or is_input_object_type(graphql_type):
            fields = graphql_type.fields
            undescribed += [f"{type_name}.{n}" for n, f in fields.items() if not f.description]
    assert undescribed == []


def test_views_render_exactly_the_schema_fields() -> None:
    level = Level("MAIN", 1, {5: 1})
    item = Item("i", "S", "n", None, "c", Decimal(1), 1, 0, ItemStatus.AVAILABLE, 1, "t", "t", 1, {"MAIN": level})
    movement = StockMovement("m", "i", 1, 1, MovementReason.RECEIVED, None, "t", 1)
    reservation = Reservation("r", "MAIN", (OrderLine("i", 1),), 5, None, "t", "f", ReservationStatus.ACTIVE)
    item_view = views.item_view(item, 0)
    assert set(item_view) == set(SCHEMA.type_map["Item"].fields) - {"movements"}
    (level_view,) = item_view["levels"]
    assert set(level_view) == set(SCHEMA.type_map["StockLevel"].fields)
    assert set(views.movement_view(movement)) == set(SCHEMA.type_map["StockMovement"].fields)
    assert set(views.location_view(MAIN_LOCATION)) == set(SCHEMA.type_map["Location"].fields)
    reservation_view = views.reservation_view(reservation, 0)
    assert set(reservation_view) == set(SCHEMA.type_map["Reservation"].fields)
    assert set(reservation_view["lines"][0]) == set(SCHEMA.type_map["ReservationLine"].fields)


def test_schema_enums_match_the_domain_enums() -> None:
    assert set(SCHEMA.type_map["ItemStatus"].values) == {s.value for s in ItemStatus}
    assert set(SCHEMA.type_map["MovementReason"].values) == {r.value for r in MovementReason}
    assert set(SCHEMA.type_map["ReservationStatus"].values) == {s.value for s in ReservationStatus}


def test_subscriptions_fire_on_the_contract_mutations() -> None:
    subscription = SCHEMA.type_map["Subscription"]
    assert isinstance(subscription, GraphQLObjectType)
    triggers = {}
    for name, field in subscription.fields.items():
        (directive,) = [d for d in field.ast_node.directives if d.name.value == "aws_subscribe"]
        triggers[name] = [v.value for v in directive.arguments[0].value.values]
    # Only the publish mutations: the stream publishes every change, a mutation's own included (no double delivery).
    assert triggers == {channel.subscription_field: [channel.publish_field] for channel in CHANNELS.values()}
