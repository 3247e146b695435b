"""Alarms to an SNS topic, thresholds from config, and a dashboard with the business metrics."""

from __future__ import annotations

import json
from typing import Any

from resolvers.metrics import BUSINESS_METRICS, EVENTS_PUBLISHED, METRICS_NAMESPACE_VARIABLE, STREAM_RECORDS_FAILED
from tests.infra.conftest import Synthesized, logical_id


def _alarms(synth: Synthesized) -> list[dict[str, Any]]:
    return [alarm["Properties"] for alarm in synth.resources("AWS::CloudWatch::Alarm").values()]


def _simple_alarms(synth: Synthesized, namespace: str, metric_name: str) -> list[dict[str, Any]]:
    return [a for a in _alarms(synth) if a.get("Namespace") == namespace and a.get("MetricName") == metric_name]


def _math_alarm(synth: Synthesized, metric_name: str) -> dict[str, Any]:
    (alarm,) = [
        a
        for a in _alarms(synth)
        if any(m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == metric_name for m in a.get("Metrics", []))
    ]
    return alarm


def test_every_alarm_notifies_the_alarm_topic(any_env: Synthesized) -> None:
    topic_id = any_env.one("AWS::SNS::Topic")[0]

    assert len(_alarms(any_env)) == 21
    assert all(alarm["AlarmActions"] == [{"Ref": topic_id}] for alarm in _alarms(any_env))
    assert all(alarm["TreatMissingData"] == "notBreaching" for alarm in _alarms(any_env))


def test_appsync_5xx_errors_and_p99_latency_raise_alarms(env: Synthesized) -> None:
    thresholds = env.config.monitoring.thresholds
    api_dimension = [
        {"Name": "GraphQLAPIId", "Value": {"Fn::GetAtt": [env.one("AWS::AppSync::GraphQLApi")[0], "ApiId"]}}
    ]
    (errors,) = _simple_alarms(env, "AWS/AppSync", "5XXError")
    (latency,) = _simple_alarms(env, "AWS/AppSync", "Latency")

    assert (errors["Statistic"], errors["Threshold"], errors["Dimensions"]) == (
        "Sum",
        thresholds.appsync_5xx_errors,
        api_dimension,
    )
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p99", thresholds.appsync_p99_latency_ms)


def test_lambda_errors_throttles_and_p99_duration_near_the_timeout_raise_alarms(env: Synthesized) -> None:
    thresholds = env.config.monitoring.thresholds
    timeouts = {
        "Queries": env.config.functions.timeout_seconds,
        "Mutations": env.config.functions.timeout_seconds,
        "Stream": env.config.events.timeout_seconds,
        "Expiry": env.config.expiry.timeout_seconds,
    }
    function_ids = {name: logical_id(env, "AWS::Lambda::Function", f"Functions/{name}") for name in timeouts}

    for metric_name, statistic, threshold in (
        ("Errors", "Sum", lambda _: thresholds.lambda_errors),
        ("Throttles", "Sum", lambda _: thresholds.lambda_throttles),
        ("Duration", "p99", lambda name: timeouts[name] * 1000 * thresholds.lambda_p99_duration_share_of_timeout),
    ):
        alarms = {a["Dimensions"][0]["Value"]["Ref"]: a for a in _simple_alarms(env, "AWS/Lambda", metric_name)}
        assert sorted(alarms) == sorted(function_ids.values())
        for name, function_id in function_ids.items():
            alarm = alarms[function_id]
            assert alarm.get("Statistic", alarm.get("ExtendedStatistic")) == statistic
            assert alarm["Threshold"] == threshold(name)


def test_the_stream_handler_falling_behind_or_giving_up_on_records_raises_alarms(env: Synthesized) -> None:
    thresholds = env.config.monitoring.thresholds
    stream_id = logical_id(env, "AWS::Lambda::Function", "Functions/Stream")
    queue_id = logical_id(env, "AWS::SQS::Queue", "Events/FailedBatches")
    (iterator_age,) = _simple_alarms(env, "AWS/Lambda", "IteratorAge")
    (failed,) = [
        alarm
        for alarm in _simple_alarms(env, "AWS/SQS", "ApproximateNumberOfMessagesVisible")
        if alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0] == queue_id
    ]

    assert (iterator_age["Statistic"], iterator_age["Threshold"], iterator_age["Dimensions"]) == (
        "Maximum",
        thresholds.stream_iterator_age_ms,
        [{"Name": "FunctionName", "Value": {"Ref": stream_id}}],
    )
    assert (failed["Statistic"], failed["Threshold"], failed["Dimensions"]) == (
        "Maximum",
        thresholds.stream_failed_batches,
        [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
    )


def test_stream_records_reported_failed_raise_an_alarm_on_the_handlers_own_metric(env: Synthesized) -> None:
    """A partial batch failure is a successful invocation for Lambda (no Errors): only the handler's count shows it."""
    stream = env.resources("AWS::Lambda::Function")[logical_id(env, "AWS::Lambda::Function", "Functions/Stream")]
    namespace = stream["Properties"]["Environment"]["Variables"][METRICS_NAMESPACE_VARIABLE]  # where it emits
    (alarm,) = _simple_alarms(env, namespace, STREAM_RECORDS_FAILED)

    assert STREAM_RECORDS_FAILED == "StreamRecordsFailed"
    assert (alarm["Statistic"], alarm["Threshold"], alarm["Dimensions"]) == (
        "Sum",
        env.config.monitoring.thresholds.stream_records_failed,
        [{"Name": "service", "Value": "inventory"}],
    )
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_dynamodb_throttled_requests_and_system_errors_raise_alarms(env: Synthesized) -> None:
    thresholds = env.config.monitoring.thresholds
    table_id = env.one("AWS::DynamoDB::GlobalTable")[0]

    for metric_name, threshold in (
        ("ThrottledRequests", thresholds.dynamodb_throttled_requests),
        ("SystemErrors", thresholds.dynamodb_system_errors),
    ):
        alarm = _math_alarm(env, metric_name)
        stats = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
        operations = {d["Value"] for s in stats for d in s["Metric"]["Dimensions"] if d["Name"] == "Operation"}
        tables = {json.dumps(d["Value"]) for s in stats for d in s["Metric"]["Dimensions"] if d["Name"] == "TableName"}

        assert alarm["Threshold"] == threshold
        assert operations == {"GetItem", "BatchGetItem", "Query", "PutItem", "TransactWriteItems"}
        assert tables == {json.dumps({"Ref": table_id})}


def test_the_alarm_email_is_subscribed_when_the_config_names_one(
    dev: Synthesized, prod: Synthesized, variant: Synthesized
) -> None:
    (_, subscription) = variant.one("AWS::SNS::Subscription")

    assert (subscription["Properties"]["Protocol"], subscription["Properties"]["Endpoint"]) == (
        "email",
        "ops@example.com",
    )
    assert dev.resources("AWS::SNS::Subscription") == prod.resources("AWS::SNS::Subscription") == {}


def test_the_dashboard_shows_the_business_and_stream_metrics_and_every_alarm(env: Synthesized) -> None:
    (_, dashboard) = env.one("AWS::CloudWatch::Dashboard")
    body = json.dumps(dashboard["Properties"]["DashboardBody"])

    assert BUSINESS_METRICS == ("StockAdjusted", "OrdersFulfilled", "InsufficientStock")
    for metric_name in (*BUSINESS_METRICS, EVENTS_PUBLISHED, STREAM_RECORDS_FAILED):
        assert f'\\"Inventory/{env.config.name}\\",\\"{metric_name}\\",\\"service\\",\\"inventory\\"' in body
    for alarm_id in env.resources("AWS::CloudWatch::Alarm"):
        assert alarm_id in body
    assert "DashboardName" not in dashboard["Properties"]
