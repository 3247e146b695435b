"""Expiry, made heard: the holds queue (SQS) where each reservation's hold timer waits until the hold ends, and the
expiry handler it feeds, which tidies the ended holds off the items. Their write reaches the table's stream, so
subscribers and the bus hear `reserved` fall and `available` rise like any other change.

The stream handler sends the timers (a reservation written starts one); SQS delays a message by at most 15 minutes,
so the expiry handler sends a timer whose hold has not ended yet back with the delay that remains. A message that
fails comes back after the visibility timeout and, after ``max_receive_count`` deliveries, goes to the dead-letter
queue. Reads never wait for any of this: a hold counts for nothing from the millisecond it ends.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import ExpiryConfig
from infra.functions import ResolverFunctions
from infra.queues import queue_with_dead_letters
from inventory.config import HOLDS_QUEUE_URL_VARIABLE

# What Lambda's event source mapping does with the queue, as the function's role.
QUEUE_POLL_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
# Lambda's advice for an SQS event source: a message comes back only if the function has had time to retry it.
VISIBILITY_TIMEOUT_FUNCTION_TIMEOUTS = 6
# SQS's longest, for both queues: timers outlive an outage of the handler (heard late rather than never), and an
# operator has time to read the dead letters or redrive them.
RETENTION = Duration.days(14)


class HoldExpiry(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ExpiryConfig,
        functions: ResolverFunctions,
        stream_function: lambda_.Function,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = functions.expiry
        assert self.function.timeout is not None, "every function has its timeout (infra/functions.py)"

        self.queue, self.dead_letters = queue_with_dead_letters(
            self,
            "Holds",
            retention=RETENTION,
            max_receive_count=config.max_receive_count,
            visibility_timeout=Duration.seconds(
                VISIBILITY_TIMEOUT_FUNCTION_TIMEOUTS * self.function.timeout.to_seconds()
            ),
        )

        # Both send timers: the stream handler a reservation's first, the expiry handler the next hop of a long hold.
        for sender in (stream_function, self.function):
            sender.add_environment(HOLDS_QUEUE_URL_VARIABLE, self.queue.queue_url)
            sender.add_to_role_policy(
                iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.queue.queue_arn])
            )

        # Lambda polls the queue with the function's role: the rights of AWSLambdaSQSQueueExecutionRole, on this
        # queue only (CDK's SqsEventSource would add sqs:ChangeMessageVisibility and sqs:GetQueueUrl, unused).
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(QUEUE_POLL_ACTIONS), resources=[self.queue.queue_arn])
        )
        self.mapping = lambda_.EventSourceMapping(
            self,
            "FromHolds",
            target=self.function,
            event_source_arn=self.queue.queue_arn,
            batch_size=config.batch_size,
            max_concurrency=config.max_concurrency,
            report_batch_item_failures=True,  # Powertools' process_partial_response reports the failed messages
        )
        # Lambda checks the role's rights when it creates the mapping: the policy must exist first.
        assert self.function.role is not None
        self.mapping.node.add_dependency(self.function.role)
