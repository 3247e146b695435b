"""The DynamoDB adapter: records to and from the table of table.py, and every read and conditional write.

It takes a boto3 DynamoDB *client* (cheaper to create than a resource at cold start) and turns DynamoDB's
condition failures into the repository's signals (StaleItems, RequestAlreadyApplied) or into DuplicateSku.
docs/data-model.md lists each access pattern with the calls it makes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from inventory.attributes import attributes
from inventory.model import (
    DuplicateSku,
    Item,
    ItemFilter,
    ItemStatus,
    MovementReason,
    RequestKind,
    RequestRecord,
    StockChange,
    StockMovement,
)
from inventory.repository import Key, RequestAlreadyApplied, StaleItems
from inventory.table import TABLE

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

ITEM_SK, SKU_SK, REQUEST_SK, MOVEMENT_PREFIX = "ITEM", "SKU", "REQUEST", "MOVEMENT#"
LIST_ALL, LOW_STOCK = "ITEM", "LOW"  # the single partition values of the all-items and low-stock indexes
BATCH_GET_MAX = 100
UNPROCESSED_RETRIES = 6

# A stored item may be replaced only if neither an edit (version) nor a stock movement (stockRevision) happened.
_UNCHANGED = "attribute_exists(pk) AND version = :version AND stockRevision = :stockRevision"


def _item_key(item_id: str) -> dict[str, str]:
    return {"pk": f"ITEM#{item_id}", "sk": ITEM_SK}


def _sku_key(sku: str) -> dict[str, str]:
    return {"pk": f"SKU#{sku}", "sk": SKU_SK}


# How a request record names its kind, in its key and its "kind" attribute: records already stored keep these.
_STORED_KINDS = {RequestKind.ADJUST_STOCK: "adjustStock", RequestKind.FULFILL_ORDER: "fulfillOrder"}
_KINDS_STORED = {stored: kind for kind, stored in _STORED_KINDS.items()}


def _request_key(kind: RequestKind, key: str) -> dict[str, str]:
    return {"pk": f"REQUEST#{_STORED_KINDS[kind]}#{key}", "sk": REQUEST_SK}


def serialize(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in record.items() if value is not None}


def deserialize(record: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in record.items()}


def item_record(item: Item) -> dict[str, Any]:
    """The item's attributes (attributes.py), its key, and its index keys."""
    return {
        **_item_key(item.id),
        **attributes(item),
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
    )


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
        "movements": [
            {name: value for name, value in movement_record(m).items() if value is not None} for m in record.movements
        ],
        TABLE.ttl_attribute: record.expires_at,
    }


def request_from_record(record: Mapping[str, Any]) -> RequestRecord:
    expires = record.get(TABLE.ttl_attribute)
    return RequestRecord(
        kind=_KINDS_STORED[record["kind"]],
        key=record["requestKey"],
        fingerprint=record["fingerprint"],
        movements=tuple(movement_from_record(m) for m in record["movements"]),
        expires_at=None if expires is None else int(expires),
    )


def _unchanged_values(item: Item) -> dict[str, Any]:
    return serialize({":version": item.version, ":stockRevision": item.stock_revision})


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
        self, item_ids: Sequence[str], kind: RequestKind, key: str
    ) -> tuple[dict[str, Item], RequestRecord | None]:
        keys = [_request_key(kind, key), *(_item_key(item_id) for item_id in item_ids)]
        items: dict[str, Item] = {}
        request = None
        for record in self._batch_get(keys, consistent=True):
            if record["sk"] == REQUEST_SK:
                request = request_from_record(record)
            else:
                items[record["id"]] = item_from_record(record)
        return items, request

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
        self._transact(actions, [item.id, None])

    def apply_stock_changes(self, changes: Sequence[StockChange], record: RequestRecord) -> None:
        actions = [self._put(request_record(record), "attribute_not_exists(pk)", return_old=True)]
        owners: list[str | None] = [None]
        for change in changes:
            actions.append(
                self._put(item_record(change.after), _UNCHANGED, _unchanged_values(change.before), return_old=True)
            )
            actions.append(self._put({**_movement_key(change.movement), **movement_record(change.movement)}))
            owners += [change.before.id, None]
        self._transact(actions, owners)

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

    def _transact(self, actions: list[dict[str, Any]], owners: Sequence[str | None]) -> None:
        """Run a transaction; ``owners[i]`` is the item id whose state action i is conditioned on, if any."""
        try:
            self._client.transact_write_items(TransactItems=actions)
        except self._client.exceptions.TransactionCanceledException as error:
            raise _signal(error.response.get("CancellationReasons", []), owners) from None


def _signal(reasons: Iterable[Mapping[str, Any]], owners: Sequence[str | None]) -> Exception:
    """Turn a cancelled transaction's reasons into the repository signal they mean."""
    current: dict[str, Item | None] = {}
    for reason, owner in zip(reasons, owners, strict=False):
        code = reason.get("Code")
        if code != "ConditionalCheckFailed":
            continue
        old = reason.get("Item")
        if owner is None:  # the only conditioned action without an owner is the request record
            return RequestAlreadyApplied(request_from_record(deserialize(old or {})))
        current[owner] = None if old is None else item_from_record(deserialize(old))
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
