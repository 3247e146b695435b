"""SQS queues as the stack makes them: each with a dead-letter queue of its own, both encrypted with SQS's own keys
and reachable over TLS only."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct


def queue_with_dead_letters(
    scope: Construct,
    construct_id: str,
    *,
    retention: Duration,
    max_receive_count: int,
    visibility_timeout: Duration | None = None,
) -> tuple[sqs.Queue, sqs.Queue]:
    """The queue ``construct_id`` and its dead-letter queue ``<construct_id>DeadLetters``, both kept ``retention``:
    a message received ``max_receive_count`` times without being deleted moves to the dead letters."""
    dead_letters = sqs.Queue(
        scope,
        f"{construct_id}DeadLetters",
        encryption=sqs.QueueEncryption.SQS_MANAGED,  # no KMS key: the functions need no kms: right
        enforce_ssl=True,
        retention_period=retention,
    )
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=visibility_timeout,
        retention_period=retention,
        dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=max_receive_count),
    )
    return queue, dead_letters
