"""When a reservation's end is made heard: the timer a stream record starts, and how long it still has to wait.

Expiry is exact without this (a hold counts for nothing from the millisecond it ends, model.Level). But it writes
nothing, so no stream record, hence no event, says that ``reserved`` fell and ``available`` rose. So each
reservation written ACTIVE starts a timer; at its end, InventoryService.expire_reservation tidies the ended holds off
the items, and that write goes through the table's stream like any other and is heard as an ItemChanged. On AWS the
timer is an SQS message delayed until the end (resolvers/stream.py, resolvers/expiry.py); on the local server an
asyncio timer (devserver/timers.py, started by devserver/stream.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from inventory.dynamodb import RESERVATION_SK, deserialize
from inventory.model import ReservationStatus


class HoldTimer(NamedTuple):
    reservation_id: str
    ends_ms: int  # the reservation's expiresAt, epoch ms


MAX_DELAY_SECONDS = 900  # SQS's longest message delay: longer holds wait in several hops
# How many times a timer's expiry is tried before it is given up on (its end is then not heard; reads stay exact): on
# AWS the holds queue's deliveries before the dead-letter queue (infra/config.py ExpiryConfig.max_receive_count), on
# the local server the attempts of its timers (devserver/timers.py).
EXPIRY_ATTEMPTS = 5


def timer_of(record: Mapping[str, Any]) -> HoldTimer | None:
    """The timer a stream record starts: a reservation record INSERTed (written ACTIVE) -> its id and end; any
    other record -> None. Reads the DynamoDB-JSON NewImage as Lambda/DynamoDB Local deliver it."""
    change = record.get("dynamodb", {})
    if record.get("eventName") != "INSERT" or deserialize(change.get("Keys", {})).get("sk") != RESERVATION_SK:
        return None
    new = change.get("NewImage", {})
    # Only the three attributes read: the others (lines, movements) are none of a timer's business.
    reservation = deserialize({name: new[name] for name in ("id", "status", "expiresAtMs") if name in new})
    if reservation.get("status") != ReservationStatus.ACTIVE.value:
        return None
    return HoldTimer(str(reservation["id"]), int(reservation["expiresAtMs"]))


def delay_seconds(timer: HoldTimer, now_ms: int) -> int:
    """0 when due (now >= ends); else min(MAX_DELAY_SECONDS, ceil((ends - now) / 1000))."""
    if now_ms >= timer.ends_ms:
        return 0
    return min(MAX_DELAY_SECONDS, -(-(timer.ends_ms - now_ms) // 1000))  # rounded up: never fires before the end


def message_body(timer: HoldTimer) -> str:
    """The timer as a queue message: compact JSON ``{"reservationId": ..., "endsMs": ...}``."""
    return json.dumps({"reservationId": timer.reservation_id, "endsMs": timer.ends_ms}, separators=(",", ":"))


def timer_from_message(body: str) -> HoldTimer:
    """The timer of a message_body; ValueError on a malformed body (which no retry mends)."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError) as error:
        raise ValueError(f"a hold timer message is JSON: {error}") from None
    reservation_id = message.get("reservationId") if isinstance(message, dict) else None
    ends_ms = message.get("endsMs") if isinstance(message, dict) else None
    if not isinstance(reservation_id, str) or not reservation_id:
        raise ValueError('a hold timer message needs "reservationId", a non-empty string')
    if not isinstance(ends_ms, int) or isinstance(ends_ms, bool):
        raise ValueError('a hold timer message needs "endsMs", an integer (epoch milliseconds)')
    return HoldTimer(reservation_id, ends_ms)
