"""The DynamoDB table: built from inventory/table.py, capped or auto-scaled, protected in prod."""

from __future__ import annotations

from typing import Any

from aws_cdk.assertions import Match

from infra.config import OnDemand, Provisioned
from inventory.table import TABLE, create_table_request
from tests.infra.conftest import Synthesized


def _table(synth: Synthesized) -> dict[str, Any]:
    return synth.one("AWS::DynamoDB::GlobalTable")[1]


def test_the_table_has_the_keys_indexes_and_ttl_of_the_shared_definition(any_env: Synthesized) -> None:
    properties = _table(any_env)["Properties"]
    expected = create_table_request("unused")  # what the tests and the local server create, from the same TABLE

    assert properties["KeySchema"] == expected["KeySchema"]
    assert sorted(properties["AttributeDefinitions"], key=str) == sorted(expected["AttributeDefinitions"], key=str)
    indexes = {
        index["IndexName"]: {"KeySchema": index["KeySchema"], "Projection": index["Projection"]}
        for index in properties["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        index["IndexName"]: {"KeySchema": index["KeySchema"], "Projection": index["Projection"]}
        for index in expected["GlobalSecondaryIndexes"]
    }
    assert properties["TimeToLiveSpecification"] == {"AttributeName": TABLE.ttl_attribute, "Enabled": True}


def test_the_table_streams_every_change_with_the_record_before_and_after(any_env: Synthesized) -> None:
    expected = create_table_request("unused")["StreamSpecification"]  # what the local server reads, too

    assert _table(any_env)["Properties"]["StreamSpecification"] == {"StreamViewType": TABLE.stream_view}
    assert expected == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_on_demand_capacity_is_capped_on_the_table_and_every_index(env: Synthesized) -> None:
    capacity = env.config.table.capacity
    assert isinstance(capacity, OnDemand)
    properties = _table(env)["Properties"]
    (replica,) = properties["Replicas"]
    max_write = {"MaxWriteRequestUnits": capacity.max_write_request_units}
    max_read = {"MaxReadRequestUnits": capacity.max_read_request_units}

    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["WriteOnDemandThroughputSettings"] == max_write
    assert replica["ReadOnDemandThroughputSettings"] == max_read
    assert [index["WriteOnDemandThroughputSettings"] for index in properties["GlobalSecondaryIndexes"]] == [
        max_write
    ] * len(TABLE.indexes)
    assert [index["ReadOnDemandThroughputSettings"] for index in replica["GlobalSecondaryIndexes"]] == [max_read] * len(
        TABLE.indexes
    )


def test_provisioned_capacity_auto_scales_the_table_and_every_index(variant: Synthesized) -> None:
    capacity = variant.config.table.capacity
    assert isinstance(capacity, Provisioned)
    properties = _table(variant)["Properties"]
    (replica,) = properties["Replicas"]

    def scaling(minimum: int, maximum: int) -> dict[str, Any]:
        return {
            "MinCapacity": minimum,
            "MaxCapacity": maximum,
            "TargetTrackingScalingPolicyConfiguration": {"TargetValue": capacity.target_utilization_percent},
        }

    write = {"WriteCapacityAutoScalingSettings": scaling(capacity.min_write_capacity, capacity.max_write_capacity)}
    read = {"ReadCapacityAutoScalingSettings": scaling(capacity.min_read_capacity, capacity.max_read_capacity)}
    assert properties["BillingMode"] == "PROVISIONED"
    assert properties["WriteProvisionedThroughputSettings"] == write
    assert replica["ReadProvisionedThroughputSettings"] == read
    assert [index["WriteProvisionedThroughputSettings"] for index in properties["GlobalSecondaryIndexes"]] == [
        write
    ] * len(TABLE.indexes)
    assert [index["ReadProvisionedThroughputSettings"] for index in replica["GlobalSecondaryIndexes"]] == [read] * len(
        TABLE.indexes
    )


def test_prod_keeps_the_table_recoverable_protected_and_retained(prod: Synthesized) -> None:
    prod.template.has_resource(
        "AWS::DynamoDB::GlobalTable",
        {
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": Match.object_like(
                {
                    "Replicas": [
                        Match.object_like(
                            {
                                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                                "DeletionProtectionEnabled": True,
                            }
                        )
                    ]
                }
            ),
        },
    )


def test_dev_lets_the_table_go_with_the_stack(dev: Synthesized) -> None:
    table = _table(dev)
    (replica,) = table["Properties"]["Replicas"]

    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert replica["DeletionProtectionEnabled"] is False
    assert table["DeletionPolicy"] == "Delete"


def test_the_table_has_no_physical_name(any_env: Synthesized) -> None:
    assert "TableName" not in _table(any_env)["Properties"]
