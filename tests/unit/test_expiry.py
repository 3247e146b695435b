"""The timers of reservations (inventory/expiry.py): which stream record starts one, how long it still waits, and
its queue message. The records are DynamoDB Local's, as its stream delivered them for reserveStock, then
commitReservation (DynamoDB JSON; Lambda's differ only in the region and the creation time's type), plus Lambda's
rendition of the same reservation (tests/unit/test_events.py)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from inventory.dynamodb import item_record, reservation_record
from inventory.expiry import (
    MAX_DELAY_SECONDS,
    HoldTimer,
    delay_seconds,
    message_body,
    timer_from_message,
    timer_of,
)
from inventory.model import OrderLine, Reservation, ReservationStatus
from tests.unit.test_events import item, stream_record

ITEM = "9dd037be-48a8-4e58-be55-a3bd6c530453"
ENDS_MS = 1_796_037_073_836
KEYS = {"sk": {"S": "RESERVATION"}, "pk": {"S": "RESERVATION#cart-1"}}
ACTIVE_IMAGE = {
    "reference": {"S": "checkout-9"},
    "createdAt": {"S": "2026-11-30T10:56:13.836Z"},
    "locationId": {"S": "MAIN"},
    "sk": {"S": "RESERVATION"},
    "fingerprint": {"S": "0969225110f00dce37f312f8d251d922fad04ed1ccf10f0688e67f59a2e44de0"},
    "expiresAtMs": {"N": str(ENDS_MS)},
    "movements": {"L": []},
    "pk": {"S": "RESERVATION#cart-1"},
    "id": {"S": "cart-1"},
    "lines": {"L": [{"M": {"itemId": {"S": ITEM}, "quantity": {"N": "3"}}}]},
    "status": {"S": "ACTIVE"},
}
RESERVED: dict[str, Any] = {  # reserveStock, as DynamoDB Local streamed it
    "eventID": "d20661ab-9633-4376-94d6-feef325df7ab",
    "eventName": "INSERT",
    "eventVersion": "1.1",
    "eventSource": "aws:dynamodb",
    "awsRegion": "ddblocal",
    "dynamodb": {
        "ApproximateCreationDateTime": "2026-11-30 10:56:00+00:00",
        "Keys": KEYS,
        "NewImage": ACTIVE_IMAGE,
        "SequenceNumber": "000000000000000000004",
        "SizeBytes": 324,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    },
}
COMMITTED: dict[str, Any] = {  # then commitReservation
    **RESERVED,
    "eventID": "7991b257-7241-4d89-a5e4-0c599a58fdb9",
    "eventName": "MODIFY",
    "dynamodb": {
        **RESERVED["dynamodb"],
        "OldImage": ACTIVE_IMAGE,
        "NewImage": {
            **ACTIVE_IMAGE,
            "status": {"S": "COMMITTED"},
            "movements": {
                "L": [
                    {
                        "M": {
                            "reference": {"S": "cart-1"},
                            "itemId": {"S": ITEM},
                            "reason": {"S": "SOLD"},
                            "createdAt": {"S": "2026-11-30T10:56:15.103Z"},
                            "sequence": {"N": "2"},
                            "locationId": {"S": "MAIN"},
                            "delta": {"N": "-3"},
                            "locationQuantityAfter": {"N": "7"},
                            "quantityAfter": {"N": "7"},
                            "id": {"S": "c483990d-c848-4234-badb-cf8963552459"},
                        }
                    }
                ]
            },
        },
        "SequenceNumber": "000000000000000000008",
        "SizeBytes": 840,
    },
}
RESERVATION = Reservation(
    id="cart-1",
    location_id="MAIN",
    lines=(OrderLine(ITEM, 3),),
    ends_ms=ENDS_MS,
    reference="checkout-9",
    created_at="2026-11-30T10:56:13.836Z",
    fingerprint="0969225110f00dce37f312f8d251d922fad04ed1ccf10f0688e67f59a2e44de0",
    state=ReservationStatus.ACTIVE,
)
RESERVATION_KEY = {"pk": "RESERVATION#cart-1", "sk": "RESERVATION"}


def test_a_reservation_written_active_starts_a_timer_until_its_end() -> None:
    assert timer_of(RESERVED) == HoldTimer("cart-1", ENDS_MS)


def test_lambdas_rendition_of_the_same_record_starts_the_same_timer() -> None:
    record = stream_record("INSERT", RESERVATION_KEY, new=reservation_record(RESERVATION))
    assert timer_of(json.loads(json.dumps(record))) == HoldTimer("cart-1", ENDS_MS)


def test_a_commit_or_release_of_a_reservation_starts_none() -> None:
    assert timer_of(COMMITTED) is None
    released = copy.deepcopy(COMMITTED)
    released["dynamodb"]["NewImage"] = {**ACTIVE_IMAGE, "status": {"S": "RELEASED"}}
    assert timer_of(released) is None


def test_a_modify_or_remove_of_an_active_reservation_starts_none() -> None:
    """Only its creation starts one: a record delivered later with the same state would start a second."""
    modified = copy.deepcopy(RESERVED)
    modified["eventName"] = "MODIFY"
    modified["dynamodb"]["OldImage"] = ACTIVE_IMAGE
    assert timer_of(modified) is None
    removed = copy.deepcopy(RESERVED)
    removed["eventName"] = "REMOVE"
    removed["dynamodb"]["OldImage"] = removed["dynamodb"].pop("NewImage")
    assert timer_of(removed) is None


def test_an_active_reservation_inserted_is_the_only_record_that_starts_one() -> None:
    """An item's record, even one that carries holds, starts none: the reservation's record does."""
    held = item(10, levels={"MAIN": item(10).levels["MAIN"]._replace(holds={ENDS_MS: 3})})
    inserted = stream_record("INSERT", {"pk": f"ITEM#{held.id}", "sk": "ITEM"}, new=item_record(held))
    assert timer_of(inserted) is None
    assert timer_of({"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "LOCATIONS"}, "sk": {"S": "x"}}}}) is None


@pytest.mark.parametrize(
    ("now_ms", "expected"),
    [
        pytest.param(ENDS_MS + 5_000, 0, id="past its end"),
        pytest.param(ENDS_MS, 0, id="exactly at its end"),
        pytest.param(ENDS_MS - 1, 1, id="a millisecond before: rounded up"),
        pytest.param(ENDS_MS - 1_000, 1, id="a whole second before"),
        pytest.param(ENDS_MS - 1_001, 2, id="just over a second before"),
        pytest.param(ENDS_MS - 900_000, MAX_DELAY_SECONDS, id="exactly the longest delay"),
        pytest.param(ENDS_MS - 900_001, MAX_DELAY_SECONDS, id="beyond the longest delay: capped"),
        pytest.param(ENDS_MS - 86_400_000, MAX_DELAY_SECONDS, id="a day's hold: capped, it hops"),
    ],
)
def test_the_delay_is_whole_seconds_rounded_up_and_at_most_sqs_longest(now_ms: int, expected: int) -> None:
    assert delay_seconds(HoldTimer("cart-1", ENDS_MS), now_ms) == expected


def test_the_longest_delay_is_sqs_longest() -> None:
    assert MAX_DELAY_SECONDS == 900


def test_a_timer_goes_through_its_message_unchanged_as_compact_json() -> None:
    timer = HoldTimer("cart-1", ENDS_MS)
    assert message_body(timer) == '{"reservationId":"cart-1","endsMs":1796037073836}'
    assert timer_from_message(message_body(timer)) == timer
    accented = HoldTimer("caf\u00e9 \u2713", 0)  # any reservationId a client may choose
    assert timer_from_message(message_body(accented)) == accented


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        "null",
        '{"endsMs": 1}',
        '{"reservationId": "", "endsMs": 1}',
        '{"reservationId": 7, "endsMs": 1}',
        '{"reservationId": "r"}',
        '{"reservationId": "r", "endsMs": "1"}',
        '{"reservationId": "r", "endsMs": 1.5}',
        '{"reservationId": "r", "endsMs": true}',
    ],
)
def test_a_malformed_message_is_a_value_error(body: str) -> None:
    with pytest.raises(ValueError, match="hold timer message"):
        timer_from_message(body)
