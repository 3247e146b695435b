"""The resolver functions: runtime, layer, configuration, logs, and least privilege with reads split from writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.functions import EXPIRY_HANDLER, READ_ACTIONS, WRITE_ACTIONS, pinned_powertools_release
from inventory.config import PAGE_TOKEN_SECRET_ID_VARIABLE, PARAMETER_PATH_VARIABLE
from inventory.table import TABLE
from tests.infra.conftest import RETENTION_DAYS, Synthesized, logical_id

FUNCTIONS = {"Queries": "resolvers.handlers.queries_handler", "Mutations": "resolvers.handlers.mutations_handler"}
# Every function that builds the service (resolvers/runtime.py): the resolvers and the expiry handler.
SERVICES = {**FUNCTIONS, "Expiry": EXPIRY_HANDLER}
# Every DynamoDB action that changes data, and the wildcards that would include one.
DYNAMODB_WRITES = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:*",
    "*",
}


def _function(synth: Synthesized, name: str) -> dict[str, Any]:
    return synth.resources("AWS::Lambda::Function")[logical_id(synth, "AWS::Lambda::Function", f"Functions/{name}")]


def _role_statements(synth: Synthesized, name: str) -> list[dict[str, Any]]:
    """Every statement of every policy attached to the function's role (inline and managed)."""
    role_id = _function(synth, name)["Properties"]["Role"]["Fn::GetAtt"][0]
    role = synth.resources("AWS::IAM::Role")[role_id]["Properties"]
    statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    assert "ManagedPolicyArns" not in role  # no AWS managed policy: every right is listed here
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def _dynamodb_statements(synth: Synthesized, name: str) -> list[dict[str, Any]]:
    statements = _role_statements(synth, name)
    return [s for s in statements if any(a.startswith("dynamodb:") or a == "*" for a in _actions(s))]


def _table_arn(synth: Synthesized) -> dict[str, Any]:
    return {"Fn::GetAtt": [synth.one("AWS::DynamoDB::GlobalTable")[0], "Arn"]}


@pytest.mark.parametrize("name", SERVICES)
def test_each_function_runs_python_3_13_on_arm64_with_its_configured_memory_and_timeout(
    env: Synthesized, name: str
) -> None:
    config = env.config.functions

    env.template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": SERVICES[name],
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "MemorySize": config.memory_mb,
            # A batch of expiries takes longer than an answer (ExpiryConfig).
            "Timeout": env.config.expiry.timeout_seconds if name == "Expiry" else config.timeout_seconds,
            "TracingConfig": {"Mode": "Active"},
        },
    )


@pytest.mark.parametrize("name", SERVICES)
def test_powertools_comes_from_the_aws_layer_resolved_in_the_deployment_region(env: Synthesized, name: str) -> None:
    (layer,) = _function(env, name)["Properties"]["Layers"]

    parameter = env.json["Parameters"][layer["Ref"]]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<String>"
    assert parameter["Default"] == "/aws/service/powertools/python/arm64/python3.13/3.37.0"
    assert pinned_powertools_release() == "3.37.0"


@pytest.mark.parametrize("name", SERVICES)
def test_each_function_finds_its_configuration_through_its_environment(env: Synthesized, name: str) -> None:
    variables = _function(env, name)["Properties"]["Environment"]["Variables"]
    secret_id = env.one("AWS::SecretsManager::Secret")[0]

    assert variables["INVENTORY_TABLE_NAME"] == {"Ref": env.one("AWS::DynamoDB::GlobalTable")[0]}
    assert variables[PARAMETER_PATH_VARIABLE] == f"/inventory/{env.config.name}/config"
    # Only the resolvers serve pages: the expiry handler is not told where the page-token secret is.
    assert variables.get(PAGE_TOKEN_SECRET_ID_VARIABLE) == (None if name == "Expiry" else {"Ref": secret_id})
    assert variables["INVENTORY_CONFIGURATION_MAX_AGE_SECONDS"] == str(
        env.config.functions.configuration_max_age_seconds
    )
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == f"Inventory/{env.config.name}"
    assert "INVENTORY_PAGE_TOKEN_SECRET" not in variables  # the secret's value never sits in the template


@pytest.mark.parametrize("name", SERVICES)
def test_each_function_logs_to_its_own_log_group_with_the_configured_retention(env: Synthesized, name: str) -> None:
    properties = _function(env, name)["Properties"]
    log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = env.resources("AWS::Logs::LogGroup")[log_group_id]

    assert log_group["Properties"]["RetentionInDays"] == RETENTION_DAYS[env.config.functions.log_retention]
    logs_statement = next(s for s in _role_statements(env, name) if "logs:PutLogEvents" in _actions(s))
    assert logs_statement["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}


def test_reserved_concurrency_is_set_where_the_config_sets_it(env: Synthesized) -> None:
    config = env.config.functions
    reserved = {name: _function(env, name)["Properties"].get("ReservedConcurrentExecutions") for name in FUNCTIONS}

    assert reserved == {
        "Queries": config.queries_reserved_concurrency,
        "Mutations": config.mutations_reserved_concurrency,
    }


def test_prod_reserves_concurrency_and_dev_does_not(dev: Synthesized, prod: Synthesized) -> None:
    assert all("ReservedConcurrentExecutions" not in _function(dev, n)["Properties"] for n in FUNCTIONS)
    assert all("ReservedConcurrentExecutions" in _function(prod, n)["Properties"] for n in FUNCTIONS)


def test_the_query_function_cannot_write(env: Synthesized) -> None:
    actions = {action for s in _role_statements(env, "Queries") for action in _actions(s)}

    assert actions & DYNAMODB_WRITES == set()
    assert not any(action.startswith("dynamodb:") and action not in READ_ACTIONS for action in actions)


def test_the_query_function_reads_only_the_table_and_its_indexes(env: Synthesized) -> None:
    (statement,) = _dynamodb_statements(env, "Queries")
    table_arn = _table_arn(env)

    assert (
        sorted(_actions(statement))
        == sorted(READ_ACTIONS)
        == ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]
    )
    assert statement["Resource"] == [
        table_arn,
        *({"Fn::Join": ["", [table_arn, f"/index/{index.name}"]]} for index in TABLE.indexes),
    ]


def test_the_mutation_function_makes_only_its_own_calls_on_the_table(env: Synthesized) -> None:
    (statement,) = _dynamodb_statements(env, "Mutations")

    assert sorted(_actions(statement)) == sorted(WRITE_ACTIONS)
    assert statement["Resource"] == _table_arn(env)  # no write path reads an index


def test_no_function_policy_has_a_wildcard_action(env: Synthesized) -> None:
    for name in (*SERVICES, "Stream"):
        actions = [action for s in _role_statements(env, name) for action in _actions(s)]
        assert [action for action in actions if "*" in action] == []


@pytest.mark.parametrize("name", SERVICES)
def test_each_function_reads_its_settings_by_path(env: Synthesized, name: str) -> None:
    ssm = [s for s in _role_statements(env, name) if any(a.startswith("ssm:") for a in _actions(s))]

    (by_path,) = ssm
    assert _actions(by_path) == ["ssm:GetParametersByPath"]
    assert json.dumps(by_path["Resource"]).endswith(f':parameter/inventory/{env.config.name}/config"]]}}')


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_resolver_function_reads_the_page_token_secret(env: Synthesized, name: str) -> None:
    secrets = [s for s in _role_statements(env, name) if any(a.startswith("secretsmanager:") for a in _actions(s))]

    (secret,) = secrets
    assert "secretsmanager:GetSecretValue" in _actions(secret)
    assert secret["Resource"] == {"Ref": env.one("AWS::SecretsManager::Secret")[0]}


def test_only_the_functions_that_serve_pages_may_read_the_page_token_secret(env: Synthesized) -> None:
    (_, policy) = env.one("AWS::SecretsManager::ResourcePolicy")
    (statement,) = policy["Properties"]["ResourcePolicy"]["Statement"]
    # The resolvers sign and open nextToken values; the expiry handler builds the same service but lists nothing, and
    # the stream handler builds none: neither is granted the secret, and its policy denies them.
    roles = [_function(env, name)["Properties"]["Role"] for name in FUNCTIONS]

    assert (statement["Effect"], statement["Principal"], statement["Action"]) == (
        "Deny",
        {"AWS": "*"},
        "secretsmanager:GetSecretValue",
    )
    assert statement["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": roles}}
    for name in ("Expiry", "Stream"):
        assert not any(a.startswith("secretsmanager:") for s in _role_statements(env, name) for a in _actions(s))


def test_functions_have_no_physical_names(any_env: Synthesized) -> None:
    for function in any_env.resources("AWS::Lambda::Function").values():
        assert "FunctionName" not in function["Properties"]
    for role in any_env.resources("AWS::IAM::Role").values():
        assert "RoleName" not in role["Properties"]


def test_without_x_ray_the_functions_are_not_traced(variant: Synthesized) -> None:
    for name in FUNCTIONS:
        assert _function(variant, name)["Properties"].get("TracingConfig", {}).get("Mode") != "Active"
        assert not any(a.startswith("xray:") for s in _role_statements(variant, name) for a in _actions(s))
