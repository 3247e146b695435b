"""Hold expiry on AWS: the holds queue (encrypted, TLS only, a dead-letter queue), the expiry handler wired to it
with partial batch failures, the two functions that send timers, least privilege, and the alarms."""

from __future__ import annotations

import json
from typing import Any

from infra.expiry import QUEUE_POLL_ACTIONS, RETENTION, VISIBILITY_TIMEOUT_FUNCTION_TIMEOUTS
from infra.functions import EXPIRY_ACTIONS
from inventory.config import HOLDS_QUEUE_URL_VARIABLE
from inventory.expiry import MAX_DELAY_SECONDS
from resolvers.metrics import HOLDS_EXPIRED
from tests.infra.conftest import Synthesized, logical_id
from tests.infra.test_events import _grants
from tests.infra.test_functions import _actions, _function, _role_statements, _table_arn


def _queue_id(synth: Synthesized, name: str = "Holds") -> str:
    return logical_id(synth, "AWS::SQS::Queue", f"Expiry/{name}")


def _queue_arn(synth: Synthesized, name: str = "Holds") -> dict[str, Any]:
    return {"Fn::GetAtt": [_queue_id(synth, name), "Arn"]}


def _alarm_on(synth: Synthesized, metric_name: str, queue_id: str) -> dict[str, Any]:
    alarm: dict[str, Any]
    (alarm,) = [
        a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == metric_name
        and a["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
    ]
    return alarm


def test_the_holds_queue_is_encrypted_tls_only_and_gives_up_on_a_timer_to_its_dead_letter_queue(
    env: Synthesized,
) -> None:
    queues = env.resources("AWS::SQS::Queue")
    holds = queues[_queue_id(env)]["Properties"]
    dead_letters = queues[_queue_id(env, "HoldsDeadLetters")]["Properties"]

    assert holds["SqsManagedSseEnabled"] is dead_letters["SqsManagedSseEnabled"] is True  # no KMS key to grant
    assert "KmsMasterKeyId" not in holds and "KmsMasterKeyId" not in dead_letters
    assert holds["RedrivePolicy"] == {
        "deadLetterTargetArn": _queue_arn(env, "HoldsDeadLetters"),
        "maxReceiveCount": env.config.expiry.max_receive_count,
    }
    assert holds["MessageRetentionPeriod"] == dead_letters["MessageRetentionPeriod"] == RETENTION.to_seconds()
    # A message comes back only once the function has had time to retry it (Lambda's advice: 6 timeouts).
    function_timeout = _function(env, "Expiry")["Properties"]["Timeout"]
    assert holds["VisibilityTimeout"] == VISIBILITY_TIMEOUT_FUNCTION_TIMEOUTS * function_timeout >= 6 * function_timeout
    tls_only = [
        queue["Ref"]
        for policy in env.resources("AWS::SQS::QueuePolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for queue in policy["Properties"]["Queues"]
    ]
    assert {_queue_id(env), _queue_id(env, "HoldsDeadLetters")} <= set(tls_only)


def test_the_queue_feeds_the_expiry_handler_reporting_failed_messages(env: Synthesized) -> None:
    mapping_id = logical_id(env, "AWS::Lambda::EventSourceMapping", "Expiry/FromHolds")
    mapping = env.resources("AWS::Lambda::EventSourceMapping")[mapping_id]
    properties = mapping["Properties"]
    function = _function(env, "Expiry")["Properties"]

    assert function["Handler"] == "resolvers.expiry.handler"
    assert properties["EventSourceArn"] == _queue_arn(env)
    assert properties["FunctionName"] == {"Ref": logical_id(env, "AWS::Lambda::Function", "Functions/Expiry")}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]  # Powertools' partial batch response
    assert properties["BatchSize"] == env.config.expiry.batch_size == 10
    assert properties["ScalingConfig"] == {"MaximumConcurrency": env.config.expiry.max_concurrency}
    # Lambda checks the role's rights when it makes the mapping: the policy comes first.
    role_id = function["Role"]["Fn::GetAtt"][0]
    assert logical_id(env, "AWS::IAM::Policy", "Functions/ExpiryRole/DefaultPolicy") in mapping["DependsOn"]
    assert role_id in mapping["DependsOn"]


def test_the_stream_handler_and_the_expiry_handler_know_the_queue_and_only_they_may_send_to_it(
    env: Synthesized,
) -> None:
    queue_arn = _queue_arn(env)
    for name in ("Stream", "Expiry"):
        variables = _function(env, name)["Properties"]["Environment"]["Variables"]
        assert variables[HOLDS_QUEUE_URL_VARIABLE] == {"Ref": _queue_id(env)}
    senders = [
        policy["Properties"]["Roles"]
        for policy in env.resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "sqs:SendMessage" in _actions(statement)
        and queue_arn in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
    ]
    assert sorted(json.dumps(roles) for roles in senders) == sorted(
        json.dumps([{"Ref": _function(env, name)["Properties"]["Role"]["Fn::GetAtt"][0]}])
        for name in ("Stream", "Expiry")
    )
    assert all(
        _function(env, name)["Properties"]["Environment"]["Variables"].get(HOLDS_QUEUE_URL_VARIABLE) is None
        for name in ("Queries", "Mutations")
    )


def test_the_expiry_handler_may_only_poll_and_send_to_its_queue_read_and_put_items_and_read_its_settings(
    env: Synthesized,
) -> None:
    statements = [
        s for s in _role_statements(env, "Expiry") if not any(a.startswith(("logs:", "xray:")) for a in _actions(s))
    ]

    settings = next(s["Resource"] for s in statements if _actions(s) == ["ssm:GetParametersByPath"])
    assert _grants(statements) == _grants(
        [
            {"Action": list(EXPIRY_ACTIONS), "Resource": _table_arn(env)},
            {"Action": "ssm:GetParametersByPath", "Resource": settings},
            {"Action": list(QUEUE_POLL_ACTIONS), "Resource": _queue_arn(env)},
            {"Action": "sqs:SendMessage", "Resource": _queue_arn(env)},  # the next hop of a hold over 15 minutes
        ]
    )
    # It reads the reservation and the items, and puts the tidied items (a transaction of puts for several): it
    # deletes nothing, updates nothing in place, and queries no index.
    assert set(EXPIRY_ACTIONS) == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem"}
    assert all(s["Effect"] == "Allow" for s in statements)


def test_timers_waiting_too_long_or_given_up_on_raise_alarms(env: Synthesized) -> None:
    thresholds = env.config.monitoring.thresholds
    age = _alarm_on(env, "ApproximateAgeOfOldestMessage", _queue_id(env))
    dead = _alarm_on(env, "ApproximateNumberOfMessagesVisible", _queue_id(env, "HoldsDeadLetters"))
    topic = {"Ref": env.one("AWS::SNS::Topic")[0]}

    # A timer may wait SQS's longest delay before it can be received: the threshold lies beyond it.
    assert (age["Statistic"], age["Threshold"]) == ("Maximum", thresholds.holds_oldest_message_age_seconds)
    assert age["Threshold"] > MAX_DELAY_SECONDS
    assert (dead["Statistic"], dead["Threshold"]) == ("Maximum", thresholds.holds_dead_letters)
    assert age["AlarmActions"] == dead["AlarmActions"] == [topic]
    expiry_id = logical_id(env, "AWS::Lambda::Function", "Functions/Expiry")
    errors = [
        a["Properties"]
        for a in env.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "Errors"
        and a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": expiry_id}}]
    ]
    assert len(errors) == 1


def test_the_dashboard_charts_the_timers_and_the_holds_expired(env: Synthesized) -> None:
    (_, dashboard) = env.one("AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])

    assert f'\\"Inventory/{env.config.name}\\",\\"{HOLDS_EXPIRED}\\",\\"service\\",\\"inventory\\"' in body
    assert '\\"AWS/SQS\\",\\"ApproximateAgeOfOldestMessage\\"' in body
    for queue in ("Holds", "HoldsDeadLetters"):
        assert _queue_id(env, queue) in body
