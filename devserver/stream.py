"""The local server's events, fed from the data as AppSync's are: the table's stream, read while the server runs.

On AWS a Lambda function reads the table's DynamoDB stream and calls the publish mutations (resolvers/stream.py);
AppSync then delivers each publication to the subscribers whose arguments match it. Here :class:`TableStream` reads
the same stream (DynamoDB Local and moto serve the DynamoDB Streams API), :func:`events_of` makes the same events of
each record, and each event's publish mutation (:func:`inventory.events.publish_request`) runs on the server's own
schema as an AWS IAM caller, the one mode the publish mutations admit; the schema's ``@aws_subscribe`` then delivers
it (devserver/subscriptions.py). So any change of the data is heard, whatever made it, about one poll after it.
A reservation's end writes nothing by itself: each reservation record written ACTIVE starts a timer
(devserver/timers.py) whose expiry write is then heard in the same way.

Where reading starts: at the end of the stream as it is when the server starts (after the seed), so that what
happened before is not replayed as events and nothing done once the server serves is missed. Shards found later
(the stream opens new ones as it ages) are read from their start, a child only once its parent is read through, so
that an item's events keep their order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import strawberry

from devserver.context import Context
from devserver.timers import HoldTimers
from inventory.events import Event, events_of, publish_request
from inventory.expiry import timer_of

logger = logging.getLogger("devserver.stream")

POLL_SECONDS = 0.15  # how long after a change its events reach subscribers, at most (plus the publish itself)
PAGE = 1000  # records per GetRecords call, DynamoDB Streams' most

Record = Mapping[str, Any]
Publish = Callable[[Event], Awaitable[None]]


class NoStream(Exception):
    """The table has no stream (a table created before streams were turned on): nothing can be heard."""


@dataclass
class _Shard:
    parent: str | None
    after: str | None = None  # the sequence number of the last record read; None: read from the shard's start
    closed: bool = False  # read through: the shard takes no more records


@dataclass
class TableStream:
    """The table's stream, read from a position on. A position is the last sequence number read in each shard
    rather than an iterator: iterators expire (15 minutes on DynamoDB), and moto's stop seeing records once a
    transaction is rolled back (its rollback swaps the table, with its stream, for a copy)."""

    streams: Any  # a boto3 ``dynamodbstreams`` client
    dynamodb: Any  # a boto3 ``dynamodb`` client
    table_name: str
    _arn: str = ""
    _shards: dict[str, _Shard] = field(default_factory=dict)

    def start(self) -> None:
        """Position at the end of the stream as it is now: every shard read through, nothing kept."""
        table = self.dynamodb.describe_table(TableName=self.table_name)["Table"]
        if not table.get("StreamSpecification", {}).get("StreamEnabled") or "LatestStreamArn" not in table:
            raise NoStream(f"the table {self.table_name} has no stream")
        self._arn = table["LatestStreamArn"]
        self._discover()
        for shard_id in self._shards:  # every one, a child of an open shard too: all of it is the past
            while self._read(shard_id):
                pass

    def read(self) -> list[Record]:
        """The records written since the last read, shard by shard, parents first."""
        self._discover()
        records: list[Record] = []
        read: set[str] = set()
        while unread := [shard_id for shard_id in self._readable() if shard_id not in read]:
            for shard_id in unread:  # a parent read through in this pass lets its children be read in the next
                read.add(shard_id)
                records.extend(self._read(shard_id))
        return records

    def _discover(self) -> None:
        start: dict[str, str] = {}
        while True:
            description = self.streams.describe_stream(StreamArn=self._arn, **start)["StreamDescription"]
            for shard in description.get("Shards", ()):
                self._shards.setdefault(shard["ShardId"], _Shard(shard.get("ParentShardId")))
            if "LastEvaluatedShardId" not in description:
                return
            start = {"ExclusiveStartShardId": description["LastEvaluatedShardId"]}

    def _readable(self) -> list[str]:
        """Open shards whose parent, if the stream still lists it, is read through."""
        return [
            shard_id
            for shard_id, shard in self._shards.items()
            if not shard.closed and (shard.parent not in self._shards or self._shards[shard.parent].closed)
        ]

    def _read(self, shard_id: str) -> list[Record]:
        shard = self._shards[shard_id]
        if shard.closed:
            return []
        position = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.after}
            if shard.after is not None
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self.streams.get_shard_iterator(StreamArn=self._arn, ShardId=shard_id, **position)["ShardIterator"]
        page = self.streams.get_records(ShardIterator=iterator, Limit=PAGE)
        records: list[Record] = page.get("Records", [])
        if records:
            shard.after = records[-1]["dynamodb"]["SequenceNumber"]
        shard.closed = page.get("NextShardIterator") is None  # a closed shard's last page has no next iterator
        return records


def publisher(schema: strawberry.Schema, context: Context) -> Publish:
    """Runs an event's publish mutation on ``schema`` as ``context``'s caller (AWS IAM), as the Lambda stream
    handler runs it on AppSync; the schema's ``@aws_subscribe`` delivers the response."""

    async def publish(event: Event) -> None:
        document, variables = publish_request(event)
        result = await schema.execute(document, variable_values=variables, context_value=context)
        if result.errors:
            logger.error("publishing %s %s failed: %s", event.kind.value, event.event_id, result.errors)

    return publish


class Changes(Protocol):
    def read(self) -> list[Record]: ...


async def deliver(
    stream: Changes, publish: Publish, timers: HoldTimers | None = None, poll_seconds: float = POLL_SECONDS
) -> None:
    """Until cancelled: every ``poll_seconds``, the events of the records written since the last poll, published in
    the stream's order, and the timer each record starts (a reservation written ACTIVE) handed to ``timers``. A
    failure is logged and the server goes on: a record whose events cannot be made or published is skipped (on AWS
    it would be retried, then sent to the failure destination), a read that failed is tried again at the next poll."""
    while True:
        try:
            records = await asyncio.to_thread(stream.read)
        except Exception:
            logger.exception("reading the table's stream failed; trying again")
            records = []
        for record in records:
            try:
                if timers is not None and (timer := timer_of(record)) is not None:
                    timers.start(timer)
                for event in events_of(record, int(time.time() * 1000)):
                    await publish(event)
            except Exception:
                logger.exception("the stream record %s was skipped", record.get("eventID"))
        await asyncio.sleep(poll_seconds)


@contextlib.asynccontextmanager
async def feeding(stream: TableStream | None, schema: strawberry.Schema, context: Context) -> AsyncIterator[None]:
    """The subscriptions fed from ``stream`` while the block runs (the server's lifespan), reservations' ends included
    (expired by ``context``'s service); without a stream, none."""
    if stream is None:
        yield
        return
    try:
        await asyncio.to_thread(stream.start)
    except NoStream as missing:
        logger.warning("%s: subscriptions will hear nothing; --reset makes the table again, with its stream", missing)
        yield
        return
    timers = HoldTimers(context.service.expire_reservation)
    task = asyncio.create_task(deliver(stream, publisher(schema, context), timers))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await timers.cancel()
