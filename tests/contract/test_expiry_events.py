"""A reservation's end is heard on the local server (``python -m devserver`` on DynamoDB Local): the reservation's
record starts a timer (devserver/timers.py), whose expiry write (InventoryService.expire_reservation) reaches the
table's stream and is published like any change. Subscribed over graphql-transport-ws, as in test_events.py (both use
tests/contract/subscriptions.py); nothing is written after the reservations but what the server writes itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from gql import Client
from gql.transport.httpx import HTTPXAsyncTransport

from tests.contract.server import ServerProcess
from tests.contract.subscriptions import (
    STOCKED,
    Json,
    Watch,
    category_low_stock,
    item_changes,
    item_movements,
    listening,
    live,
    request,
    settled,
)

HOLD_SECONDS = 2  # short, yet longer than a hold's own event takes to be published (its figures are as of then)
FIGURES = "{ id onHand reserved available updatedAt }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("expiry") / "local-data") as process:
        yield process


def _figures(event: Json) -> tuple[Any, ...]:
    return (event["onHand"], event["reserved"], event["available"], event["updatedAt"])


async def _expiries(server: ServerProcess) -> tuple[dict[str, list[tuple[Any, ...]]], Json]:
    transport = HTTPXAsyncTransport(server.url, headers={"x-api-key": server.api_key}, timeout=30)
    async with Client(transport=transport) as http:
        location = await http.execute(request("create-location", input={"code": "EXP", "name": "Expiries"}))
        watch = Watch(http, "", location["createLocation"]["id"], "expiry-watch", "")
        watch.item = (await watch.create(watch.category))["id"]
        subscribers = [item_changes(watch, FIGURES, _figures), item_movements(watch), category_low_stock(watch)]
        async with listening(server, subscribers):
            await live(watch, subscribers)

            async def reserve(reservation_id: str, quantity: int) -> Json:
                hold = {
                    "reservationId": reservation_id,
                    "locationId": watch.location,
                    "lines": [{"itemId": watch.item, "quantity": quantity}],
                    "expiresInSeconds": HOLD_SECONDS,
                }
                answer: Json = (await watch.run("reserve-stock", input=hold))["reserveStock"]
                return answer

            # Sold and given back before their ends: their timers find nothing to write. The last one, made after
            # them, ends after them too: once its end is heard, theirs have passed.
            await reserve("sold", 3)
            await watch.run("commit-reservation", id="sold")
            await reserve("given-back", 2)
            await watch.run("release-reservation", id="given-back")
            expiring = await reserve("expiring", 3)
            # How many each should hear, to wait for (settled), then a quiet moment.
            expected: dict[str, list[tuple[Any, ...]]] = {"item changes": [()] * 6, "item movements": [()]}
            await settled(subscribers, expected)
            now = (await watch.run("get-item", id=watch.item, movementsLimit=1))["getItem"]
    heard: dict[str, list[tuple[Any, ...]]] = {s.name: s.heard for s in subscribers}
    return heard, {"expiresAt": expiring["expiresAt"], "item": now, "location": watch.location}


def test_a_reservations_end_is_heard_with_the_figures_it_gives_back_and_a_sold_or_released_ones_is_not(
    server: ServerProcess,
) -> None:
    heard, seen = asyncio.run(_expiries(server))
    changes = heard["item changes"]
    after = STOCKED - 3
    assert [figures[:3] for figures in changes] == [
        (STOCKED, 3, STOCKED - 3),  # "sold" holds
        (after, 0, after),  # and is committed
        (after, 2, after - 2),  # "given-back" holds
        (after, 0, after),  # and is released
        (after, 3, after - 3),  # "expiring" holds
        (after, 0, after),  # its end, heard though nothing was written by anyone but the server
    ]
    # Heard with the item as it now reads, dated when its figures changed: the end of the hold.
    assert changes[-1] == _figures(seen["item"])
    assert changes[-1][3] == seen["expiresAt"]
    assert heard["item movements"] == [(seen["item"]["id"], seen["location"], -3, "SOLD")]  # the sale's alone
    assert heard["category low stock"] == []  # onHand never moved across the reorder point
