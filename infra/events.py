"""The API's events: the table's stream, read by the stream handler, which publishes every change to the API's
subscriptions (the IAM-only publish mutations) and to an EventBridge bus for other systems; one rule keeps a copy of
the bus's events in a log group, so operators can see them.

Delivery is at least once: a failing batch is split (bisect) until the failing record is alone, retried a bounded
number of times, and then described in the failure queue while the shard moves on. Each shard's records are handled
one batch at a time (parallelization factor 1), so the events of one item keep their order.
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import EventsConfig
from infra.functions import ResolverFunctions
from infra.nag import suppress
from infra.queues import queue_with_dead_letters
from infra.table import InventoryTable
from inventory.events import CHANNELS, SOURCE

# What Lambda's event source mapping calls, with the function's role, to poll the table's stream: the actions of
# AWSLambdaDynamoDBExecutionRole, the managed policy Lambda's guide names for it. Three take the stream's ARN;
# ListStreams supports no resource-level permission (Service Authorization Reference), so it takes "*" (it lists
# stream ARNs, no data). CDK's TableV2.grant_stream_read scopes ListStreams to the stream ARN, which grants nothing.
STREAM_READ_ACTIONS = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
STREAM_LIST_ACTION = "dynamodb:ListStreams"
LIST_STREAMS_REASON = (
    "dynamodb:ListStreams supports no resource-level permission, so its resource is *; Lambda's event source mapping "
    "needs it (AWSLambdaDynamoDBExecutionRole) and it lists stream ARNs only, never records."
)
FAILURE_RETENTION = Duration.days(14)  # SQS's longest: time for an operator to replay a batch from its description
DEAD_LETTER_AFTER_RECEIVES = 5


@jsii.implements(lambda_.IEventSourceDlq)
class _QueueDestination:
    """The failure queue as the mapping's on-failure destination. CDK's SqsDlq would also grant the function
    sqs:GetQueueAttributes and sqs:GetQueueUrl; the mapping needs only sqs:SendMessage, granted with the rest."""

    def __init__(self, queue: sqs.IQueue) -> None:
        self._queue = queue

    def bind(self, _target: Any, _target_handler: Any) -> lambda_.DlqDestinationConfig:
        return lambda_.DlqDestinationConfig(destination=self._queue.queue_arn)


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """A log group as a rule target, its resource policy made by the caller. CDK's CloudWatchLogGroup target writes
    that policy with a custom resource (a Lambda function of its own); LogGroup.add_to_resource_policy makes a plain
    AWS::Logs::ResourcePolicy instead."""

    def __init__(self, log_group: logs.LogGroup) -> None:
        self._log_group = log_group

    def bind(self, _rule: Any, _id: str | None = None) -> events.RuleTargetConfig:
        # EventBridge wants the log group's ARN without the ":*" that log_group_arn ends with.
        arn = Stack.of(self._log_group).format_arn(
            service="logs",
            resource="log-group",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
            resource_name=self._log_group.log_group_name,
        )
        return events.RuleTargetConfig(arn=arn)


class StockEvents(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EventsConfig,
        table: InventoryTable,
        functions: ResolverFunctions,
        graphql_url: str,
        graphql_api_arn: str,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(
            self, "Bus", description="Inventory API events: ItemChanged, StockMovement, LowStock"
        )

        self.log_group = logs.LogGroup(self, "BusLogs", retention=log_retention, removal_policy=removal_policy)
        self.log_group.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.rule = events.Rule(
            self,
            "ToLogs",
            event_bus=self.bus,
            event_pattern=events.EventPattern(source=[SOURCE]),
            description="Every inventory event, to a log group operators can read",
            targets=[_LogGroupTarget(self.log_group)],
        )

        self.failure_queue, _ = queue_with_dead_letters(
            self, "FailedBatches", retention=FAILURE_RETENTION, max_receive_count=DEAD_LETTER_AFTER_RECEIVES
        )

        self.function = functions.add_stream_handler(
            config, graphql_url=graphql_url, event_bus_name=self.bus.event_bus_name
        )
        stream_arn = table.table.table_stream_arn
        assert stream_arn is not None, "the table has a stream (infra/table.py)"
        # The publish fields alone: AppSync restricts IAM callers per operation on the root fields. The types they
        # return admit IAM callers by their @aws_iam directives (schema.graphql), not by this policy.
        publish_fields = [f"{graphql_api_arn}/types/Mutation/fields/{c.publish_field}" for c in CHANNELS.values()]
        for actions, resources in (
            (STREAM_READ_ACTIONS, [stream_arn]),
            ((STREAM_LIST_ACTION,), ["*"]),
            (("appsync:GraphQL",), publish_fields),
            (("events:PutEvents",), [self.bus.event_bus_arn]),
            (("sqs:SendMessage",), [self.failure_queue.queue_arn]),
        ):
            self.function.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=resources))
        assert self.function.role is not None
        suppress(
            self.function.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5",
            LIST_STREAMS_REASON,
            ["Resource::*"],
        )

        self.mapping = lambda_.EventSourceMapping(
            self,
            "FromStream",
            target=self.function,
            event_source_arn=stream_arn,
            starting_position=lambda_.StartingPosition.LATEST,
            batch_size=config.batch_size,
            max_batching_window=Duration.seconds(config.max_batching_window_seconds),
            parallelization_factor=1,
            bisect_batch_on_error=True,
            retry_attempts=config.retry_attempts,
            max_record_age=Duration.seconds(config.max_record_age_seconds),
            report_batch_item_failures=True,  # Powertools' process_partial_response reports the failed records
            on_failure=_QueueDestination(self.failure_queue),
        )
        # Lambda checks the role's rights when it creates the mapping: the policy must exist first.
        self.mapping.node.add_dependency(self.function.role)
