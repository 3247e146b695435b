"""The expiry handler (resolvers/expiry.py) driven as Lambda drives it: hold timers received from the holds queue
(moto's SQS) as its SQS event, reservations made through the handlers on DynamoDB Local, DynamoDB calls counted on
the runtime's own client. How its write is then heard (the stream, ItemChanged) is in test_stream_handler.py."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

import resolvers.runtime
from inventory.config import PAGE_TOKEN_SECRET_VARIABLE
from inventory.expiry import MAX_DELAY_SECONDS, HoldTimer, delay_seconds, message_body
from resolvers import expiry
from resolvers.metrics import HOLDS_EXPIRED, METRICS_NAMESPACE_VARIABLE
from tests.appsync import FakeLambdaContext, error_of, query
from tests.integration.conftest import NewItem
from tests.integration.stock import create_location, epoch_ms, item, ok, reserve, sleep_until, transfer

if TYPE_CHECKING:
    from tests.integration.conftest import HoldsQueue, TableView

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


def _timer(reservation: dict[str, Any]) -> HoldTimer:
    return HoldTimer(reservation["id"], epoch_ms(reservation["expiresAt"]))


def _deliver(holds: HoldsQueue, *bodies: str) -> tuple[dict[str, Any], list[str]]:
    """The bodies sent to the queue, received and handed to the handler in one batch: its answer, and the messages'
    ids in the order sent."""
    for body in bodies:
        holds.client.send_message(QueueUrl=holds.url, MessageBody=body)
    messages = holds.receive()
    assert len(messages) == len(bodies)
    by_body = {message["Body"]: message["MessageId"] for message in messages}
    response = expiry.handler(holds.lambda_event(messages), FakeLambdaContext(function_name="inventory-expiry"))
    return dict(response), [by_body[body] for body in bodies]


def _holds(table: TableView, item_id: str) -> dict[str, dict[str, Any]]:
    """The holds the item's record carries, per location, as stored (ended ones included)."""
    record = table.get(f"ITEM#{item_id}", "ITEM")
    assert record is not None
    return {location: level["M"]["holds"]["M"] for location, level in record["levels"]["M"].items()}


def _figures(found: dict[str, Any]) -> tuple[Any, ...]:
    return found["quantity"], found["reserved"], found["available"], found["levels"], found["lowStock"]


def test_a_timer_not_due_yet_goes_back_to_the_queue_with_the_delay_left_and_nothing_is_read_or_written(
    new_item: NewItem, table: TableView, holds: HoldsQueue, dynamodb_calls: Counter[str]
) -> None:
    drill = new_item(quantity=10)
    soon = ok(reserve("soon", [(drill["id"], 2)], seconds=120))
    later = ok(reserve("later", [(drill["id"], 3)], seconds=3600))  # longer than SQS's longest delay: hops
    stored = table.records()
    dynamodb_calls.clear()

    before_ms = time.time_ns() // 1_000_000
    response, _ = _deliver(holds, message_body(_timer(soon)), message_body(_timer(later)))
    after_ms = time.time_ns() // 1_000_000

    assert response == {"batchItemFailures": []}
    sent = holds.take()
    assert [(message["QueueUrl"], message["MessageBody"]) for message in sent] == [
        (holds.url, message_body(_timer(soon))),
        (holds.url, message_body(_timer(later))),
    ]
    soon_delay, later_delay = (message["DelaySeconds"] for message in sent)
    assert 0 < delay_seconds(_timer(soon), after_ms) <= soon_delay <= delay_seconds(_timer(soon), before_ms) <= 120
    assert later_delay == MAX_DELAY_SECONDS
    assert holds.waiting() == 2  # the hops wait in the queue (the received messages are deleted by Lambda)
    assert dict(dynamodb_calls) == {}
    assert table.records() == stored


def test_a_due_timer_tidies_the_ended_holds_off_the_items_without_changing_a_figure_and_a_second_writes_nothing(
    new_item: NewItem, table: TableView, holds: HoldsQueue, dynamodb_calls: Counter[str]
) -> None:
    drill, saw = new_item(quantity=10), new_item(quantity=6)
    store = create_location("STORE")
    ok(transfer("MAIN", store["id"], [(saw["id"], 4)]))
    cart = ok(reserve("cart", [(drill["id"], 3), (saw["id"], 2)], seconds=1))
    ok(reserve("other", [(drill["id"], 1)], seconds=600))  # another hold of the same item, not ended: it stays
    sleep_until(cart["expiresAt"])
    before = {item_id: item(item_id) for item_id in (drill["id"], saw["id"])}
    assert [len(holds_at) for holds_at in _holds(table, drill["id"]).values()] == [2]
    assert (before[drill["id"]]["reserved"], before[saw["id"]]["reserved"]) == (1, 0)  # reads are exact already
    dynamodb_calls.clear()

    response, _ = _deliver(holds, message_body(_timer(cart)))

    assert response == {"batchItemFailures": []}
    # The reservation, its two items, one transaction writing both.
    assert dict(dynamodb_calls) == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}
    after = {item_id: item(item_id) for item_id in before}
    assert {i: _figures(found) for i, found in after.items()} == {i: _figures(found) for i, found in before.items()}
    ends = str(epoch_ms(cart["expiresAt"]))
    assert [ends not in holds_at for holds_at in _holds(table, drill["id"]).values()] == [True]
    assert [len(holds_at) for holds_at in _holds(table, drill["id"]).values()] == [1]  # "other" still holds
    assert all(holds_at == {} for holds_at in _holds(table, saw["id"]).values())
    assert holds.take() == []
    assert query("getReservation", {"id": "cart"})["status"] == "EXPIRED"

    # Delivered again (SQS delivers at least once): the reservation and its items read, nothing written.
    stored = table.records()
    dynamodb_calls.clear()
    response, _ = _deliver(holds, message_body(_timer(cart)))
    assert response == {"batchItemFailures": []}
    assert dict(dynamodb_calls) == {"GetItem": 1, "BatchGetItem": 1}
    assert table.records() == stored


def test_the_handler_expires_without_the_page_token_secret_its_function_is_not_given(
    new_item: NewItem, table: TableView, holds: HoldsQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    drill = new_item(quantity=10)
    cart = ok(reserve("cart", [(drill["id"], 3)], seconds=1))
    sleep_until(cart["expiresAt"])
    monkeypatch.delenv(PAGE_TOKEN_SECRET_VARIABLE)  # as deployed: infra/functions.py names no secret for it
    resolvers.runtime.service.cache_clear()

    response, _ = _deliver(holds, message_body(_timer(cart)))

    assert response == {"batchItemFailures": []}
    assert all(holds_at == {} for holds_at in _holds(table, drill["id"]).values())
    # The resolvers' service, in the same environment, still fails at its start.
    assert error_of(query("getItem", {"id": drill["id"]}))["type"] == "InternalError"


def test_a_malformed_timer_fails_alone_and_the_other_timers_of_the_batch_are_handled(
    new_item: NewItem, table: TableView, holds: HoldsQueue, dynamodb_calls: Counter[str]
) -> None:
    drill = new_item(quantity=10)
    cart = ok(reserve("cart", [(drill["id"], 3)], seconds=1))
    sleep_until(cart["expiresAt"])
    malformed = [
        "not json",
        json.dumps({"reservationId": "cart"}),
        json.dumps({"reservationId": "", "endsMs": 1}),
    ]
    dynamodb_calls.clear()

    response, ids = _deliver(holds, malformed[0], message_body(_timer(cart)), *malformed[1:])

    # Each malformed message is reported (SQS delivers it again, then moves it to the dead-letter queue); the
    # well-formed one expired its reservation.
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[i]} for i in (0, 2, 3)]}
    assert {name: count for name, count in dynamodb_calls.items() if name in WRITES} == {"PutItem": 1}  # one item
    assert all(holds_at == {} for holds_at in _holds(table, drill["id"]).values())


def test_tidied_items_are_counted_when_metrics_are_on(
    new_item: NewItem, holds: HoldsQueue, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(METRICS_NAMESPACE_VARIABLE, "Inventory/test")
    drill, saw = new_item(quantity=10), new_item(quantity=6)
    cart = ok(reserve("cart", [(drill["id"], 3), (saw["id"], 2)], seconds=1))
    sleep_until(cart["expiresAt"])
    capsys.readouterr()

    _deliver(holds, message_body(_timer(cart)))

    (metrics,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert metrics[HOLDS_EXPIRED] == [2.0]
