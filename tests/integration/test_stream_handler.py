"""The stream handler (resolvers/stream.py) driven as Lambda drives it: real stream records of DynamoDB Local, read
after real mutations through the handlers, wrapped as Lambda's DynamoDB Streams event. The API is a local HTTP
server that checks and answers each publish mutation as AppSync would (tests/publish_mutations.py); the bus is a
fake PutEvents that checks its parameters against botocore's model of the API; the holds queue, where a new
reservation's timer goes, is moto's SQS."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator

import resolvers.publisher
from inventory.config import EVENT_BUS_NAME_VARIABLE, GRAPHQL_URL_VARIABLE
from inventory.events import CHANNELS, EventKind
from inventory.expiry import MAX_DELAY_SECONDS, HoldTimer, delay_seconds, message_body
from resolvers import expiry, stream
from tests.appsync import FakeLambdaContext, is_error, mutate, query
from tests.integration.conftest import HoldsQueue
from tests.integration.stock import epoch_ms
from tests.publish_mutations import published

# The stack names the holds queue to the stream function: a reservation written sends its timer there.
pytestmark = pytest.mark.usefixtures("holds")

BUS = "inventory-events"
PUBLISH_FIELDS = {channel.publish_field: kind for kind, channel in CHANNELS.items()}


class Publish(NamedTuple):
    field: str
    payload: dict[str, Any]  # what the mutation resolved to: what subscribers receive


class FakeAppSync:
    """The API's GraphQL endpoint: records every request, then answers it as AppSync would (the publish mutation
    checked against the schema and resolved to its argument), or refuses it for the items in ``refused``."""

    def __init__(self) -> None:
        self.publishes: list[Publish] = []
        self.authorizations: list[str] = []
        self.refused: dict[str, int] = {}  # item id -> HTTP status of the refusal (200: GraphQL errors)
        self._lock = threading.Lock()

    def answer(self, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        request = json.loads(body)
        field, payload = published(request["query"], request["variables"])  # fails the record if invalid
        status = self.refused.get(_item_of(payload))
        if status is not None:
            return status, {"data": {field: None}, "errors": [{"errorType": "Unauthorized", "message": "refused"}]}
        with self._lock:
            self.authorizations.append(headers.get("Authorization", ""))
            self.publishes.append(Publish(field, payload))
        return 200, {"data": {field: payload}}

    def take(self) -> list[Publish]:
        with self._lock:
            taken, self.publishes = self.publishes, []
            return taken


@pytest.fixture
def appsync(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAppSync]:
    api = FakeAppSync()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                status, answer = api.answer(self.headers, body)
            except Exception as error:  # noqa: BLE001 - an invalid request: answered as AppSync would, 400
                status, answer = 400, {"errors": [{"errorType": "BadRequest", "message": repr(error)}]}
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(GRAPHQL_URL_VARIABLE, f"http://127.0.0.1:{server.server_address[1]}/graphql")
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


class FakeBus:
    """EventBridge's PutEvents: parameters validated against botocore's model; entries of ``refused`` item ids
    answered as failed entries."""

    _shape = botocore.session.get_session().get_service_model("events").operation_model("PutEvents").input_shape

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.refused: set[str] = set()

    def put_events(self, **params: Any) -> dict[str, Any]:
        report = ParamValidator().validate(params, self._shape)
        assert not report.has_errors(), report.generate_report()
        results: list[dict[str, Any]] = []
        for entry in params["Entries"]:
            if _item_of(json.loads(entry["Detail"])) in self.refused:
                results.append({"ErrorCode": "InternalFailure", "ErrorMessage": "refused"})
            else:
                self.entries.append(entry)
                results.append({"EventId": str(uuid.uuid4())})
        return {"FailedEntryCount": sum("ErrorCode" in result for result in results), "Entries": results}


@pytest.fixture
def bus(appsync: FakeAppSync, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBus]:
    fake = FakeBus()
    monkeypatch.setenv(EVENT_BUS_NAME_VARIABLE, BUS)
    monkeypatch.setattr(resolvers.publisher, "events_client", lambda: fake)
    resolvers.publisher.publisher.cache_clear()  # a new container: configuration read again
    yield fake
    resolvers.publisher.publisher.cache_clear()


class TableStream:
    """The table's stream on DynamoDB Local, read from its start, each call returning the records not read yet."""

    def __init__(self, admin_client: Any, endpoint: str, table_name: str) -> None:
        self.arn = admin_client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._client = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1")
        self._iterators: dict[str, str | None] = {}

    def new_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard in self._client.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._client.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                response = self._client.get_records(ShardIterator=iterator)
                records.extend(response["Records"])
                iterator = response.get("NextShardIterator")
                if not response["Records"]:
                    break
            self._iterators[shard_id] = iterator
        return sorted(records, key=lambda record: int(record["dynamodb"]["SequenceNumber"]))

    def lambda_event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Records as Lambda hands them to the function: the stream's ARN added, the creation time in epoch
        seconds, JSON all through."""
        wrapped = [
            {
                **record,
                "eventSourceARN": self.arn,
                "dynamodb": {
                    **record["dynamodb"],
                    "ApproximateCreationDateTime": int(record["dynamodb"]["ApproximateCreationDateTime"].timestamp()),
                },
            }
            for record in records
        ]
        return {"Records": json.loads(json.dumps(wrapped))}


@pytest.fixture
def table_stream(admin_client: Any, dynamodb_endpoint: str, table_name: str) -> TableStream:
    return TableStream(admin_client, dynamodb_endpoint, table_name)


class Delivered(NamedTuple):
    response: dict[str, Any]
    publishes: list[Publish]
    bus_entries: list[dict[str, Any]]


def deliver(event: dict[str, Any], appsync: FakeAppSync, bus: FakeBus) -> Delivered:
    """One invocation of the stream handler; what it answered, published and put on the bus."""
    already = len(bus.entries)
    response = stream.handler(event, FakeLambdaContext(function_name="inventory-stream"))
    return Delivered(dict(response), appsync.take(), bus.entries[already:])


Step = Callable[[], Any]


def ok(field_name: str, arguments: Mapping[str, Any]) -> Any:
    result = mutate(field_name, arguments)
    assert not is_error(result), result
    return result


def item_now(item_id: str) -> dict[str, Any]:
    return dict(query("getItem", {"id": item_id}))


def as_published(kind: EventKind, payload: Mapping[str, Any]) -> tuple[str, str]:
    return CHANNELS[kind].publish_field, json.dumps(payload, sort_keys=True)


def publishes_of(delivered: Delivered) -> Counter[tuple[str, str]]:
    """The publishes, order aside: the records of one transaction may reach the stream in any order."""
    return Counter((p.field, json.dumps(p.payload, sort_keys=True)) for p in delivered.publishes)


def hears(publish: Publish, subscription: str, arguments: Mapping[str, Any]) -> bool:
    """Whether ``subscription(arguments)`` delivers ``publish``: it listens to its channel's publish mutation and
    filters each given argument on the payload field of the same name (AppSync's enhanced filters)."""
    channel = CHANNELS[PUBLISH_FIELDS[publish.field]]
    return channel.subscription_field == subscription and all(
        publish.payload.get(name) == value for name, value in arguments.items() if value is not None
    )


def test_every_change_publishes_exactly_its_events_to_subscribers_and_the_bus(
    table_stream: TableStream, appsync: FakeAppSync, bus: FakeBus
) -> None:
    everything: list[Publish] = []

    def step(change: Step) -> tuple[Any, Delivered]:
        result = change()
        delivered = deliver(table_stream.lambda_event(table_stream.new_records()), appsync, bus)
        assert delivered.response == {"batchItemFailures": []}
        everything.extend(delivered.publishes)
        # The bus carries the same events: one entry per publish, same JSON, plus a unique eventId.
        assert Counter(
            (entry["DetailType"], json.dumps({k: v for k, v in json.loads(entry["Detail"]).items() if k != "eventId"}))
            for entry in delivered.bus_entries
        ) == Counter((PUBLISH_FIELDS[p.field].value, json.dumps(p.payload)) for p in delivered.publishes)
        assert all(entry["Source"] == "inventory" and entry["EventBusName"] == BUS for entry in delivered.bus_entries)
        return result, delivered

    # A new item with stock: changed, and its initial movement.
    drill, delivered = step(lambda: ok("createItem", {"input": _item("DRILL", "tools", quantity=20, reorder=5)}))
    (initial,) = [p.payload for p in delivered.publishes if p.field == "publishStockMovement"]
    assert (initial["itemId"], initial["delta"], initial["reason"]) == (drill["id"], 20, "RECEIVED")
    assert publishes_of(delivered) == Counter(
        [as_published(EventKind.ITEM_CHANGED, item_now(drill["id"])), as_published(EventKind.STOCK_MOVEMENT, initial)]
    )
    # A new item that starts low: heard as low stock too.
    seeds, delivered = step(lambda: ok("createItem", {"input": _item("SEEDS", "garden", quantity=0, reorder=5)}))
    assert publishes_of(delivered) == Counter(
        [
            as_published(EventKind.ITEM_CHANGED, item_now(seeds["id"])),
            as_published(EventKind.LOW_STOCK, item_now(seeds["id"])),
        ]
    )
    warehouse, delivered = step(lambda: ok("createLocation", {"input": {"code": "WH", "name": "Warehouse"}}))
    assert delivered.publishes == []  # the locations record makes none

    def stock_change(change: Step, movements: Callable[[Any], list[dict[str, Any]]], *extra: EventKind) -> None:
        result, delivered = step(change)
        item = item_now(drill["id"])
        expected = [as_published(EventKind.ITEM_CHANGED, item)]
        expected += [as_published(EventKind.STOCK_MOVEMENT, movement) for movement in movements(result)]
        expected += [as_published(kind, item) for kind in extra]
        assert publishes_of(delivered) == Counter(expected)

    key = iter(f"key-{n}" for n in range(100))
    stock_change(
        lambda: ok(
            "adjustStock",
            {"input": {"itemId": drill["id"], "delta": -3, "reason": "SOLD", "idempotencyKey": next(key)}},
        ),
        lambda movement: [movement],
    )
    stock_change(
        lambda: ok(
            "fulfillOrder", {"input": {"orderId": "order-1", "lines": [{"itemId": drill["id"], "quantity": 2}]}}
        ),
        lambda order: order["movements"],
    )
    stock_change(
        lambda: ok(
            "transferStock",
            {
                "input": {
                    "idempotencyKey": next(key),
                    "fromLocationId": "MAIN",
                    "toLocationId": warehouse["id"],
                    "lines": [{"itemId": drill["id"], "quantity": 6}],
                }
            },
        ),
        lambda transfer: transfer["movements"],
    )
    # A reservation holds units: the item changes (its figures), no stock moves; the commit sells them.
    stock_change(
        lambda: ok(
            "reserveStock",
            {"input": {"reservationId": "cart-1", "lines": [{"itemId": drill["id"], "quantity": 4}]}},
        ),
        lambda _: [],
    )
    assert item_now(drill["id"])["reserved"] == 4
    stock_change(lambda: ok("commitReservation", {"id": "cart-1"}), lambda reservation: reservation["movements"])
    # A count at the warehouse takes the item to its reorder point: low stock; then stock comes back: out of it.
    stock_change(
        lambda: ok(
            "setStock",
            {
                "input": {
                    "idempotencyKey": next(key),
                    "locationId": warehouse["id"],
                    "lines": [{"itemId": drill["id"], "onHand": 0}],
                }
            },
        ),
        lambda counted: counted["movements"],
        EventKind.LOW_STOCK,
    )
    assert item_now(drill["id"])["lowStock"] is True
    stock_change(
        lambda: ok(
            "adjustStock",
            {"input": {"itemId": drill["id"], "delta": 10, "reason": "RECEIVED", "idempotencyKey": next(key)}},
        ),
        lambda movement: [movement],
        EventKind.LOW_STOCK,
    )
    # A deleted item is heard as it was.
    last = item_now(drill["id"])
    _, delivered = step(lambda: ok("deleteItem", {"id": drill["id"]}))
    assert publishes_of(delivered) == Counter([as_published(EventKind.ITEM_CHANGED, last)])

    # Every publish was signed for AppSync as the function's role.
    assert appsync.authorizations
    assert all(
        header.startswith("AWS4-HMAC-SHA256 Credential=testing/") and "/us-east-1/appsync/aws4_request" in header
        for header in appsync.authorizations
    )

    # What each subscriber hears: exactly the publishes its filter selects.
    movements = sorted(
        (p.payload for p in everything if p.field == "publishStockMovement"), key=lambda movement: movement["sequence"]
    )  # one transaction's movements reach the stream in any order; its sequence orders an item's movements
    assert [m["reason"] for m in movements if m["itemId"] == drill["id"]] == [
        "RECEIVED", "SOLD", "SOLD", "TRANSFER_OUT", "TRANSFER_IN", "SOLD", "CORRECTION", "RECEIVED",
    ]  # fmt: skip
    at_warehouse = [p.payload for p in everything if hears(p, "onStockMovement", {"locationId": warehouse["id"]})]
    assert [(m["reason"], m["delta"]) for m in at_warehouse] == [("TRANSFER_IN", 6), ("CORRECTION", -6)]
    assert [p.payload for p in everything if hears(p, "onStockMovement", {"itemId": seeds["id"]})] == []
    assert len([p for p in everything if hears(p, "onStockMovement", {"itemId": None, "locationId": None})]) == 8
    drill_changes = [p.payload for p in everything if hears(p, "onItemChanged", {"id": drill["id"]})]
    assert len(drill_changes) == 9
    assert {change["id"] for change in drill_changes} == {drill["id"]}
    assert [(p.payload["id"], p.payload["lowStock"]) for p in everything if hears(p, "onLowStock", {})] == [
        (seeds["id"], True),
        (drill["id"], True),
        (drill["id"], False),
    ]
    assert [p.payload["lowStock"] for p in everything if hears(p, "onLowStock", {"category": "tools"})] == [True, False]
    assert [p.payload["id"] for p in everything if hears(p, "onLowStock", {"category": "garden"})] == [seeds["id"]]


def _item(sku: str, category: str, quantity: int, reorder: int) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": sku.title(),
        "category": category,
        "price": 12.5,
        "quantity": quantity,
        "reorderPoint": reorder,
    }


def _batch_of_two_items(table_stream: TableStream) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Two items, each created then sold from, in one batch of stream records."""
    first = ok("createItem", {"input": _item("FIRST", "tools", quantity=50, reorder=5)})
    second = ok("createItem", {"input": _item("SECOND", "tools", quantity=50, reorder=5)})
    for item, key in ((first, "a"), (second, "b")):
        adjustment = {"itemId": item["id"], "delta": -1, "reason": "SOLD", "idempotencyKey": key}
        ok("adjustStock", {"input": adjustment})
    return first, second, table_stream.lambda_event(table_stream.new_records())


def _sequence_numbers(event: dict[str, Any], item_id: str | None = None) -> list[str]:
    """The records of ``item_id`` (its item and movements), or of every item, in stream order."""
    return [
        record["dynamodb"]["SequenceNumber"]
        for record in event["Records"]
        if record["dynamodb"]["Keys"]["pk"]["S"].startswith(f"ITEM#{item_id or ''}")
    ]


def _failures(delivered: Delivered) -> list[str]:
    return [failure["itemIdentifier"] for failure in delivered.response["batchItemFailures"]]


def test_a_malformed_record_fails_with_its_item_s_later_records_and_the_others_are_published(
    table_stream: TableStream, appsync: FakeAppSync, bus: FakeBus
) -> None:
    first, second, event = _batch_of_two_items(table_stream)
    poisoned = next(
        record
        for record in event["Records"]
        if record["dynamodb"]["Keys"] == {"pk": {"S": f"ITEM#{first['id']}"}, "sk": {"S": "ITEM"}}
    )
    del poisoned["dynamodb"]["NewImage"]["quantity"]
    delivered = deliver(event, appsync, bus)
    # The poisoned record (the first item's creation) holds back the first item's later records, unpublished.
    first_records = _sequence_numbers(event, first["id"])
    assert _failures(delivered) == first_records[first_records.index(poisoned["dynamodb"]["SequenceNumber"]) :]
    assert {_item_of(p.payload) for p in delivered.publishes} == {second["id"]}
    assert len(delivered.publishes) == len(_sequence_numbers(event, second["id"])) == 4
    assert len(delivered.bus_entries) == 4


@pytest.mark.parametrize(
    "where",
    [pytest.param(200, id="GraphQL errors"), pytest.param(401, id="HTTP 401"), pytest.param(500, id="HTTP 500"), "bus"],
)
def test_a_refused_publish_fails_its_record_and_a_retry_publishes_the_rest_again_with_the_same_event_ids(
    table_stream: TableStream, appsync: FakeAppSync, bus: FakeBus, where: int | str
) -> None:
    first, second, event = _batch_of_two_items(table_stream)
    if where == "bus":
        bus.refused.add(first["id"])
    else:
        appsync.refused[first["id"]] = int(where)
    refused = deliver(event, appsync, bus)
    assert _failures(refused) == _sequence_numbers(event, first["id"])
    # Refused by the bus, the first record's events did reach subscribers: partly published, it is retried whole.
    assert {_item_of(json.loads(entry["Detail"])) for entry in refused.bus_entries} == {second["id"]}

    # Lambda delivers the batch again from the first failed record; this time everything is taken.
    appsync.refused.clear()
    bus.refused.clear()
    retried = deliver(event, appsync, bus)
    assert retried.response == {"batchItemFailures": []}
    first_ids = {_event_id(entry) for entry in refused.bus_entries}
    assert first_ids <= {_event_id(entry) for entry in retried.bus_entries}  # the same events, the same ids


def test_a_replayed_batch_publishes_the_same_events_with_the_same_event_ids(
    table_stream: TableStream, appsync: FakeAppSync, bus: FakeBus
) -> None:
    _, _, event = _batch_of_two_items(table_stream)
    first = deliver(event, appsync, bus)
    again = deliver(json.loads(json.dumps(event)), appsync, bus)
    assert first.response == again.response == {"batchItemFailures": []}
    assert publishes_of(first) == publishes_of(again)
    ids = [_event_id(entry) for entry in first.bus_entries]
    assert ids == [_event_id(entry) for entry in again.bus_entries]
    assert len(set(ids)) == len(ids) == 8  # per item: changed twice, two movements


def _item_of(payload: Mapping[str, Any]) -> str:
    """The item an Item or StockMovement payload is about."""
    return str(payload.get("itemId", payload["id"]))


def _event_id(entry: Mapping[str, Any]) -> str:
    event_id: str = json.loads(entry["Detail"])["eventId"]
    return event_id


def _reserve(reservation_id: str, item_id: str, quantity: int, seconds: int) -> Any:
    lines = [{"itemId": item_id, "quantity": quantity}]
    return ok("reserveStock", {"input": {"reservationId": reservation_id, "lines": lines, "expiresInSeconds": seconds}})


def _timer(reservation: Mapping[str, Any]) -> HoldTimer:
    return HoldTimer(reservation["id"], epoch_ms(reservation["expiresAt"]))


def _delivered_drill(table_stream: TableStream, appsync: FakeAppSync, bus: FakeBus) -> Any:
    """A DRILL of 20 (reorder point 5), its creation's records delivered: the stream's next records follow it."""
    drill = ok("createItem", {"input": _item("DRILL", "tools", quantity=20, reorder=5)})
    deliver(table_stream.lambda_event(table_stream.new_records()), appsync, bus)
    return drill


def test_a_new_reservation_sends_one_timer_delayed_until_its_end_and_still_publishes_its_events(
    table_stream: TableStream, appsync: FakeAppSync, bus: FakeBus, holds: HoldsQueue
) -> None:
    drill = ok("createItem", {"input": _item("DRILL", "tools", quantity=20, reorder=5)})
    created = deliver(table_stream.lambda_event(table_stream.new_records()), appsync, bus)
    assert created.response == {"batchItemFailures": []}
    assert holds.take() == []  # an item's records start no timer

    short = _reserve("cart-short", drill["id"], 2, seconds=120)
    long = _reserve("cart-long", drill["id"], 3, seconds=3600)
    records = table_stream.new_records()
    before_ms = time.time_ns() // 1_000_000
    delivered = deliver(table_stream.lambda_event(records), appsync, bus)
    after_ms = time.time_ns() // 1_000_000

    assert delivered.response == {"batchItemFailures": []}
    sent = holds.take()
    assert [(message["QueueUrl"], message["MessageBody"]) for message in sent] == [
        (holds.url, message_body(_timer(short))),
        (holds.url, message_body(_timer(long))),
    ]
    # Delayed until the end, as measured when it was sent; a hold longer than SQS allows waits the longest delay.
    short_delay, long_delay = (message["DelaySeconds"] for message in sent)
    assert delay_seconds(_timer(short), after_ms) <= short_delay <= delay_seconds(_timer(short), before_ms) <= 120
    assert long_delay == MAX_DELAY_SECONDS
    assert holds.waiting() == 2 and holds.receive() == []  # both in the queue, delayed
    # The reservations' events are published as before: the item's figures, held.
    changes = [p.payload for p in delivered.publishes if p.field == "publishItemChanged"]
    assert [change["reserved"] for change in changes] == [2, 5]

    # A release (and any other record) starts no timer.
    ok("releaseReservation", {"id": "cart-short"})
    released = deliver(table_stream.lambda_event(table_stream.new_records()), appsync, bus)
    assert released.response == {"batchItemFailures": []}
    assert holds.take() == []
    assert [p.payload["reserved"] for p in released.publishes] == [3]


def test_a_refused_timer_fails_its_record_and_holds_back_its_reservation_s_later_records(
    table_stream: TableStream, appsync: FakeAppSync, bus: FakeBus, holds: HoldsQueue
) -> None:
    drill = _delivered_drill(table_stream, appsync, bus)
    first = _reserve("cart-1", drill["id"], 2, seconds=600)
    second = _reserve("cart-2", drill["id"], 3, seconds=600)
    ok("releaseReservation", {"id": "cart-1"})
    event = table_stream.lambda_event(table_stream.new_records())
    holds.refused.add("cart-1")

    refused = deliver(event, appsync, bus)

    # cart-1's INSERT fails, and its release (a later record of the same partition) is held back; cart-2's timer is
    # sent, and the item's records are published.
    reservation_records = [
        record["dynamodb"]["SequenceNumber"]
        for record in event["Records"]
        if record["dynamodb"]["Keys"]["pk"]["S"] == "RESERVATION#cart-1"
    ]
    assert len(reservation_records) == 2
    assert _failures(refused) == reservation_records
    assert [message["MessageBody"] for message in holds.take()] == [message_body(_timer(second))]
    assert len([p for p in refused.publishes if p.field == "publishItemChanged"]) == 3

    # Lambda delivers the batch again from the first failed record: now cart-1's timer goes (sent once more for
    # cart-2 if it comes again: expiring is idempotent).
    holds.refused.clear()
    retried = deliver(event, appsync, bus)
    assert retried.response == {"batchItemFailures": []}
    assert message_body(_timer(first)) in [message["MessageBody"] for message in holds.take()]


def test_an_expiry_is_heard_the_timer_expires_the_reservation_and_its_write_publishes_the_item_s_figures(
    table_stream: TableStream, appsync: FakeAppSync, bus: FakeBus, holds: HoldsQueue
) -> None:
    drill = _delivered_drill(table_stream, appsync, bus)
    cart = _reserve("cart", drill["id"], 4, seconds=1)
    held = deliver(table_stream.lambda_event(table_stream.new_records()), appsync, bus)
    assert [p.payload["reserved"] for p in held.publishes] == [4]
    (timer,) = holds.take()
    assert timer["DelaySeconds"] <= 1

    # The timer becomes visible once the hold has ended (SQS's delay, whole seconds, rounded up).
    messages = holds.receive(wait_seconds=5)
    assert len(messages) == 1 and time.time_ns() // 1_000_000 >= epoch_ms(cart["expiresAt"])
    assert expiry.handler(holds.lambda_event(messages), FakeLambdaContext()) == {"batchItemFailures": []}

    # The expiry's write comes through the stream: subscribers and the bus hear the units come back.
    heard = deliver(table_stream.lambda_event(table_stream.new_records()), appsync, bus)
    assert heard.response == {"batchItemFailures": []}
    (change,) = heard.publishes
    assert change.field == "publishItemChanged"
    assert change.payload == item_now(drill["id"])
    assert (change.payload["reserved"], change.payload["available"]) == (0, 20)
    assert [entry["DetailType"] for entry in heard.bus_entries] == ["ItemChanged"]
    assert holds.take() == []  # the tidying write starts no timer
