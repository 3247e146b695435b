"""The AppSync API: schema, authorization, limits, logging, tracing, and a resolver for every field that needs one."""

from __future__ import annotations

import time
from typing import Any

from graphql import (
    FieldDefinitionNode,
    GraphQLObjectType,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    TypeNode,
    is_object_type,
    parse,
)

from infra.api import PUBLISH_CODE_PATH, RESOLVER_CODE_PATH, SCHEMA_PATH, SUBSCRIPTION_CODE_PATH, schema_auth
from infra.appsync_schema import AUTH_DIRECTIVES, appsync_definition
from inventory.events import CHANNELS
from resolvers.handlers import mutations_app, queries_app
from tests.graphql_schema import appsync_schema
from tests.infra.conftest import RETENTION_DAYS, Synthesized, logical_id

DAY = 24 * 3600


def _api(synth: Synthesized) -> dict[str, Any]:
    return synth.one("AWS::AppSync::GraphQLApi")[1]["Properties"]


def _resolvers(synth: Synthesized) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (r["Properties"]["TypeName"], r["Properties"]["FieldName"]): r["Properties"]
        for r in synth.resources("AWS::AppSync::Resolver").values()
    }


def _fields_needing_a_resolver() -> set[tuple[str, str]]:
    """From schema.graphql: every Query, Mutation and Subscription field (a subscription's resolver sets its
    filters), and every other field that takes arguments (AppSync resolves a field without arguments from its parent
    object)."""
    schema = appsync_schema()
    fields = set()
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not is_object_type(graphql_type):
            continue
        assert isinstance(graphql_type, GraphQLObjectType)
        for field_name, field in graphql_type.fields.items():
            if type_name in {"Query", "Mutation", "Subscription"} or field.args:
                fields.add((type_name, field_name))
    return fields


def _data_source(synth: Synthesized, resolver: dict[str, Any]) -> dict[str, Any]:
    (data_source,) = [
        source["Properties"]
        for source in synth.resources("AWS::AppSync::DataSource").values()
        if source["Properties"]["Name"] == resolver["DataSourceName"]
    ]
    return data_source


def _event_fields() -> set[tuple[str, str]]:
    return {
        (type_name, field_name)
        for channel in CHANNELS.values()
        for type_name, field_name in (("Mutation", channel.publish_field), ("Subscription", channel.subscription_field))
    }


def _function_of(synth: Synthesized, resolver: dict[str, Any]) -> str:
    """'Queries' or 'Mutations': the function behind a resolver's data source."""
    (data_source,) = [
        source["Properties"]
        for source in synth.resources("AWS::AppSync::DataSource").values()
        if source["Properties"]["Name"] == resolver["DataSourceName"]
    ]
    function_id = data_source["LambdaConfig"]["LambdaFunctionArn"]["Fn::GetAtt"][0]
    return next(name for name in ("Queries", "Mutations") if function_id.startswith(f"Functions{name}"))


def test_every_field_that_needs_a_resolver_has_one_and_no_other_field_does(any_env: Synthesized) -> None:
    """A field added to schema.graphql without a resolver in infra/api.py fails here."""
    assert set(_resolvers(any_env)) == _fields_needing_a_resolver()
    assert ("Item", "movements") in _fields_needing_a_resolver()


def test_each_resolver_runs_the_appsync_js_error_mapping_against_the_function_that_serves_its_field(
    any_env: Synthesized,
) -> None:
    """Queries (and Item.movements) go to the read-only function, mutations to the other; each function's
    Powertools app handles the field, as a batch resolver exactly when AppSync batches it."""
    code = RESOLVER_CODE_PATH.read_text()
    apps = {"Queries": queries_app, "Mutations": mutations_app}
    for (type_name, field_name), resolver in _resolvers(any_env).items():
        if (type_name, field_name) in _event_fields():
            continue
        function = _function_of(any_env, resolver)
        app = apps[function]
        batched = "MaxBatchSize" in resolver

        assert resolver["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}
        assert resolver["Code"] == code
        assert resolver["Kind"] == "UNIT"
        assert function == ("Mutations" if type_name == "Mutation" else "Queries")
        registry = app._batch_resolver_registry if batched else app._resolver_registry
        assert registry.find_resolver(type_name, field_name), f"{function} does not serve {type_name}.{field_name}"


def test_the_publish_mutations_and_the_subscriptions_resolve_on_a_none_data_source(any_env: Synthesized) -> None:
    """The publish mutations hand their argument on and the subscriptions set their filters: no function, no table."""
    resolvers = _resolvers(any_env)
    codes = {"Mutation": PUBLISH_CODE_PATH.read_text(), "Subscription": SUBSCRIPTION_CODE_PATH.read_text()}

    assert _event_fields() == {field for field in _fields_needing_a_resolver() if field[0] == "Subscription"} | {
        ("Mutation", name) for name in ("publishItemChanged", "publishStockMovement", "publishLowStock")
    }
    for type_name, field_name in _event_fields():
        resolver = resolvers[(type_name, field_name)]
        assert _data_source(any_env, resolver)["Type"] == "NONE"
        assert resolver["Runtime"] == {"Name": "APPSYNC_JS", "RuntimeVersion": "1.0.0"}
        assert resolver["Code"] == codes[type_name]


def test_the_publish_mutations_admit_aws_iam_only_in_the_deployed_schema(any_env: Synthesized) -> None:
    """Field directives replace the type's in AppSync: @aws_iam alone on a publish mutation shuts out the API key
    and user pools, whatever the Mutation type admits."""
    (_, schema) = any_env.one("AWS::AppSync::GraphQLSchema")
    document = parse(schema["Properties"]["Definition"])
    (mutation,) = [
        d for d in document.definitions if isinstance(d, ObjectTypeDefinitionNode) and d.name.value == "Mutation"
    ]
    directives = {field.name.value: [d.name.value for d in field.directives or ()] for field in mutation.fields or ()}

    for channel in CHANNELS.values():
        assert directives[channel.publish_field] == ["aws_iam"]
    if any_env.config.api.api_key_writes:  # the key writes every other mutation, not these
        assert "aws_api_key" in [d.name.value for d in mutation.directives or ()]


def _named(type_node: TypeNode) -> str:
    while isinstance(type_node, (NonNullTypeNode, ListTypeNode)):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    return type_node.name.value


def test_every_type_a_publish_mutation_returns_admits_aws_iam_in_the_deployed_schema(any_env: Synthesized) -> None:
    """The stream handler calls as AWS IAM, and AppSync checks each field it resolves against the caller's mode: a
    directive on the publish field does not carry over to the type it returns (aws-appsync-community#266), so every
    field of every object type a publish result can reach must admit AWS IAM (its own directives, or else its
    type's)."""
    (_, schema) = any_env.one("AWS::AppSync::GraphQLSchema")
    types = {
        d.name.value: d
        for d in parse(schema["Properties"]["Definition"]).definitions
        if isinstance(d, ObjectTypeDefinitionNode)
    }

    def auth(node: ObjectTypeDefinitionNode | FieldDefinitionNode) -> set[str]:
        return {d.name.value for d in node.directives or ()} & AUTH_DIRECTIVES

    mutation = {field.name.value: field for field in types["Mutation"].fields or ()}
    reached: set[str] = set()
    waiting = [_named(mutation[channel.publish_field].type) for channel in CHANNELS.values()]
    while waiting:
        name = waiting.pop()
        if name in reached or name not in types:  # scalars and enums carry no directive
            continue
        reached.add(name)
        for field in types[name].fields or ():
            assert "aws_iam" in (auth(field) or auth(types[name])), f"{name}.{field.name.value} shuts out AWS IAM"
            waiting.append(_named(field.type))
    assert {"Item", "StockLevel", "StockMovement"} <= reached


def test_item_movements_is_batch_invoked_with_the_configured_batch_size(any_env: Synthesized) -> None:
    resolvers = _resolvers(any_env)
    batched = {field: r["MaxBatchSize"] for field, r in resolvers.items() if "MaxBatchSize" in r}

    assert batched == {("Item", "movements"): any_env.config.api.movements_max_batch_size}
    # The resolver code batch-invokes exactly the fields the API's environment names.
    assert _api(any_env)["EnvironmentVariables"] == {"BATCHED_FIELDS": "Item.movements"}


def test_the_api_serves_the_appsync_rendition_of_schema_graphql_with_the_stack_settings(any_env: Synthesized) -> None:
    (_, schema) = any_env.one("AWS::AppSync::GraphQLSchema")
    written = any_env.assembly_dir / f"{any_env.stack.stack_name}.schema.graphql"

    expected = appsync_definition(SCHEMA_PATH.read_text(), schema_auth(any_env.config.api))
    assert schema["Properties"]["Definition"] == expected
    assert written.read_text() == expected


def test_api_key_is_the_default_and_aws_iam_the_other_mode(env: Synthesized) -> None:
    api = _api(env)

    assert api["AuthenticationType"] == "API_KEY"
    assert api["AdditionalAuthenticationProviders"] == [{"AuthenticationType": "AWS_IAM"}]


def test_the_api_key_expires_after_the_configured_days(env: Synthesized) -> None:
    (_, key) = env.one("AWS::AppSync::ApiKey")
    days = env.config.api.api_key_expiry_days

    expires_in = key["Properties"]["Expires"] - time.time()
    assert (days - 1) * DAY < expires_in <= days * DAY


def test_cognito_user_pools_are_an_opt_in_authorization_mode(variant: Synthesized) -> None:
    providers = _api(variant)["AdditionalAuthenticationProviders"]

    assert providers[0] == {"AuthenticationType": "AWS_IAM"}
    assert providers[1]["AuthenticationType"] == "AMAZON_COGNITO_USER_POOLS"
    assert providers[1]["UserPoolConfig"]["UserPoolId"] == variant.config.api.cognito_user_pool_id


def test_query_depth_and_resolver_count_are_limited(env: Synthesized) -> None:
    env.template.has_resource_properties(
        "AWS::AppSync::GraphQLApi",
        {
            "QueryDepthLimit": env.config.api.query_depth_limit,
            "ResolverCountLimit": env.config.api.resolver_count_limit,
        },
    )
    # Deep enough for the deepest query the schema allows: listItems.items.movements.items.<field>.
    assert env.config.api.query_depth_limit >= 5


def test_introspection_follows_the_config(dev: Synthesized, prod: Synthesized) -> None:
    assert _api(dev)["IntrospectionConfig"] == "ENABLED"
    assert _api(prod)["IntrospectionConfig"] == "DISABLED"


def test_field_logging_and_x_ray_are_on(env: Synthesized) -> None:
    role_id = logical_id(env, "AWS::IAM::Role", "GraphqlApi/LogsRole")

    env.template.has_resource_properties(
        "AWS::AppSync::GraphQLApi",
        {
            "XrayEnabled": True,
            "LogConfig": {
                "CloudWatchLogsRoleArn": {"Fn::GetAtt": [role_id, "Arn"]},
                "ExcludeVerboseContent": True,
                "FieldLogLevel": env.config.api.field_log_level.value,
            },
        },
    )


def test_appsync_logs_to_its_log_group_with_a_retention_and_may_write_nowhere_else(env: Synthesized) -> None:
    api_id = env.one("AWS::AppSync::GraphQLApi")[0]
    log_group_id = logical_id(env, "AWS::Logs::LogGroup", "GraphqlApi/Logs")
    log_group = env.resources("AWS::Logs::LogGroup")[log_group_id]["Properties"]
    role_id = logical_id(env, "AWS::IAM::Role", "GraphqlApi/LogsRole")
    (policy,) = [
        p for p in env.resources("AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
    ]

    assert log_group["LogGroupName"] == {"Fn::Join": ["", ["/aws/appsync/apis/", {"Fn::GetAtt": [api_id, "ApiId"]}]]}
    assert log_group["RetentionInDays"] == RETENTION_DAYS[env.config.functions.log_retention]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}


def test_each_data_source_may_invoke_only_its_function(env: Synthesized) -> None:
    sources = env.resources("AWS::AppSync::DataSource").values()
    lambda_sources = [source for source in sources if source["Properties"]["Type"] == "AWS_LAMBDA"]
    assert len(lambda_sources) == 2
    for data_source in lambda_sources:
        properties = data_source["Properties"]
        function_id = properties["LambdaConfig"]["LambdaFunctionArn"]["Fn::GetAtt"][0]
        role_id = properties["ServiceRoleArn"]["Fn::GetAtt"][0]
        (policy,) = [
            p for p in env.resources("AWS::IAM::Policy").values() if p["Properties"]["Roles"] == [{"Ref": role_id}]
        ]
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        arn = {"Fn::GetAtt": [function_id, "Arn"]}

        assert statement["Action"] == "lambda:InvokeFunction"
        assert statement["Resource"] == [arn, {"Fn::Join": ["", [arn, ":*"]]}]
