"""Every change of the data, as events: what a DynamoDB stream record of the table means to clients.

Events come from the data, not from the mutation that caused them, so that a sale by fulfillOrder, a transfer, a
count or a commit is heard like an adjustStock. One function, :func:`events_of`, turns one stream record (its
table record before and after) into the events it makes; the Lambda stream handler (resolvers/stream.py) and the
local server both use it. An event's ``detail`` is the JSON of its GraphQL type (views.py), so subscribers, the
publish mutations and the event bus carry one shape.

``event_id`` is the stream record's id plus the event's kind: a batch delivered again (DynamoDB Streams delivers
at least once) makes the same ids, so consumers can drop duplicates.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from inventory.dynamodb import ITEM_SK, MOVEMENT_PREFIX, deserialize, item_from_record, movement_from_record
from inventory.model import Item, StockLevel
from inventory.views import Json, item_view, level_view, movement_view


class EventKind(enum.StrEnum):
    """Also the event's ``detail-type`` on the bus."""

    ITEM_CHANGED = "ItemChanged"
    STOCK_MOVEMENT = "StockMovement"
    LOW_STOCK = "LowStock"


class Event(NamedTuple):
    kind: EventKind
    event_id: str
    item_id: str  # events of one item keep their order: the stream orders each item's records
    detail: Json  # the GraphQL type's JSON: Item (ItemChanged, LowStock) or StockMovement


class Channel(NamedTuple):
    """How one kind of event reaches GraphQL subscribers: the publish mutation (IAM only) that carries it, and the
    subscription that delivers it, filtered on each of its arguments by the payload field of the same name."""

    publish_field: str
    publish_argument: str
    subscription_field: str
    filters: tuple[str, ...]


CHANNELS: Mapping[EventKind, Channel] = {
    EventKind.ITEM_CHANGED: Channel("publishItemChanged", "item", "onItemChanged", ("id",)),
    EventKind.STOCK_MOVEMENT: Channel("publishStockMovement", "movement", "onStockMovement", ("itemId", "locationId")),
    EventKind.LOW_STOCK: Channel("publishLowStock", "item", "onLowStock", ("category",)),
}

SOURCE = "inventory"  # the events' source on the bus


def events_of(record: Mapping[str, Any], now_ms: int) -> list[Event]:
    """The events one stream record makes (``NEW_AND_OLD_IMAGES``), in the order subscribers should hear them.

    An item record: ItemChanged for every change (a deleted item is heard as it was), and LowStock when the item
    crosses into low stock (a new item that starts low included) or back out. A movement record, when written:
    StockMovement. Other records (skus, requests, reservations, locations) make none: their effects on stock are
    the item and movement records written in the same transaction. Figures that depend on time (reserved,
    available) are as of ``now_ms``.
    """
    change = record.get("dynamodb", {})
    sort_key = str(deserialize(change.get("Keys", {})).get("sk", ""))
    if not (sort_key == ITEM_SK or sort_key.startswith(MOVEMENT_PREFIX)):
        return []  # read no further: other records' images are none of the events' business
    old, new = (_image(change[image]) if image in change else None for image in ("OldImage", "NewImage"))
    record_id = str(record["eventID"])
    if sort_key.startswith(MOVEMENT_PREFIX):
        if record.get("eventName") != "INSERT" or new is None:
            return []
        movement = movement_from_record(new)
        return [_event(EventKind.STOCK_MOVEMENT, record_id, movement.item_id, movement_view(movement))]
    before, after = (None if image is None else item_from_record(image) for image in (old, new))
    current = after or before
    if current is None:
        return []
    events = [_event(EventKind.ITEM_CHANGED, record_id, current.id, item_view(current, now_ms))]
    if after is not None and _low(before) != after.low_stock:
        events.append(_event(EventKind.LOW_STOCK, record_id, after.id, item_view(after, now_ms)))
    return events


def _image(image: Mapping[str, Any]) -> dict[str, Any]:
    return deserialize({name: _typed(value) for name, value in image.items()})


def _typed(value: Any) -> Any:
    """An attribute value, with every empty map typed. DynamoDB Local writes an empty map in a stream image as
    ``{}`` where DynamoDB writes ``{"M": {}}`` (an item's holds at a location, or its levels, are often empty), and
    the local server and the tests read its stream: both spellings are read as the empty map."""
    if value == {}:
        return {"M": {}}
    if isinstance(value, Mapping) and isinstance(value.get("M"), Mapping):
        return {"M": {name: _typed(entry) for name, entry in value["M"].items()}}
    if isinstance(value, Mapping) and isinstance(value.get("L"), list):
        return {"L": [_typed(entry) for entry in value["L"]]}
    return value


def _low(item: Item | None) -> bool:
    return item is not None and item.low_stock


def _event(kind: EventKind, record_id: str, item_id: str, detail: Json) -> Event:
    return Event(kind, f"{record_id}:{kind.value}", item_id, detail)


def publish_request(event: Event) -> tuple[str, dict[str, Any]]:
    """The publish mutation that hands ``event`` to AppSync's subscribers: its document and variables. It selects
    every field of the payload, since a subscription can only deliver what its mutation selected."""
    channel = CHANNELS[event.kind]
    document = (
        f"mutation Publish($payload: AWSJSON!) {{ {channel.publish_field}({channel.publish_argument}: $payload) "
        f"{selection(event.detail)} }}"
    )
    return document, {"payload": json.dumps(event.detail, separators=(",", ":"))}


# A list of objects left empty still needs its fields selected: an element for each such list a payload carries.
_LIST_SAMPLES: Mapping[str, Json] = {"levels": level_view(StockLevel("", "", 0, 0))}


def selection(value: Json) -> str:
    """A selection set of every field of a JSON object, nested objects (and lists of them) included."""
    fields = []
    for name, entry in value.items():
        sample = (entry[0] if entry else _LIST_SAMPLES.get(name)) if isinstance(entry, list) else entry
        fields.append(f"{name} {selection(sample)}" if isinstance(sample, dict) else name)
    return "{ " + " ".join(fields) + " }"


def bus_entry(event: Event, bus_name: str) -> dict[str, Any]:
    """The EventBridge PutEvents entry of ``event``: its GraphQL JSON plus ``eventId``."""
    return {
        "Source": SOURCE,
        "DetailType": event.kind.value,
        "Detail": json.dumps({**event.detail, "eventId": event.event_id}, separators=(",", ":")),
        "EventBusName": bus_name,
    }
