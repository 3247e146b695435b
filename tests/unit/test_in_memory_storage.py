"""``python -m devserver --memory``: the service on moto keeps every stock rule under concurrency, as on DynamoDB."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from devserver.storage import in_memory
from inventory import operations
from inventory.config import Settings
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.errors import InsufficientStock, VersionConflict
from inventory.service import InventoryService
from inventory.table import ensure_table

THREADS = 16
STEPS = 5
ITEMS = 3
INITIAL = 40


@pytest.fixture
def memory_service(settings: Settings) -> Iterator[InventoryService]:
    with in_memory() as storage:
        ensure_table(storage.client, settings.table_name)
        yield InventoryService(DynamoDBInventoryRepository(storage.client, settings.table_name), settings)


def all_movements(service: InventoryService, item_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    token = None
    while True:
        page = operations.item_movements(service, {"id": item_id}, {"limit": 100, "nextToken": token})
        found.extend(page["items"])
        token = page["nextToken"]
        if token is None:
            return found


def test_concurrent_orders_adjustments_and_updates_keep_every_acknowledged_write(
    memory_service: InventoryService,
) -> None:
    service = memory_service
    items = [
        operations.create_item(
            service,
            {"input": {"sku": f"MEM-{n}", "name": "Widget", "category": "tools", "price": 1, "quantity": INITIAL}},
        )
        for n in range(ITEMS)
    ]
    item_ids = [item["id"] for item in items]
    acknowledged: list[dict[str, Any]] = []  # movements the service answered
    accepted_updates: list[tuple[str, int]] = []  # (item id, expectedVersion) of every updateItem answered OK
    failures: list[BaseException] = []
    record = threading.Lock()
    start = threading.Barrier(THREADS)

    def client(number: int) -> None:
        rng = random.Random(number)
        start.wait()
        for step in range(STEPS):
            item_id = rng.choice(item_ids)
            kind = rng.choice(("order", "adjust", "update"))
            try:
                if kind == "order":
                    lines = [{"itemId": i, "quantity": rng.randint(1, 3)} for i in rng.sample(item_ids, 2)]
                    order = {"orderId": f"order-{number}-{step}", "lines": lines}
                    result = operations.fulfill_order(service, {"input": order})
                    with record:
                        acknowledged.extend(result["movements"])
                elif kind == "adjust":
                    delta = rng.choice((-2, -1, 1, 2, 3))
                    adjustment = {"itemId": item_id, "delta": delta, "reason": "CORRECTION"}
                    movement = operations.adjust_stock(
                        service, {"input": {**adjustment, "idempotencyKey": f"key-{number}-{step}"}}
                    )
                    with record:
                        acknowledged.append(movement)
                else:
                    version = operations.get_item(service, {"id": item_id})["version"]  # type: ignore[index]
                    operations.update_item(
                        service, {"input": {"id": item_id, "expectedVersion": version, "name": f"n{number}-{step}"}}
                    )
                    with record:
                        accepted_updates.append((item_id, version))
            except (InsufficientStock, VersionConflict):
                pass  # refusals the rules allow under contention; they write nothing
            except BaseException as error:  # noqa: BLE001 - any other failure is what this test looks for
                with record:
                    failures.append(error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert acknowledged, "some writes must have succeeded"
    duplicates = [update for update, count in Counter(accepted_updates).items() if count > 1]
    assert duplicates == [], "two updates were accepted with the same expectedVersion"
    for item_id in item_ids:
        stored = all_movements(service, item_id)
        stored_ids = {movement["id"] for movement in stored}
        mine = {movement["id"] for movement in acknowledged if movement["itemId"] == item_id}
        assert mine <= stored_ids, "an acknowledged movement is missing"
        # Exactly the initial stock and the acknowledged movements: nothing refused left a trace.
        assert len(stored_ids - mine) == 1
        item = operations.get_item(service, {"id": item_id})
        assert item is not None
        assert item["quantity"] == sum(movement["delta"] for movement in stored) >= 0
        assert item["quantity"] == INITIAL + sum(m["delta"] for m in acknowledged if m["itemId"] == item_id)
        assert item["version"] == 1 + sum(1 for updated, _ in accepted_updates if updated == item_id)
