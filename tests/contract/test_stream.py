"""The local server's stream reader (devserver/stream.py) on a stream of several shards, which neither DynamoDB Local
nor moto makes in a test's time: a fake DynamoDB Streams API with shards that close and children that follow."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest

from devserver.stream import NoStream, TableStream, deliver
from inventory.events import Event, EventKind

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/inventory/stream/1"


@dataclass
class _FakeShard:
    parent: str | None
    records: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False


class FakeStreams:
    """DynamoDB Streams as the reader uses it: shards listed two per page, iterators by type, pages of records."""

    def __init__(self) -> None:
        self.shards: dict[str, _FakeShard] = {}
        self.sequence = 0

    def open(self, shard_id: str, parent: str | None = None) -> None:
        self.shards[shard_id] = _FakeShard(parent)

    def write(self, shard_id: str, name: str) -> None:
        self.sequence += 1
        self.shards[shard_id].records.append({"eventID": name, "dynamodb": {"SequenceNumber": f"{self.sequence:05}"}})

    # The fakes take their arguments as boto3 does, by their API names.
    def describe_stream(self, **request: Any) -> Any:
        ids = list(self.shards)
        first = ids.index(request["ExclusiveStartShardId"]) + 1 if "ExclusiveStartShardId" in request else 0
        page = ids[first : first + 2]
        description: dict[str, Any] = {
            "Shards": [
                {"ShardId": shard_id, **({"ParentShardId": p} if (p := self.shards[shard_id].parent) else {})}
                for shard_id in page
            ]
        }
        if first + 2 < len(ids):
            description["LastEvaluatedShardId"] = page[-1]
        return {"StreamDescription": description}

    def get_shard_iterator(self, **request: Any) -> Any:
        shard_id, sequence = request["ShardId"], request.get("SequenceNumber")
        records = self.shards[shard_id].records
        after = [r["dynamodb"]["SequenceNumber"] for r in records].index(sequence) + 1 if sequence else 0
        assert request["ShardIteratorType"] == ("AFTER_SEQUENCE_NUMBER" if sequence else "TRIM_HORIZON")
        return {"ShardIterator": (shard_id, after)}

    def get_records(self, **request: Any) -> Any:
        shard_id, start = request["ShardIterator"]
        shard = self.shards[shard_id]
        page = shard.records[start : start + request["Limit"]]
        at_end = start + len(page) == len(shard.records)
        return {"Records": page, **({} if shard.closed and at_end else {"NextShardIterator": (shard_id, start)})}


class FakeTable:
    def __init__(self, streaming: bool = True) -> None:
        self.streaming = streaming

    def describe_table(self, **request: Any) -> Any:
        if not self.streaming:
            return {"Table": {"TableName": request["TableName"]}}
        return {"Table": {"StreamSpecification": {"StreamEnabled": True}, "LatestStreamArn": ARN}}


def _names(records: list[Any]) -> list[str]:
    return [record["eventID"] for record in records]


def test_what_was_written_before_the_start_is_not_read_in_any_shard() -> None:
    streams = FakeStreams()
    for shard_id in ("a", "b", "c"):  # three shards: two pages of DescribeStream
        streams.open(shard_id)
        streams.write(shard_id, f"{shard_id}-before")
    streams.open("a-child", parent="a")  # a child of an open shard, already written to
    streams.write("a-child", "a-child-before")
    stream = TableStream(streams, FakeTable(), "inventory")
    stream.start()
    assert stream.read() == []
    streams.write("c", "c-after")
    assert _names(stream.read()) == ["c-after"]
    assert stream.read() == []


def test_a_new_shard_is_read_from_its_start_once_its_parent_is_read_through() -> None:
    streams = FakeStreams()
    streams.open("parent")
    stream = TableStream(streams, FakeTable(), "inventory")
    stream.start()
    streams.write("parent", "p-1")
    streams.shards["parent"].closed = True
    streams.open("child", parent="parent")
    streams.write("child", "c-1")
    streams.write("child", "c-2")
    # One read: the parent's last records, then (the parent being closed) the child's, in the item's order.
    assert _names(stream.read()) == ["p-1", "c-1", "c-2"]
    streams.write("child", "c-3")
    assert _names(stream.read()) == ["c-3"]


def test_a_child_waits_while_its_parent_is_open() -> None:
    streams = FakeStreams()
    streams.open("parent")
    stream = TableStream(streams, FakeTable(), "inventory")
    stream.start()
    streams.open("child", parent="parent")
    streams.write("child", "c-1")
    assert stream.read() == []
    streams.write("parent", "p-1")
    streams.shards["parent"].closed = True
    assert _names(stream.read()) == ["p-1", "c-1"]


def test_a_table_without_a_stream_is_told() -> None:
    with pytest.raises(NoStream):
        TableStream(FakeStreams(), FakeTable(streaming=False), "inventory").start()


class _OneBatch:
    """A stream that gives one batch, then nothing; the second read fails once, as a network error would."""

    def __init__(self, records: list[Any]) -> None:
        self.batches: list[Any] = [records, OSError("connection reset")]

    def read(self) -> list[Any]:
        if not self.batches:
            return []
        batch = self.batches.pop(0)
        if isinstance(batch, Exception):
            raise batch
        return list(batch)


def _movement_record(name: str) -> dict[str, Any]:
    image = {
        "pk": {"S": "ITEM#i"},
        "sk": {"S": "MOVEMENT#000000000001"},
        "id": {"S": name},
        "itemId": {"S": "i"},
        "locationId": {"S": "MAIN"},
        "delta": {"N": "1"},
        "quantityAfter": {"N": "1"},
        "locationQuantityAfter": {"N": "1"},
        "sequence": {"N": "1"},
        "reason": {"S": "RECEIVED"},
        "createdAt": {"S": "2026-11-30T00:00:00.000Z"},
    }
    keys = {"pk": image["pk"], "sk": image["sk"]}
    return {"eventID": name, "eventName": "INSERT", "dynamodb": {"Keys": keys, "NewImage": image}}


def test_a_record_that_cannot_be_published_is_logged_and_the_rest_delivered(caplog: pytest.LogCaptureFixture) -> None:
    poison = {"eventID": "poison", "eventName": "INSERT", "dynamodb": {"Keys": {"sk": {"S": "ITEM"}}, "NewImage": {}}}
    stream = _OneBatch([_movement_record("m-1"), poison, _movement_record("m-2")])
    published: list[Event] = []

    async def publish(event: Event) -> None:
        published.append(event)

    async def run() -> None:
        task = asyncio.create_task(deliver(stream, publish, poll_seconds=0.001))
        while stream.batches:  # until both the batch and the failing read were taken
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    with caplog.at_level(logging.ERROR, logger="devserver.stream"):
        asyncio.run(run())
    assert [(event.kind, event.detail["id"]) for event in published] == [
        (EventKind.STOCK_MOVEMENT, "m-1"),
        (EventKind.STOCK_MOVEMENT, "m-2"),
    ]
    assert [record.getMessage() for record in caplog.records] == [
        "the stream record poison was skipped",
        "reading the table's stream failed; trying again",
    ]
