"""The expiry handler: hold timers from the holds queue (SQS), each expiring its reservation once its hold has ended,
so that subscribers and the bus hear the units come back.

Reads are exact without it (a hold counts for nothing from the millisecond it ends); expiring only tidies the ended
holds off the items (InventoryService.expire_reservation), and that write reaches the table's stream, whose handler
publishes the item's ItemChanged like any other change. Per message:
- its hold has not ended yet (it lasts longer than SQS's 15-minute delay, or it came early): the timer is sent again
  with the delay that remains, and nothing is read or written;
- it has ended: the reservation is expired, which writes nothing when there is nothing left to tidy (committed,
  released, tidied by another write, absent, or this message delivered twice);
- a malformed body, or anything that raises, fails the message alone (Powertools reports it in
  ``batchItemFailures``): SQS delivers it again after the visibility timeout, and moves it to the dead-letter queue
  after the redrive policy's receives.
"""

from __future__ import annotations

import os
import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.expiry import delay_seconds, timer_from_message
from resolvers.holds_queue import holds_queue
from resolvers.metrics import HOLDS_EXPIRED, METRICS_NAMESPACE_VARIABLE
from resolvers.runtime import service

logger = Logger(service="inventory")
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    tidied = 0

    def record_handler(record: SQSRecord) -> None:
        nonlocal tidied
        message_keys = {"message_id": record.message_id, "receive_count": record.attributes.approximate_receive_count}
        try:
            timer = timer_from_message(record.body)
            now_ms = time.time_ns() // 1_000_000
            if delay_seconds(timer, now_ms) > 0:
                holds_queue().send(timer, now_ms)
                return
            # It lists nothing: its function is given no page-token secret (least privilege, infra/functions.py).
            tidied += len(service(serves_pages=False).expire_reservation(timer.reservation_id))
        except Exception:
            logger.exception("Hold timer not handled", extra=message_keys)
            raise

    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    _record_metrics(tidied)
    return response


def _record_metrics(tidied: int) -> None:
    if not os.environ.get(METRICS_NAMESPACE_VARIABLE):
        return
    metrics = Metrics(service="inventory")
    metrics.add_metric(name=HOLDS_EXPIRED, unit=MetricUnit.Count, value=tidied)
    metrics.flush_metrics()
