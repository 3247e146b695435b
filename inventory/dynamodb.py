"""The DynamoDB adapter: records to and from the table of table.py, and every read and conditional write.

It takes a boto3 DynamoDB *client* (cheaper to create than a resource at cold start) and turns DynamoDB's
condition failures into the repository's signals (StaleItems, RequestAlreadyApplied) or into DuplicateSku.
docs/data-model.md lists each access pattern with the calls it makes.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from inventory.attributes import attributes
from inventory.locations import Locations
from inventory.model import (
    MAIN_LOCATION,
    MAIN_LOCATION_ID,
    DuplicateSku,
    Instant,
    Item,
    ItemFilter,
    ItemStatus,
    Level,
    Location,
    MovementReason,
    OrderLine,
    RequestKind,
    RequestRecord,
    Reservation,
    ReservationStatus,
    StockChange,
    StockMovement,
)
from inventory.repository import Key, LocationsChanged, RequestAlreadyApplied, ReservationChanged, StaleItems
from inventory.table import TABLE

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

ITEM_SK, SKU_SK, REQUEST_SK, MOVEMENT_PREFIX = "ITEM", "SKU", "REQUEST", "MOVEMENT#"
RESERVATION_SK, LOCATIONS_KEY = "RESERVATION", {"pk": "LOCATIONS", "sk": "LOCATIONS"}
LIST_ALL, LOW_STOCK = "ITEM", "LOW"  # the single partition values of the all-items and low-stock indexes
BATCH_GET_MAX = 100
UNPROCESSED_RETRIES = 6

# A stored item may be replaced only if neither an edit (version), a stock movement (stockRevision) nor a change of
# holds (holdsRevision, absent from items no reservation ever touched) happened since it was read.
_UNCHANGED = (
    "attribute_exists(pk) AND version = :version AND stockRevision = :stockRevision"
    " AND (attribute_not_exists(holdsRevision) OR holdsRevision = :holdsRevision)"
)
_ACTIVE = "#status = :active"  # a reservation may be committed or released only while it is stored ACTIVE


def _item_key(item_id: str) -> dict[str, str]:
    return {"pk": f"ITEM#{item_id}", "sk": ITEM_SK}


def _sku_key(sku: str) -> dict[str, str]:
    return {"pk": f"SKU#{sku}", "sk": SKU_SK}


def _reservation_key(reservation_id: str) -> dict[str, str]:
    return {"pk": f"RESERVATION#{reservation_id}", "sk": RESERVATION_SK}


# How a request record names its kind, in its key (by key space) and its "kind" attribute: stored records keep these.
_STORED_KINDS = {
    RequestKind.ADJUST_STOCK: "adjustStock",
    RequestKind.FULFILL_ORDER: "fulfillOrder",
    RequestKind.TRANSFER_STOCK: "transferStock",
    RequestKind.SET_STOCK: "setStock",
}
_KINDS_STORED = {stored: kind for kind, stored in _STORED_KINDS.items()}


def _request_key(kind: RequestKind, key: str) -> dict[str, str]:
    return {"pk": f"REQUEST#{_STORED_KINDS[kind.key_space]}#{key}", "sk": REQUEST_SK}


def serialize(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in record.items() if value is not None}


def deserialize(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in record.items()}


def item_record(item: Item) -> dict[str, Any]:
    """The item's attributes (attributes.py), its key, and its index keys."""
    return {
        **_item_key(item.id),
        **attributes(item),
        "levels": {
            location_id: {
                "code": level.code,
                "onHand": level.on_hand,
                "holds": {str(ends): units for ends, units in level.holds.items()},
            }
            for location_id, level in item.levels.items()
        },
        "listAll": LIST_ALL,
        # Sparse index key: present exactly while the item is low on stock.
        "lowStockList": LOW_STOCK if item.low_stock else None,
    }


def item_from_record(record: Mapping[str, Any]) -> Item:
    return Item(
        id=record["id"],
        sku=record["sku"],
        name=record["name"],
        description=record.get("description"),
        category=record["category"],
        price=Decimal(record["price"]),
        quantity=int(record["quantity"]),
        reorder_point=int(record["reorderPoint"]),
        status=ItemStatus(record["status"]),
        version=int(record["version"]),
        created_at=record["createdAt"],
        updated_at=record["updatedAt"],
        stock_revision=int(record["stockRevision"]),
        levels=_levels_from_record(record),
        holds_revision=int(record.get("holdsRevision", 0)),
    )


def _levels_from_record(record: Mapping[str, Any]) -> dict[str, Level]:
    stored = record.get("levels")
    if stored is None:  # written by v1: all of it at MAIN, nothing held
        quantity = int(record["quantity"])
        return {MAIN_LOCATION_ID: Level(MAIN_LOCATION.code, quantity)} if quantity else {}
    return {
        location_id: Level(
            level["code"], int(level["onHand"]), {int(ends): int(units) for ends, units in level["holds"].items()}
        )
        for location_id, level in stored.items()
    }


def movement_record(movement: StockMovement) -> dict[str, Any]:
    return attributes(movement)


def movement_from_record(record: Mapping[str, Any]) -> StockMovement:
    return StockMovement(
        id=record["id"],
        item_id=record["itemId"],
        delta=int(record["delta"]),
        quantity_after=int(record["quantityAfter"]),
        reason=MovementReason(record["reason"]),
        reference=record.get("reference"),
        created_at=record["createdAt"],
        sequence=int(record["sequence"]),
        # Written by v1: at MAIN, where the item's whole quantity was.
        location_id=record.get("locationId", MAIN_LOCATION_ID),
        location_quantity_after=int(record.get("locationQuantityAfter", record["quantityAfter"])),
    )


def _movement_key(movement: StockMovement) -> dict[str, str]:
    # Zero-padded so that the sort key orders movements by sequence: newest first is a reverse Query.
    return {"pk": f"ITEM#{movement.item_id}", "sk": f"{MOVEMENT_PREFIX}{movement.sequence:012d}"}


def request_record(record: RequestRecord) -> dict[str, Any]:
    return {
        **_request_key(record.kind, record.key),
        "kind": _STORED_KINDS[record.kind],
        "requestKey": record.key,
        "fingerprint": record.fingerprint,
        "movements": _movements_record(record.movements),
        TABLE.ttl_attribute: record.expires_at,
        "resultId": record.result_id,
    }


def request_from_record(record: Mapping[str, Any]) -> RequestRecord:
    expires = record.get(TABLE.ttl_attribute)
    return RequestRecord(
        kind=_KINDS_STORED[record["kind"]],
        key=record["requestKey"],
        fingerprint=record["fingerprint"],
        movements=tuple(movement_from_record(m) for m in record["movements"]),
        expires_at=None if expires is None else int(expires),
        result_id=record.get("resultId"),
    )


def _movements_record(movements: Iterable[StockMovement]) -> list[dict[str, Any]]:
    return [{name: value for name, value in movement_record(m).items() if value is not None} for m in movements]


def reservation_record(reservation: Reservation) -> dict[str, Any]:
    return {
        **_reservation_key(reservation.id),
        "id": reservation.id,
        "locationId": reservation.location_id,
        "lines": [{"itemId": line.item_id, "quantity": line.quantity} for line in reservation.lines],
        "expiresAtMs": reservation.ends_ms,  # not the TTL attribute: a reservation is kept (its id applies once)
        "reference": reservation.reference,
        "createdAt": reservation.created_at,
        "fingerprint": reservation.fingerprint,
        "status": reservation.state.value,
        "movements": _movements_record(reservation.movements),
    }


def reservation_from_record(record: Mapping[str, Any]) -> Reservation:
    return Reservation(
        id=record["id"],
        location_id=record["locationId"],
        lines=tuple(OrderLine(line["itemId"], int(line["quantity"])) for line in record["lines"]),
        ends_ms=int(record["expiresAtMs"]),
        reference=record.get("reference"),
        created_at=record["createdAt"],
        fingerprint=record["fingerprint"],
        state=ReservationStatus(record["status"]),
        movements=tuple(movement_from_record(m) for m in record["movements"]),
    )


def locations_record(locations: Locations) -> dict[str, Any]:
    return {
        **LOCATIONS_KEY,
        "locations": {
            location.id: {"code": location.code, "name": location.name, "createdAt": location.created_at}
            for location in locations.stored.values()
        },
        "revision": locations.revision,
    }


def locations_from_record(record: Mapping[str, Any] | None) -> Locations:
    if record is None:
        return Locations()
    stored = {
        location_id: Location(location_id, value["code"], value["name"], value["createdAt"])
        for location_id, value in record["locations"].items()
    }
    return Locations(stored, int(record["revision"]))


def _unchanged_values(item: Item) -> dict[str, Any]:
    return serialize(
        {":version": item.version, ":stockRevision": item.stock_revision, ":holdsRevision": item.holds_revision}
    )


class DynamoDBInventoryRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # Reads

    def get_item(self, item_id: str) -> Item | None:
        response = self._client.get_item(TableName=self._table, Key=serialize(_item_key(item_id)), ConsistentRead=True)
        record = response.get("Item")
        return None if record is None else item_from_record(deserialize(record))

    def find_item_id_by_sku(self, sku: str) -> str | None:
        response = self._client.get_item(TableName=self._table, Key=serialize(_sku_key(sku)), ConsistentRead=True)
        record = response.get("Item")
        return None if record is None else str(deserialize(record)["itemId"])

    def get_items(self, item_ids: Sequence[str]) -> dict[str, Item]:
        # Consistent: an item the index already lists is never missing from its page because the read lagged.
        records = self._batch_get([_item_key(item_id) for item_id in item_ids], consistent=True)
        return {record["id"]: item_from_record(record) for record in records}

    def read_for_stock_change(
        self, item_ids: Sequence[str], kind: RequestKind, key: str, locations: bool = False
    ) -> tuple[dict[str, Item], RequestRecord | None, Locations | None]:
        items, records = self._read_with(_request_key(kind, key), item_ids, locations)
        request = records.get(REQUEST_SK)
        return items, None if request is None else request_from_record(request), self._locations(records, locations)

    def read_for_reservation(
        self, reservation_id: str, item_ids: Sequence[str], locations: bool
    ) -> tuple[dict[str, Item], Reservation | None, Locations | None]:
        items, records = self._read_with(_reservation_key(reservation_id), item_ids, locations)
        found = records.get(RESERVATION_SK)
        return items, None if found is None else reservation_from_record(found), self._locations(records, locations)

    def _read_with(
        self, key: Mapping[str, str], item_ids: Sequence[str], locations: bool
    ) -> tuple[dict[str, Item], dict[str, dict[str, Any]]]:
        """Items and other records (by sort key) in one consistent BatchGetItem."""
        keys = [key, *(_item_key(item_id) for item_id in item_ids), *([LOCATIONS_KEY] if locations else [])]
        items: dict[str, Item] = {}
        others: dict[str, dict[str, Any]] = {}
        for record in self._batch_get(keys, consistent=True):
            if record["sk"] == ITEM_SK:
                items[record["id"]] = item_from_record(record)
            else:
                others[record["sk"]] = record
        return items, others

    @staticmethod
    def _locations(records: Mapping[str, dict[str, Any]], asked: bool) -> Locations | None:
        return locations_from_record(records.get(LOCATIONS_KEY["sk"])) if asked else None

    def get_reservation(self, reservation_id: str) -> Reservation | None:
        record = self._get(_reservation_key(reservation_id))
        return None if record is None else reservation_from_record(record)

    def get_locations(self) -> Locations:
        return locations_from_record(self._get(LOCATIONS_KEY))

    def _get(self, key: Mapping[str, str]) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self._table, Key=serialize(key), ConsistentRead=True)
        record = response.get("Item")
        return None if record is None else deserialize(record)

    def list_items(self, item_filter: ItemFilter, limit: int, start: Key | None) -> tuple[list[Item], Key | None]:
        index, value = _index_for(item_filter)
        keys, last = self._query_page(
            IndexName=index,
            KeyConditionExpression="#partition = :value",
            ExpressionAttributeNames={"#partition": TABLE.index(index).partition_key},
            ExpressionAttributeValues=serialize({":value": value}),
            limit=limit,
            start=start,
        )
        # The index holds keys only; the item id is in the table key. Items deleted meanwhile are simply absent.
        ids = [record["pk"].removeprefix("ITEM#") for record in keys]
        found = self.get_items(ids) if ids else {}
        return [found[item_id] for item_id in ids if item_id in found], last

    def list_movements(self, item_id: str, limit: int, start: Key | None) -> tuple[list[StockMovement], Key | None]:
        records, last = self._query_page(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=serialize({":pk": f"ITEM#{item_id}", ":prefix": MOVEMENT_PREFIX}),
            ScanIndexForward=False,
            limit=limit,
            start=start,
        )
        return [movement_from_record(record) for record in records], last

    def _query_page(self, limit: int, start: Key | None, **query: Any) -> tuple[list[dict[str, Any]], Key | None]:
        """One Query for ``limit`` records; asks for one more so that a last page carries no nextToken."""
        if start is not None:
            query["ExclusiveStartKey"] = serialize(start)
        response = self._client.query(TableName=self._table, Limit=limit + 1, **query)
        records = [deserialize(record) for record in response.get("Items", [])]
        if len(records) > limit:
            records = records[:limit]
            return records, _resume_key(records[-1], query.get("IndexName"))
        last = response.get("LastEvaluatedKey")
        return records, None if last is None else deserialize(last)

    def _batch_get(self, keys: Sequence[Mapping[str, str]], consistent: bool) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_MAX):
            request: dict[str, Any] = {
                self._table: {
                    "Keys": [serialize(key) for key in keys[start : start + BATCH_GET_MAX]],
                    "ConsistentRead": consistent,
                }
            }
            for attempt in range(UNPROCESSED_RETRIES):
                response = self._client.batch_get_item(RequestItems=request)
                records.extend(deserialize(record) for record in response["Responses"].get(self._table, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                # DynamoDB left keys unprocessed (throttling): ask again for just those, after a growing pause.
                time.sleep(random.uniform(0, 0.05 * 2**attempt))
            else:
                raise RuntimeError("BatchGetItem left keys unprocessed after retries")
        return records

    # Writes

    def create_item(self, item: Item, movement: StockMovement | None) -> None:
        actions = [
            self._put(item_record(item), "attribute_not_exists(pk)"),
            self._put({**_sku_key(item.sku), "itemId": item.id}, "attribute_not_exists(pk)"),
        ]
        if movement is not None:
            actions.append(self._put({**_movement_key(movement), **movement_record(movement)}))
        try:
            self._client.transact_write_items(TransactItems=actions)
        except self._client.exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons", [])
            if len(reasons) > 1 and reasons[1].get("Code") == "ConditionalCheckFailed":
                raise DuplicateSku(item.sku) from None
            raise _signal(reasons, [item.id, None]) from None  # a conflict (same sku at the same moment): retry

    def replace_item(self, before: Item, after: Item) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=serialize(item_record(after)),
                ConditionExpression=_UNCHANGED,
                ExpressionAttributeValues=_unchanged_values(before),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as error:
            current = error.response.get("Item")
            raise StaleItems({before.id: None if current is None else item_from_record(deserialize(current))}) from None

    def delete_item(self, item: Item) -> None:
        actions = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": serialize(_item_key(item.id)),
                    "ConditionExpression": _UNCHANGED,
                    "ExpressionAttributeValues": _unchanged_values(item),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            },
            {"Delete": {"TableName": self._table, "Key": serialize(_sku_key(item.sku))}},
        ]
        self._transact(list(zip(actions, [item.id, None], strict=True)))

    def apply_stock_changes(self, changes: Sequence[StockChange], record: RequestRecord) -> None:
        request = self._put(request_record(record), "attribute_not_exists(pk)", return_old=True)
        self._transact([(request, _Guard.REQUEST), *self._change_actions(changes)])

    def create_reservation(self, reservation: Reservation, changes: Sequence[StockChange]) -> None:
        put = self._put(reservation_record(reservation), "attribute_not_exists(pk)", return_old=True)
        self._transact([(put, _Guard.RESERVATION), *self._change_actions(changes)])

    def commit_reservation(self, before: Reservation, after: Reservation, changes: Sequence[StockChange]) -> None:
        self._transact([(self._still_active(after), _Guard.RESERVATION), *self._change_actions(changes)])

    def release_reservation(self, before: Reservation, after: Reservation, now: Instant) -> None:
        actions: list[tuple[dict[str, Any], _Guard | str | None]] = [(self._still_active(after), _Guard.RESERVATION)]
        for line in before.lines:
            # The hold's units are known from the reservation, so the items need not be read: give them back in
            # place. Other writers see holdsRevision move, as for any change of holds.
            update = {
                "TableName": self._table,
                "Key": serialize(_item_key(line.item_id)),
                "UpdateExpression": (
                    "SET levels.#location.holds.#ends = levels.#location.holds.#ends - :units,"
                    " holdsRevision = holdsRevision + :one, updatedAt = :now"
                ),
                "ConditionExpression": "levels.#location.holds.#ends >= :units",
                "ExpressionAttributeNames": {"#location": before.location_id, "#ends": str(before.ends_ms)},
                "ExpressionAttributeValues": serialize({":units": line.quantity, ":one": 1, ":now": now.text}),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
            actions.append(({"Update": update}, line.item_id))
        self._transact(actions)

    def tidy_items(self, changes: Sequence[StockChange]) -> None:
        if len(changes) == 1:  # one item: a PutItem, half a transaction's write capacity
            self.replace_item(changes[0].before, changes[0].after)
            return
        self._transact(self._change_actions(changes))

    def put_locations(self, before: Locations, after: Locations) -> None:
        condition, values = "attribute_not_exists(pk)", None
        if before.revision:
            condition, values = "revision = :revision", serialize({":revision": before.revision})
        put = self._put(locations_record(after), condition, values, return_old=True)["Put"]
        try:
            self._client.put_item(**{name: value for name, value in put.items()})
        except self._client.exceptions.ConditionalCheckFailedException as error:
            current = error.response.get("Item")
            raise LocationsChanged(locations_from_record(None if current is None else deserialize(current))) from None

    def _still_active(self, after: Reservation) -> dict[str, Any]:
        put = self._put(reservation_record(after), _ACTIVE, serialize({":active": "ACTIVE"}), return_old=True)
        put["Put"]["ExpressionAttributeNames"] = {"#status": "status"}  # a reserved word in expressions
        return put

    def _change_actions(self, changes: Sequence[StockChange]) -> list[tuple[dict[str, Any], _Guard | str | None]]:
        """Each change: the item put (or, when it does not change, checked) as read, then its movements."""
        actions: list[tuple[dict[str, Any], _Guard | str | None]] = []
        for change in changes:
            if change.after is change.before:
                check = {
                    "TableName": self._table,
                    "Key": serialize(_item_key(change.before.id)),
                    "ConditionExpression": _UNCHANGED,
                    "ExpressionAttributeValues": _unchanged_values(change.before),
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
                actions.append(({"ConditionCheck": check}, change.before.id))
                continue
            put = self._put(item_record(change.after), _UNCHANGED, _unchanged_values(change.before), return_old=True)
            actions.append((put, change.before.id))
            actions += [(self._put({**_movement_key(m), **movement_record(m)}), None) for m in change.movements]
        return actions

    def _put(
        self,
        record: Mapping[str, Any],
        condition: str | None = None,
        values: dict[str, Any] | None = None,
        return_old: bool = False,
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": serialize(record)}
        if condition:
            put["ConditionExpression"] = condition
        if values:
            put["ExpressionAttributeValues"] = values
        if return_old:
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Put": put}

    def _transact(self, actions: Sequence[tuple[dict[str, Any], _Guard | str | None]]) -> None:
        """Run a transaction of (action, guard) pairs: the guard says what action's condition protects, an item id
        for an item's state, so that a cancellation can say what changed."""
        try:
            self._client.transact_write_items(TransactItems=[action for action, _ in actions])
        except self._client.exceptions.TransactionCanceledException as error:
            raise _signal(error.response.get("CancellationReasons", []), [guard for _, guard in actions]) from None


class _Guard(enum.Enum):
    """Conditioned actions of a transaction that guard something other than an item's state."""

    REQUEST = enum.auto()  # the request record is new: the request was not applied before
    RESERVATION = enum.auto()  # the reservation is new, or still ACTIVE as read


def _signal(reasons: Iterable[Mapping[str, Any]], guards: Sequence[_Guard | str | None]) -> Exception:
    """Turn a cancelled transaction's reasons into the repository signal they mean."""
    current: dict[str, Item | None] = {}
    for reason, guard in zip(reasons, guards, strict=False):
        if reason.get("Code") != "ConditionalCheckFailed":
            continue
        old = deserialize(reason.get("Item") or {})
        if guard is _Guard.REQUEST:
            return RequestAlreadyApplied(request_from_record(old))
        if guard is _Guard.RESERVATION:
            return ReservationChanged(reservation_from_record(old))
        if isinstance(guard, str):
            current[guard] = item_from_record(old) if old else None
    codes = {reason.get("Code") for reason in reasons} - {"None", None, "ConditionalCheckFailed"}
    if codes - {"TransactionConflict"}:
        return RuntimeError(f"transaction cancelled: {sorted(str(code) for code in codes)}")
    return StaleItems(current)


def _index_for(item_filter: ItemFilter) -> tuple[str, str]:
    if item_filter.category is not None:
        return "by-category", item_filter.category
    if item_filter.status is not None:
        return "by-status", item_filter.status.value
    if item_filter.low_stock:
        return "low-stock", LOW_STOCK
    return "all-items", LIST_ALL


def _resume_key(record: Mapping[str, Any], index: str | None) -> Key:
    """The ExclusiveStartKey that resumes a Query after ``record``: table keys, plus the index's keys."""
    names = [TABLE.partition_key, TABLE.sort_key]
    if index is not None:
        names += [TABLE.index(index).partition_key, TABLE.index(index).sort_key]
    return {name: record[name] for name in names}
