"""The events: the stream handler wired to the table's stream (partial batch failures, bisect, bounded retries, a
failure queue), its least privilege, and the bus with its rule to a log group."""

from __future__ import annotations

import json
from typing import Any

from infra.events import STREAM_LIST_ACTION, STREAM_READ_ACTIONS
from infra.functions import STREAM_HANDLER
from inventory.config import EVENT_BUS_NAME_VARIABLE, GRAPHQL_URL_VARIABLE, HOLDS_QUEUE_URL_VARIABLE
from inventory.events import CHANNELS, SOURCE
from resolvers.metrics import METRICS_NAMESPACE_VARIABLE
from tests.infra.conftest import RETENTION_DAYS, Synthesized, logical_id
from tests.infra.test_functions import _actions, _function, _role_statements


def _mapping(synth: Synthesized) -> dict[str, Any]:
    """The table stream's mapping (the holds queue has one too: tests/infra/test_expiry.py)."""
    return synth.resources("AWS::Lambda::EventSourceMapping")[
        logical_id(synth, "AWS::Lambda::EventSourceMapping", "Events/FromStream")
    ]


def _ref(synth: Synthesized, resource_type: str, path: str) -> dict[str, str]:
    return {"Ref": logical_id(synth, resource_type, path)}


def _arn(synth: Synthesized, resource_type: str, path: str, attribute: str = "Arn") -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id(synth, resource_type, path), attribute]}


def test_the_stream_handler_runs_like_the_other_functions_with_the_api_url_and_the_bus_name(env: Synthesized) -> None:
    properties = _function(env, "Stream")["Properties"]
    api_id = env.one("AWS::AppSync::GraphQLApi")[0]

    assert properties["Handler"] == STREAM_HANDLER == "resolvers.stream.handler"
    assert (properties["Runtime"], properties["Architectures"]) == ("python3.13", ["arm64"])
    assert properties["Layers"] == _function(env, "Queries")["Properties"]["Layers"]
    assert properties["Code"] == _function(env, "Queries")["Properties"]["Code"]
    assert properties["Timeout"] == env.config.events.timeout_seconds
    variables = properties["Environment"]["Variables"]
    assert variables[GRAPHQL_URL_VARIABLE] == {"Fn::GetAtt": [api_id, "GraphQLUrl"]}
    assert variables[EVENT_BUS_NAME_VARIABLE] == {"Ref": env.one("AWS::Events::EventBus")[0]}
    assert variables[HOLDS_QUEUE_URL_VARIABLE] == _ref(env, "AWS::SQS::Queue", "Expiry/Holds")
    own = {GRAPHQL_URL_VARIABLE, EVENT_BUS_NAME_VARIABLE, HOLDS_QUEUE_URL_VARIABLE}
    assert not any(name.startswith("INVENTORY_") for name in variables.keys() - own)
    # resolvers/stream.py emits EventsPublished and StreamRecordsFailed only where the namespace is set.
    queries_variables = _function(env, "Queries")["Properties"]["Environment"]["Variables"]
    assert variables[METRICS_NAMESPACE_VARIABLE] == queries_variables[METRICS_NAMESPACE_VARIABLE]
    assert variables[METRICS_NAMESPACE_VARIABLE] == f"Inventory/{env.config.name}"


def test_the_stream_handler_logs_to_its_own_log_group(env: Synthesized) -> None:
    log_group_id = _function(env, "Stream")["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]

    assert log_group_id != _function(env, "Queries")["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    assert (
        env.resources("AWS::Logs::LogGroup")[log_group_id]["Properties"]["RetentionInDays"]
        == RETENTION_DAYS[env.config.functions.log_retention]
    )


def test_the_table_stream_feeds_the_handler_in_order_reporting_failed_records(env: Synthesized) -> None:
    mapping = _mapping(env)["Properties"]
    config = env.config.events

    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [env.one("AWS::DynamoDB::GlobalTable")[0], "StreamArn"]}
    assert mapping["FunctionName"] == _ref(env, "AWS::Lambda::Function", "Functions/Stream")
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]  # Powertools' partial batch response
    assert mapping["ParallelizationFactor"] == 1  # one batch per shard at a time: each item's events in order
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (
        config.batch_size,
        config.max_batching_window_seconds,
    )


def test_a_failing_batch_is_split_retried_a_bounded_time_then_recorded_in_the_failure_queue(env: Synthesized) -> None:
    mapping = _mapping(env)
    properties = mapping["Properties"]

    assert properties["BisectBatchOnFunctionError"] is True
    assert properties["MaximumRetryAttempts"] == env.config.events.retry_attempts >= 0
    assert properties["MaximumRecordAgeInSeconds"] == env.config.events.max_record_age_seconds > 0
    assert properties["DestinationConfig"] == {
        "OnFailure": {"Destination": _arn(env, "AWS::SQS::Queue", "Events/FailedBatches")}
    }
    # Lambda checks the role's rights when it makes the mapping: the policy comes first.
    role_id = _function(env, "Stream")["Properties"]["Role"]["Fn::GetAtt"][0]
    assert logical_id(env, "AWS::IAM::Policy", "Functions/StreamRole/DefaultPolicy") in mapping["DependsOn"]
    assert role_id in mapping["DependsOn"]


def test_the_failure_queue_is_encrypted_kept_14_days_and_has_its_own_dead_letter_queue(env: Synthesized) -> None:
    queues = env.resources("AWS::SQS::Queue")
    failure = queues[logical_id(env, "AWS::SQS::Queue", "Events/FailedBatches")]["Properties"]
    dead_letters_id = logical_id(env, "AWS::SQS::Queue", "Events/FailedBatchesDeadLetters")

    assert failure["SqsManagedSseEnabled"] is True
    assert failure["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert failure["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dead_letters_id, "Arn"]}
    assert queues[dead_letters_id]["Properties"]["SqsManagedSseEnabled"] is True
    # Both refuse plain HTTP.
    policies = [p["Properties"] for p in env.resources("AWS::SQS::QueuePolicy").values()]
    insecure = [
        queue
        for p in policies
        for s in p["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for queue in p["Queues"]
    ]
    assert sorted(q["Ref"] for q in insecure) == sorted(queues)


def _grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) pairs, whatever statements CDK merged them into (same resources: one statement)."""
    return {
        (action, json.dumps(resource, sort_keys=True))
        for s in statements
        for action in _actions(s)
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }


def test_the_stream_handler_may_only_read_and_list_the_stream_publish_put_events_report_failures_and_send_timers(
    env: Synthesized,
) -> None:
    api_arn = {"Fn::GetAtt": [env.one("AWS::AppSync::GraphQLApi")[0], "Arn"]}
    statements = _role_statements(env, "Stream")
    granted = {(a, r) for a, r in _grants(statements) if not a.startswith(("logs:", "xray:"))}

    stream_arn = {"Fn::GetAtt": [env.one("AWS::DynamoDB::GlobalTable")[0], "StreamArn"]}
    assert granted == _grants(
        [
            {"Action": list(STREAM_READ_ACTIONS), "Resource": stream_arn},
            {"Action": STREAM_LIST_ACTION, "Resource": "*"},  # ListStreams takes no resource-level permission
            {
                "Action": "appsync:GraphQL",
                "Resource": [
                    {"Fn::Join": ["", [api_arn, f"/types/Mutation/fields/{channel.publish_field}"]]}
                    for channel in CHANNELS.values()
                ],
            },
            {"Action": "events:PutEvents", "Resource": _arn(env, "AWS::Events::EventBus", "Events/Bus")},
            {"Action": "sqs:SendMessage", "Resource": _arn(env, "AWS::SQS::Queue", "Events/FailedBatches")},
            {"Action": "sqs:SendMessage", "Resource": _arn(env, "AWS::SQS::Queue", "Expiry/Holds")},  # hold timers
        ]
    )
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)


def test_the_bus_keeps_every_inventory_event_in_a_log_group_with_a_retention(env: Synthesized) -> None:
    (_, rule) = env.one("AWS::Events::Rule")
    properties = rule["Properties"]
    log_group_id = logical_id(env, "AWS::Logs::LogGroup", "Events/BusLogs")
    (target,) = properties["Targets"]

    assert properties["EventBusName"] == _ref(env, "AWS::Events::EventBus", "Events/Bus")
    assert properties["EventPattern"] == {"source": [SOURCE]}
    assert target["Arn"]["Fn::Join"][1][-2:] == [":log-group:", {"Ref": log_group_id}]
    log_group = env.resources("AWS::Logs::LogGroup")[log_group_id]["Properties"]
    assert log_group["RetentionInDays"] == RETENTION_DAYS[env.config.functions.log_retention]


def test_eventbridge_may_write_the_bus_log_group_and_nothing_else(env: Synthesized) -> None:
    (_, policy) = env.one("AWS::Logs::ResourcePolicy")
    document = "".join(
        part if isinstance(part, str) else f"<{part['Fn::GetAtt'][0]}>"
        for part in policy["Properties"]["PolicyDocument"]["Fn::Join"][1]
    )
    log_group_id = logical_id(env, "AWS::Logs::LogGroup", "Events/BusLogs")

    assert '"Principal":{"Service":"events.amazonaws.com"}' in document
    assert '"Action":["logs:CreateLogStream","logs:PutLogEvents"]' in document
    assert f'"Resource":"<{log_group_id}>"' in document
