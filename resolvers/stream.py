"""The stream handler: every change of the table, as events, to the API's subscribers and to the event bus.

DynamoDB Streams invokes it with a batch of one shard's records, in order. Each record's events
(inventory.events) are published one by one (resolvers/publisher.py); a record fails if any of its publishes fails,
and Powertools reports it in ``batchItemFailures``. Lambda then retries from the first failed record of the batch,
so delivery is at least once: a record whose events were partly published is retried whole, and its events come
again with the same eventIds.

Order per item: a failed record holds back the later records of its item in the same batch (they fail too,
unpublished), so an item's events never overtake one another; other items' records are published.

Expiry: a reservation written starts a hold timer (inventory.expiry.timer_of), sent to the holds queue
(resolvers/holds_queue.py) before the record's events; a failed send fails the record like a failed publish. When
the hold ends the expiry handler (resolvers/expiry.py) tidies it off the items, and that write comes back through the
stream as an ItemChanged like any other.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.events import events_of
from inventory.expiry import timer_of
from resolvers.holds_queue import holds_queue
from resolvers.metrics import EVENTS_PUBLISHED, METRICS_NAMESPACE_VARIABLE, STREAM_RECORDS_FAILED
from resolvers.publisher import publisher

logger = Logger(service="inventory")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class HeldBack(Exception):
    """An earlier record of the same item failed in this batch: this one waits for its retry."""


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    failed_items: set[str] = set()
    published = 0

    def record_handler(record: DynamoDBRecord) -> None:
        nonlocal published
        item = _partition_of(record.raw_event)
        record_keys = {"event_id": record.raw_event.get("eventID"), "partition": item}
        if item in failed_items:
            logger.warning("Stream record held back behind a failed record of its item", extra=record_keys)
            raise HeldBack(item)
        try:
            now_ms = time.time_ns() // 1_000_000
            timer = timer_of(record.raw_event)
            if timer is not None:
                # Before the events: a retry after a failed publish sends the timer again, which costs the expiry a
                # read or two (it is idempotent); after them, a failed send would make subscribers hear them twice.
                holds_queue().send(timer, now_ms)
            # Figures that depend on time (reserved, available) as of publishing: what a read would answer now.
            events = events_of(record.raw_event, now_ms)
            publisher().publish(events)
        except Exception:
            failed_items.add(item)
            logger.exception("Stream record not published (or its hold timer not sent)", extra=record_keys)
            raise
        published += len(events)

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    _record_metrics(published, len(response.get("batchItemFailures", [])))
    return response


def _partition_of(record: dict[str, Any]) -> str:
    """The record's partition key as delivered: an item's record and its movements' share it."""
    keys = record.get("dynamodb", {}).get("Keys", {})
    return json.dumps(keys.get("pk") if isinstance(keys, dict) else None, sort_keys=True)


def _record_metrics(published: int, failed: int) -> None:
    if not os.environ.get(METRICS_NAMESPACE_VARIABLE):
        return
    metrics = Metrics(service="inventory")
    metrics.add_metric(name=EVENTS_PUBLISHED, unit=MetricUnit.Count, value=published)
    # Lambda's Errors metric never sees a partial failure: this is the one to alarm on.
    metrics.add_metric(name=STREAM_RECORDS_FAILED, unit=MetricUnit.Count, value=failed)
    metrics.flush_metrics()
