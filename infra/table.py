"""The DynamoDB table, built from the one table definition (inventory/table.py): keys, indexes and TTL are not
restated here."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from infra.config import OnDemand, Provisioned, TableConfig
from inventory.table import TABLE, Index


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _billing(capacity: OnDemand | Provisioned) -> dynamodb.Billing:
    if isinstance(capacity, OnDemand):
        return dynamodb.Billing.on_demand(
            max_read_request_units=capacity.max_read_request_units,
            max_write_request_units=capacity.max_write_request_units,
        )
    read, write = _capacities(capacity)
    return dynamodb.Billing.provisioned(read_capacity=read, write_capacity=write)


def _capacities(capacity: Provisioned) -> tuple[dynamodb.Capacity, dynamodb.Capacity]:
    target = capacity.target_utilization_percent
    read = dynamodb.Capacity.autoscaled(
        min_capacity=capacity.min_read_capacity,
        max_capacity=capacity.max_read_capacity,
        target_utilization_percent=target,
    )
    write = dynamodb.Capacity.autoscaled(
        min_capacity=capacity.min_write_capacity,
        max_capacity=capacity.max_write_capacity,
        target_utilization_percent=target,
    )
    return read, write


def _index(index: Index, capacity: OnDemand | Provisioned) -> dynamodb.GlobalSecondaryIndexPropsV2:
    """One global secondary index, keys only (see docs/data-model.md), with the table's ceiling or auto-scaling. An
    index has a throughput of its own: without its own ceiling, its reads and writes would be unbounded."""
    read_capacity = write_capacity = None
    max_read = max_write = None
    if isinstance(capacity, OnDemand):
        max_read, max_write = capacity.max_read_request_units, capacity.max_write_request_units
    else:
        read_capacity, write_capacity = _capacities(capacity)
    return dynamodb.GlobalSecondaryIndexPropsV2(
        index_name=index.name,
        partition_key=_string(index.partition_key),
        sort_key=_string(index.sort_key),
        projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        max_read_request_units=max_read,
        max_write_request_units=max_write,
        read_capacity=read_capacity,
        write_capacity=write_capacity,
    )


class InventoryTable(Construct):
    """The single table of the API. Its stream carries every change, the record before and after
    (TABLE.stream_view), to the stream handler that makes the API's events (infra/events.py)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: TableConfig, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=_string(TABLE.partition_key),
            sort_key=_string(TABLE.sort_key),
            global_secondary_indexes=[_index(index, config.capacity) for index in TABLE.indexes],
            dynamo_stream=dynamodb.StreamViewType(TABLE.stream_view),
            time_to_live_attribute=TABLE.ttl_attribute,  # idempotency records of adjustStock expire
            billing=_billing(config.capacity),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=config.point_in_time_recovery
            ),
            deletion_protection=config.deletion_protection,
            removal_policy=removal_policy,
        )
        self.index_names = [index.name for index in TABLE.indexes]
