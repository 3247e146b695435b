"""What a stream record of the table means to clients (inventory/events.py): the events each kind of record makes,
their ids, the publish mutation of each (checked against the schema) and its bus entry."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from inventory.dynamodb import MOVEMENT_PREFIX, item_record, movement_record, serialize
from inventory.events import CHANNELS, SOURCE, Event, EventKind, bus_entry, events_of, publish_request
from inventory.model import MAIN_LOCATION_ID, Item, Level, MovementReason, StockMovement, status_for
from inventory.views import item_view, movement_view
from tests.publish_mutations import published

NOW_MS = 1_767_323_045_678
ITEM_ID = "0b6f6c4e-3c1a-4a8e-9a43-1f2d3c4b5a69"


def item(quantity: int, *, reorder_point: int = 10, discontinued: bool = False, **changes: Any) -> Item:
    """The item with ``quantity`` on hand, all of it at MAIN."""
    return Item(
        id=ITEM_ID,
        sku="DRILL-18V",
        name="Cordless drill",
        description=None,
        category="tools",
        price=Decimal("89.90"),
        quantity=quantity,
        reorder_point=reorder_point,
        status=status_for(quantity, discontinued),
        version=1,
        created_at="2026-01-02T03:04:05.678Z",
        updated_at="2026-01-02T03:04:05.678Z",
        stock_revision=1,
        levels={MAIN_LOCATION_ID: Level("MAIN", quantity)} if quantity else {},
    )._replace(**changes)


MOVEMENT = StockMovement(
    id="5f0e2d8a-6f55-4b8e-8a3c-2b1e0f9d7c6a",
    item_id=ITEM_ID,
    delta=-3,
    quantity_after=17,
    reason=MovementReason.SOLD,
    reference="order-42",
    created_at="2026-01-02T03:04:05.678Z",
    sequence=2,
    location_id=MAIN_LOCATION_ID,
    location_quantity_after=17,
)


def stream_record(
    event_name: str,
    keys: Mapping[str, str],
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    event_id: str = "c81e728d9d4c2f636f067f89cc14862c",
) -> dict[str, Any]:
    """A DynamoDB stream record as Lambda delivers it (NEW_AND_OLD_IMAGES, DynamoDB JSON)."""
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": NOW_MS // 1000,
        "Keys": serialize(keys),
        "SequenceNumber": "4421584500000000017450439091",
        "SizeBytes": 512,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    for image, record in (("OldImage", old), ("NewImage", new)):
        if record is not None:
            change[image] = serialize({**record, **keys})
    return {
        "eventID": event_id,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/inventory/stream/2026-01-01T00:00:00.000",
    }


def item_change(before: Item | None, after: Item | None, event_id: str = "c81e728d9d4c2f636f067f89cc14862c") -> Any:
    name = "INSERT" if before is None else "REMOVE" if after is None else "MODIFY"
    key = {"pk": f"ITEM#{ITEM_ID}", "sk": "ITEM"}
    old, new = (None if state is None else item_record(state) for state in (before, after))
    return stream_record(name, key, old, new, event_id)


def movement_insert(movement: StockMovement = MOVEMENT) -> dict[str, Any]:
    key = {"pk": f"ITEM#{movement.item_id}", "sk": f"{MOVEMENT_PREFIX}{movement.sequence:012d}"}
    return stream_record("INSERT", key, new=movement_record(movement))


def kinds(events: list[Event]) -> list[EventKind]:
    return [event.kind for event in events]


def test_a_new_item_is_heard_as_changed_with_its_figures() -> None:
    created = item(20)
    (event,) = events_of(item_change(None, created), NOW_MS)
    assert event == Event(
        EventKind.ITEM_CHANGED, "c81e728d9d4c2f636f067f89cc14862c:ItemChanged", ITEM_ID, item_view(created, NOW_MS)
    )


def test_a_changed_item_is_heard_with_its_figures_after_the_change() -> None:
    before, after = item(20), item(17, stock_revision=2)
    (event,) = events_of(item_change(before, after), NOW_MS)
    assert event.kind is EventKind.ITEM_CHANGED
    assert event.detail == item_view(after, NOW_MS)
    assert event.detail["onHand"] == 17


def test_a_deleted_item_is_heard_as_it_was_and_never_as_crossing_out_of_low_stock() -> None:
    deleted = item(3)
    assert deleted.low_stock
    (event,) = events_of(item_change(deleted, None), NOW_MS)
    assert event.kind is EventKind.ITEM_CHANGED
    assert event.detail == item_view(deleted, NOW_MS)


def test_figures_that_depend_on_time_are_as_of_the_instant_given() -> None:
    held = item(20, levels={MAIN_LOCATION_ID: Level("MAIN", 20, {NOW_MS + 60_000: 5})})
    record = item_change(item(20), held)
    (before_the_end,) = events_of(record, NOW_MS)
    (after_the_end,) = events_of(record, NOW_MS + 60_000)
    assert (before_the_end.detail["reserved"], before_the_end.detail["available"]) == (5, 15)
    assert (after_the_end.detail["reserved"], after_the_end.detail["available"]) == (0, 20)


def test_a_written_movement_is_heard_as_a_stock_movement() -> None:
    (event,) = events_of(movement_insert(), NOW_MS)
    assert event == Event(
        EventKind.STOCK_MOVEMENT, "c81e728d9d4c2f636f067f89cc14862c:StockMovement", ITEM_ID, movement_view(MOVEMENT)
    )


@pytest.mark.parametrize("event_name", ["MODIFY", "REMOVE"])
def test_a_movement_record_changed_or_removed_moves_no_stock_and_makes_no_event(event_name: str) -> None:
    key = {"pk": f"ITEM#{ITEM_ID}", "sk": f"{MOVEMENT_PREFIX}{MOVEMENT.sequence:012d}"}
    record = movement_record(MOVEMENT)
    new = None if event_name == "REMOVE" else record
    assert events_of(stream_record(event_name, key, record, new), NOW_MS) == []


@pytest.mark.parametrize(
    ("before", "after", "low_after"),
    [
        pytest.param(item(11), item(10), True, id="down to the reorder point"),
        pytest.param(item(10), item(11), False, id="back above it"),
        pytest.param(item(3), item(3, discontinued=True), False, id="discontinued: nobody reorders it"),
        pytest.param(item(3, reorder_point=2), item(3, reorder_point=5), True, id="reorder point raised over it"),
    ],
)
def test_an_item_crossing_into_or_out_of_low_stock_is_heard_after_its_change(
    before: Item, after: Item, low_after: bool
) -> None:
    events = events_of(item_change(before, after), NOW_MS)
    assert kinds(events) == [EventKind.ITEM_CHANGED, EventKind.LOW_STOCK]
    low = events[1]
    assert low.event_id == "c81e728d9d4c2f636f067f89cc14862c:LowStock"
    assert low.detail == item_view(after, NOW_MS)
    assert low.detail["lowStock"] is low_after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(item(5), item(4), id="low and still low"),
        pytest.param(item(30), item(20), id="above and still above"),
    ],
)
def test_an_item_staying_on_its_side_of_the_reorder_point_makes_no_low_stock_event(before: Item, after: Item) -> None:
    assert kinds(events_of(item_change(before, after), NOW_MS)) == [EventKind.ITEM_CHANGED]


def test_a_new_item_that_starts_low_is_heard_as_low_stock() -> None:
    assert kinds(events_of(item_change(None, item(0)), NOW_MS)) == [EventKind.ITEM_CHANGED, EventKind.LOW_STOCK]
    assert kinds(events_of(item_change(None, item(11)), NOW_MS)) == [EventKind.ITEM_CHANGED]


@pytest.mark.parametrize(
    ("keys", "image"),
    [
        pytest.param({"pk": "SKU#DRILL-18V", "sk": "SKU"}, {"itemId": ITEM_ID}, id="sku"),
        pytest.param(
            {"pk": "REQUEST#adjustStock#key-1", "sk": "REQUEST"},
            {"kind": "adjustStock", "requestKey": "key-1", "fingerprint": "f", "movements": []},
            id="request",
        ),
        pytest.param(
            {"pk": "RESERVATION#r-1", "sk": "RESERVATION"},
            {"id": "r-1", "status": "ACTIVE", "locationId": MAIN_LOCATION_ID},
            id="reservation",
        ),
        pytest.param({"pk": "LOCATIONS", "sk": "LOCATIONS"}, {"locations": {}}, id="locations"),
    ],
)
@pytest.mark.parametrize("event_name", ["INSERT", "MODIFY", "REMOVE"])
def test_records_other_than_items_and_movements_make_no_event(
    keys: dict[str, str], image: dict[str, Any], event_name: str
) -> None:
    old = None if event_name == "INSERT" else image
    new = None if event_name == "REMOVE" else image
    assert events_of(stream_record(event_name, keys, old, new), NOW_MS) == []


def test_a_record_delivered_again_makes_the_same_event_ids_and_another_record_others() -> None:
    record = item_change(item(11), item(10))
    first = [event.event_id for event in events_of(record, NOW_MS)]
    again = [event.event_id for event in events_of(json.loads(json.dumps(record)), NOW_MS + 5_000)]
    other = [event.event_id for event in events_of(item_change(item(11), item(10), event_id="other"), NOW_MS)]
    assert first == again
    assert len(set(first)) == 2
    assert not set(first) & set(other)


EVENTS = {
    "item with stock at two locations and a hold": events_of(
        item_change(
            None,
            item(
                25,
                description="18 V, two batteries",
                levels={MAIN_LOCATION_ID: Level("MAIN", 20, {NOW_MS + 60_000: 2}), "wh-1": Level("WH1", 5)},
            ),
        ),
        NOW_MS,
    )[0],
    "item with no levels (nothing on hand, nothing held), low": events_of(item_change(None, item(0)), NOW_MS)[1],
    "deleted item": events_of(item_change(item(20), None), NOW_MS)[0],
    "movement": events_of(movement_insert(), NOW_MS)[0],
    "movement without a reference": events_of(movement_insert(MOVEMENT._replace(reference=None)), NOW_MS)[0],
}


@pytest.mark.parametrize("event", EVENTS.values(), ids=EVENTS.keys())
def test_the_publish_mutation_is_valid_and_resolves_to_every_field_of_the_event(event: Event) -> None:
    document, variables = publish_request(event)
    field, result = published(document, variables)
    assert field == CHANNELS[event.kind].publish_field
    assert result == event.detail  # every field selected: a subscriber can ask for any of them


def test_an_item_with_no_levels_still_selects_the_fields_of_a_level() -> None:
    event = EVENTS["item with no levels (nothing on hand, nothing held), low"]
    assert event.detail["levels"] == []
    document, _ = publish_request(event)
    assert "levels { locationId locationCode onHand reserved available }" in document


def test_the_bus_entry_carries_the_event_json_and_its_id_from_inventory() -> None:
    event = EVENTS["movement"]
    entry = bus_entry(event, "inventory-events")
    assert entry == {
        "Source": SOURCE,
        "DetailType": "StockMovement",
        "Detail": entry["Detail"],
        "EventBusName": "inventory-events",
    }
    assert SOURCE == "inventory"
    assert json.loads(entry["Detail"]) == {**movement_view(MOVEMENT), "eventId": event.event_id}


def test_every_kind_is_a_bus_detail_type_with_a_channel() -> None:
    assert {kind.value for kind in EventKind} == {"ItemChanged", "StockMovement", "LowStock"}
    assert set(CHANNELS) == set(EventKind)


def test_an_empty_map_written_untyped_as_dynamodb_local_streams_it_reads_as_the_empty_map() -> None:
    """DynamoDB Local writes {} where DynamoDB writes {"M": {}}: the local server reads its stream."""
    after = item(20)
    record = item_change(item(20), after)
    for image in ("OldImage", "NewImage"):
        assert record["dynamodb"][image]["levels"]["M"]["MAIN"]["M"]["holds"] == {"M": {}}
        record["dynamodb"][image]["levels"]["M"]["MAIN"]["M"]["holds"] = {}
    (event,) = events_of(record, NOW_MS)
    assert event.detail == item_view(after, NOW_MS)
    emptied = item_change(item(0), item(0, version=2))
    emptied["dynamodb"]["NewImage"]["levels"] = {}
    assert events_of(emptied, NOW_MS)[0].detail["levels"] == []
