"""CloudWatch alarms (to an SNS topic) on the API, the functions, the table, the events' stream handler and the
holds queue, and a dashboard with those metrics and the business metrics the functions emit."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import MonitoringConfig
from resolvers.metrics import BUSINESS_METRICS, EVENTS_PUBLISHED, HOLDS_EXPIRED, STREAM_RECORDS_FAILED

PERIOD = Duration.minutes(5)
# The DynamoDB operations the functions make (TransactWriteItems carries their deletes).
TABLE_OPERATIONS = [
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.BATCH_GET_ITEM,
    dynamodb.Operation.QUERY,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.TRANSACT_WRITE_ITEMS,
]


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: MonitoringConfig,
        api_id: str,
        functions: tuple[lambda_.Function, ...],
        function_timeout: Duration,
        table: dynamodb.TableV2,
        metrics_namespace: str,
        stream_function: lambda_.Function,
        failure_queue: sqs.Queue,
        holds_queue: sqs.Queue,
        holds_dead_letters: sqs.Queue,
    ) -> None:
        super().__init__(scope, construct_id)
        thresholds = config.thresholds
        self.topic = sns.Topic(self, "AlarmTopic", display_name="Inventory API alarms", enforce_ssl=True)
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        def appsync(metric_name: str, statistic: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/AppSync",
                metric_name=metric_name,
                dimensions_map={"GraphQLAPIId": api_id},
                statistic=statistic,
                period=PERIOD,
            )

        api_5xx = appsync("5XXError", "Sum")
        api_4xx = appsync("4XXError", "Sum")
        api_p99 = appsync("Latency", "p99")
        self._alarm("Api5xxErrors", api_5xx, thresholds.appsync_5xx_errors, "AppSync answered with 5XX errors")
        self._alarm("ApiLatencyP99", api_p99, thresholds.appsync_p99_latency_ms, "AppSync p99 latency (ms) is high")

        for function in functions:
            name = function.node.id
            timeout = function.timeout or function_timeout
            near_timeout_ms = timeout.to_milliseconds() * thresholds.lambda_p99_duration_share_of_timeout
            self._alarm(
                f"{name}Errors",
                function.metric_errors(period=PERIOD),
                thresholds.lambda_errors,
                # The resolvers answer errors instead of raising; the stream handler reports failed records and
                # raises only when every record of a batch failed.
                f"The {name} function failed (a crash, a timeout, or a whole batch of stream records failed)",
            )
            self._alarm(
                f"{name}Throttles",
                function.metric_throttles(period=PERIOD),
                thresholds.lambda_throttles,
                f"The {name} function was throttled",
            )
            self._alarm(
                f"{name}DurationP99",
                function.metric_duration(period=PERIOD, statistic="p99"),
                near_timeout_ms,
                f"The {name} function's p99 duration is near its timeout",
            )

        # The stream handler reports failed records instead of raising, so its Errors alarm (above) hears crashes and
        # timeouts; falling behind shows in the iterator age, batches given up on in the failure queue, and failed
        # records in its own metric (StreamRecordsFailed, below).
        iterator_age = stream_function.metric("IteratorAge", statistic="Maximum", period=PERIOD)
        failed_batches = failure_queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=PERIOD)
        self._alarm(
            "StreamIteratorAge",
            iterator_age,
            thresholds.stream_iterator_age_ms,
            "The stream handler is behind: subscribers and the bus hear changes late",
        )
        self._alarm(
            "StreamFailedBatches",
            failed_batches,
            thresholds.stream_failed_batches,
            "The stream handler gave up on records: their events were not published (see the failure queue)",
        )

        # The expiry handler's Errors alarm (above) hears crashes; timers waiting too long, or given up on, show here.
        holds_age = holds_queue.metric_approximate_age_of_oldest_message(statistic="Maximum", period=PERIOD)
        holds_given_up = holds_dead_letters.metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=PERIOD
        )
        self._alarm(
            "HoldsOldestTimerAge",
            holds_age,
            thresholds.holds_oldest_message_age_seconds,
            "Hold timers wait too long: subscribers and the bus hear expiries late (reads stay exact)",
        )
        self._alarm(
            "HoldsDeadLetters",
            holds_given_up,
            thresholds.holds_dead_letters,
            "Hold timers given up on (see the holds dead-letter queue): those expiries were not heard",
        )

        throttled = table.metric_throttled_requests_for_operations(operations=TABLE_OPERATIONS, period=PERIOD)
        system_errors = table.metric_system_errors_for_operations(operations=TABLE_OPERATIONS, period=PERIOD)
        self._alarm(
            "TableThrottledRequests",
            throttled,
            thresholds.dynamodb_throttled_requests,
            "DynamoDB throttled requests (capacity ceiling or provisioned capacity reached)",
        )
        self._alarm("TableSystemErrors", system_errors, thresholds.dynamodb_system_errors, "DynamoDB system errors")

        def business(metric_name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace=metrics_namespace,
                metric_name=metric_name,
                dimensions_map={"service": "inventory"},
                statistic="Sum",
                period=PERIOD,
            )

        # Partial batch failures: records the stream handler reported failed (retried, then given up on), which
        # Lambda's Errors metric never counts.
        records_failed = business(STREAM_RECORDS_FAILED)
        self._alarm(
            "StreamRecordsFailed",
            records_failed,
            thresholds.stream_records_failed,
            "The stream handler failed to publish records: their events come late (retried) or not (failure queue)",
        )

        def graph(title: str, *metrics: cloudwatch.IMetric) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=list(metrics), width=8)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            widgets=[
                [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24)],
                [
                    graph("Business (per 5 minutes)", *(business(name) for name in BUSINESS_METRICS)),
                    graph("AppSync errors", api_4xx, api_5xx),
                    graph("AppSync latency (ms)", appsync("Latency", "p50"), api_p99),
                ],
                [
                    graph("Lambda errors and throttles", *(m for f in functions for m in _errors_and_throttles(f))),
                    graph(
                        "Lambda p99 duration (ms)",
                        *(f.metric_duration(period=PERIOD, statistic="p99") for f in functions),
                    ),
                    graph("Lambda invocations", *(f.metric_invocations(period=PERIOD) for f in functions)),
                ],
                [
                    graph("Stream iterator age, max (ms)", iterator_age),
                    graph("Stream batches given up on", failed_batches),
                    graph("Events published, stream records failed", business(EVENTS_PUBLISHED), records_failed),
                ],
                [
                    graph("Hold timers: oldest age (s), given up on", holds_age, holds_given_up),
                    graph("Holds expired (items tidied)", business(HOLDS_EXPIRED)),
                ],
                [
                    graph(
                        "DynamoDB consumed capacity",
                        table.metric_consumed_read_capacity_units(period=PERIOD),
                        table.metric_consumed_write_capacity_units(period=PERIOD),
                    ),
                    graph("DynamoDB throttled requests", throttled),
                    graph("DynamoDB system errors", system_errors),
                ],
            ],
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)


def _errors_and_throttles(function: lambda_.Function) -> tuple[cloudwatch.IMetric, ...]:
    return (function.metric_errors(period=PERIOD), function.metric_throttles(period=PERIOD))
