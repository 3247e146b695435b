"""The stack as a whole: environment selection, outputs, tags, and nothing hard-coded that a user did not ask for."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

from infra.app import configure
from infra.config import ENVIRONMENTS
from tests.infra.conftest import CDK_JSON, ROOT, Synthesized

PHYSICAL_NAME_PROPERTIES = ("TableName", "FunctionName", "RoleName", "TopicName", "DashboardName", "AlarmName")
POWERTOOLS_PUBLISHER_ACCOUNT = "017000801446"  # the AWS account that publishes the Powertools layer


def test_cdk_json_runs_the_app_and_defaults_to_dev() -> None:
    assert CDK_JSON["app"].endswith("python -m infra.app")
    assert CDK_JSON["context"]["env"] == "dev"


def test_synthesizing_the_stack_imports_no_powertools(tmp_path: Path) -> None:
    """The stack reads the resolvers' plain constants (metric names), never their runtime: synthesis stays free of the
    Lambda's dependencies."""
    code = "import sys\nimport infra.app\ninfra.app.main()\nprint(sorted(m for m in sys.modules if 'powertools' in m))"
    env = {**os.environ, "CDK_OUTDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)

    assert (tmp_path / "InventoryApi-dev.template.json").is_file()
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_env_context_selects_the_environment() -> None:
    for name in ENVIRONMENTS:
        assert configure(cdk.App(context={"env": name})) == ENVIRONMENTS[name]


def test_an_unknown_environment_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown environment 'staging': choose one of dev, prod"):
        configure(cdk.App(context={"env": "staging"}))


def test_the_alarm_email_can_come_from_the_context() -> None:
    config = configure(cdk.App(context={"env": "prod", "alarmEmail": "oncall@example.com"}))

    assert config.monitoring.alarm_email == "oncall@example.com"
    assert config.table == ENVIRONMENTS["prod"].table


def test_the_stack_outputs_the_endpoints_the_api_key_id_and_the_table_name(env: Synthesized) -> None:
    outputs = env.json["Outputs"]
    api_id = env.one("AWS::AppSync::GraphQLApi")[0]
    key_id = env.one("AWS::AppSync::ApiKey")[0]

    assert {name: output["Value"] for name, output in outputs.items()} == {
        "GraphqlUrl": {"Fn::GetAtt": [api_id, "GraphQLUrl"]},
        "RealtimeUrl": {"Fn::GetAtt": [api_id, "RealtimeUrl"]},
        "ApiKeyId": {"Fn::GetAtt": [key_id, "ApiKeyId"]},
        "TableName": {"Ref": env.one("AWS::DynamoDB::GlobalTable")[0]},
        "EventBusName": {"Ref": env.one("AWS::Events::EventBus")[0]},
    }


def test_every_taggable_resource_carries_the_stack_tags(env: Synthesized) -> None:
    expected = {"project": "inventory-api", "environment": env.config.name}
    tagged = 0
    for resource in env.json["Resources"].values():
        tags = resource.get("Properties", {}).get("Tags")
        if tags is None:
            continue
        tagged += 1
        as_dict = tags if isinstance(tags, dict) else {tag["Key"]: tag["Value"] for tag in tags}
        assert expected.items() <= as_dict.items()
    assert tagged > 20


def test_no_account_or_region_is_hard_coded(any_env: Synthesized) -> None:
    text = json.dumps(any_env.json)

    assert set(re.findall(r"\b\d{12}\b", text)) <= {POWERTOOLS_PUBLISHER_ACCOUNT}
    assert re.findall(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b", text) == []
    assert any_env.stack.account == cdk.Aws.ACCOUNT_ID and any_env.stack.region == cdk.Aws.REGION


def test_no_resource_has_a_physical_name_nobody_asked_for(any_env: Synthesized) -> None:
    """Only the Parameter Store paths (asked for by issue #4) and AppSync's log group (whose name AppSync dictates)
    are named; CloudFormation names everything else."""
    for resource in any_env.json["Resources"].values():
        properties = resource.get("Properties", {})
        # A {"Ref": ...} names another resource (the function an event source mapping invokes), not this one.
        named = [name for name in PHYSICAL_NAME_PROPERTIES if name in properties and "Ref" not in properties[name]]
        assert named == []
        if resource["Type"] == "AWS::SSM::Parameter":
            assert properties["Name"].startswith(f"/inventory/{any_env.config.name}/")
    named_log_groups = [
        group["Properties"]["LogGroupName"]
        for group in any_env.resources("AWS::Logs::LogGroup").values()
        if "LogGroupName" in group["Properties"]
    ]
    assert [name["Fn::Join"][1][0] for name in named_log_groups] == ["/aws/appsync/apis/"]


def test_prod_retains_the_table_and_the_log_groups_and_dev_deletes_them(env: Synthesized) -> None:
    policy = {"prod": "Retain", "dev": "Delete"}[env.config.name]
    kept = [
        resource
        for resource in env.json["Resources"].values()
        if resource["Type"] in {"AWS::DynamoDB::GlobalTable", "AWS::Logs::LogGroup"}
    ]

    assert len(kept) == 7  # the table, the four functions' log groups, AppSync's, the bus's events
    assert {(r["DeletionPolicy"], r["UpdateReplacePolicy"]) for r in kept} == {(policy, policy)}
