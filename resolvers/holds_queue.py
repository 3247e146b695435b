"""The holds queue (SQS): a reservation's hold timer waits there, as a delayed message, until its hold ends.

The stream handler sends the timer of each reservation written (resolvers/stream.py); the expiry handler receives it
(resolvers/expiry.py) and expires the reservation. SQS delays a message by at most 15 minutes
(``MAX_DELAY_SECONDS``), so a longer hold waits in hops: received early, its timer is sent again with the delay that
remains. A send that fails raises, and its caller fails the record or message it was handling, to be retried.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import boto3

from inventory.config import HOLDS_QUEUE_URL_VARIABLE, ConfigurationError
from inventory.expiry import HoldTimer, delay_seconds, message_body


class HoldsQueue:
    def __init__(self, queue_url: str, sqs_client: Any) -> None:
        self._queue_url, self._sqs = queue_url, sqs_client

    def send(self, timer: HoldTimer, now_ms: int) -> int:
        """Sends the timer, delayed until its hold ends or for as long as SQS allows; returns the delay (seconds)."""
        delay = delay_seconds(timer, now_ms)
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=message_body(timer), DelaySeconds=delay)
        return delay


@functools.cache
def sqs_client() -> Any:
    # Created on first use, not at import, like runtime.dynamodb_client.
    return boto3.client("sqs")


@functools.cache
def holds_queue() -> HoldsQueue:
    """The container's holds queue, its URL read once, when the first timer is sent."""
    queue_url = os.environ.get(HOLDS_QUEUE_URL_VARIABLE)
    if not queue_url:
        raise ConfigurationError(f"{HOLDS_QUEUE_URL_VARIABLE} is not set")
    return HoldsQueue(queue_url, sqs_client())
