"""The expiry handler's and the holds queue's edges that need no table: a batch that fails whole, the queue's
configuration. Their behaviour on real reservations is tested in tests/integration/test_expiry_handler.py."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

import resolvers.holds_queue
from inventory.config import HOLDS_QUEUE_URL_VARIABLE, ConfigurationError
from resolvers import expiry
from tests.appsync import FakeLambdaContext


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"message-{number}",
                "receiptHandle": f"handle-{number}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1796036848010"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:inventory-holds",
                "awsRegion": "us-east-1",
            }
            for number, body in enumerate(bodies, start=1)
        ]
    }


def test_a_batch_whose_every_message_fails_fails_the_invocation() -> None:
    # Lambda then makes every message visible again after the visibility timeout, as for a reported failure.
    with pytest.raises(BatchProcessingError):
        expiry.handler(_sqs_event("not json", "{}"), FakeLambdaContext())


def test_the_holds_queue_is_named_by_the_stack_and_built_once_per_container(monkeypatch: pytest.MonkeyPatch) -> None:
    resolvers.holds_queue.holds_queue.cache_clear()
    resolvers.holds_queue.sqs_client.cache_clear()
    try:
        monkeypatch.delenv(HOLDS_QUEUE_URL_VARIABLE, raising=False)
        with pytest.raises(ConfigurationError, match=HOLDS_QUEUE_URL_VARIABLE):
            resolvers.holds_queue.holds_queue()
        monkeypatch.setenv(HOLDS_QUEUE_URL_VARIABLE, "https://sqs.us-east-1.amazonaws.com/123456789012/holds")
        assert resolvers.holds_queue.holds_queue() is resolvers.holds_queue.holds_queue()
    finally:
        resolvers.holds_queue.holds_queue.cache_clear()
        resolvers.holds_queue.sqs_client.cache_clear()
