"""The one definition of the inventory table: keys, indexes and TTL attribute.

The tests and the local server create the table from :func:`create_table_request`; the CDK stack builds its
TableV2 from :data:`TABLE`. docs/data-model.md explains every access pattern that uses these keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableDefinition:
    partition_key: str
    sort_key: str
    indexes: tuple[Index, ...]
    ttl_attribute: str
    stream_view: str  # what a stream record carries: events (events.py) need the record before and after

    def index(self, name: str) -> Index:
        return next(index for index in self.indexes if index.name == name)


# Every index projects keys only: listing reads keys from the index, then the items themselves in one
# BatchGetItem. So a stock change rewrites an index entry only when the entry's key changes (an item crossing into
# or out of low stock, or changing status), never on every sale.
TABLE = TableDefinition(
    partition_key="pk",
    sort_key="sk",
    indexes=(
        Index("all-items", partition_key="listAll", sort_key="sku"),
        Index("by-category", partition_key="category", sort_key="sku"),
        Index("by-status", partition_key="status", sort_key="sku"),
        Index("low-stock", partition_key="lowStockList", sort_key="sku"),
    ),
    ttl_attribute="expiresAt",
    stream_view="NEW_AND_OLD_IMAGES",
)


def create_table_request(table_name: str) -> dict[str, Any]:
    """Keyword arguments for DynamoDB CreateTable (on-demand), for tests and the local server."""
    attributes = {TABLE.partition_key, TABLE.sort_key}
    for index in TABLE.indexes:
        attributes |= {index.partition_key, index.sort_key}
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in sorted(attributes)],
        "KeySchema": [
            {"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
            {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
            for index in TABLE.indexes
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": TABLE.stream_view},
    }


def ensure_table(client: Any, table_name: str) -> None:
    """Create the table and turn on TTL unless it exists (idempotent; used by tests and the local server)."""
    try:
        client.create_table(**create_table_request(table_name))
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})
    client.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute}
    )
