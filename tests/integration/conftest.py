"""Integration fixtures: Amazon DynamoDB Local for the session, a fresh table per test, and the Lambda runtime
pointed at it through its real configuration (environment variables), exactly as in a deployed function."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

import resolvers.holds_queue
import resolvers.runtime
from devserver.dynamodb_local import running
from inventory.config import HOLDS_QUEUE_URL_VARIABLE
from inventory.expiry import timer_from_message
from inventory.table import ensure_table
from tests.appsync import is_error, mutate
from tests.conftest import TEST_SECRET

NewItem = Callable[..., dict[str, Any]]  # the new_item fixture: createItem with defaults, returns the Item


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    with running() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def admin_client(dynamodb_endpoint: str) -> Any:
    """A client of the tests' own, to create tables and inspect what the handlers wrote (never counted)."""
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint, region_name="us-east-1")


def _clear_runtime_caches() -> None:
    resolvers.runtime.service.cache_clear()
    resolvers.runtime.dynamodb_client.cache_clear()


@pytest.fixture
def table_name(admin_client: Any, dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty table for this test, and the Lambda configuration that points the handlers at it."""
    name = f"inventory-it-{uuid.uuid4().hex[:12]}"
    ensure_table(admin_client, name)
    monkeypatch.setenv("INVENTORY_TABLE_NAME", name)
    monkeypatch.setenv("INVENTORY_PAGE_TOKEN_SECRET", TEST_SECRET)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_endpoint)
    for setting in (
        "INVENTORY_DEFAULT_PAGE_SIZE",
        "INVENTORY_MAX_PAGE_SIZE",
        "INVENTORY_DEFAULT_REORDER_POINT",
        "INVENTORY_IDEMPOTENCY_TTL_HOURS",
    ):
        monkeypatch.delenv(setting, raising=False)
    _clear_runtime_caches()
    try:
        yield name
    finally:
        # The table is left to DynamoDB Local, which runs in memory and forgets it when the session ends:
        # deleting it here would only add time to every test.
        _clear_runtime_caches()


@pytest.fixture(autouse=True)
def _table(table_name: str) -> str:
    """Every integration test runs against its own fresh table."""
    return table_name


class TableView:
    """Reads the raw table with the tests' own client: to check what was (not) written, independent of the API."""

    def __init__(self, client: Any, name: str) -> None:
        self.client, self.name = client, name

    def records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        request: dict[str, Any] = {"TableName": self.name, "ConsistentRead": True}
        while True:
            response = self.client.scan(**request)
            records.extend(response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return sorted(records, key=lambda record: (record["pk"]["S"], record["sk"]["S"]))

    def record_keys(self) -> list[tuple[str, str]]:
        return [(record["pk"]["S"], record["sk"]["S"]) for record in self.records()]

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        response = self.client.get_item(
            TableName=self.name, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        record: dict[str, Any] | None = response.get("Item")
        return record


@pytest.fixture
def table(admin_client: Any, table_name: str) -> TableView:
    return TableView(admin_client, table_name)


@pytest.fixture
def dynamodb_calls(table_name: str) -> Iterator[Counter[str]]:
    """DynamoDB calls the handlers make, by operation name (GetItem, Query, TransactWriteItems...).

    Counted with botocore's event hooks on the runtime's own client: one count per API call, retries included
    only once (before-call fires per call, not per HTTP attempt). Clear it before the step to measure.
    """
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    events = resolvers.runtime.dynamodb_client().meta.events
    events.register("before-call.dynamodb", count, unique_id="integration-call-counter")
    try:
        yield calls
    finally:
        events.unregister("before-call.dynamodb", unique_id="integration-call-counter")


@pytest.fixture
def new_item() -> NewItem:
    """Creates an item through the createItem handler: unique sku, defaults a test can override; returns the Item."""
    numbers = itertools.count(1)

    def create(**fields: Any) -> dict[str, Any]:
        number = next(numbers)
        item_input = {
            "sku": f"SKU-{number:04d}",
            "name": f"Item {number}",
            "category": "tools",
            "price": 9.99,
            **fields,
        }
        result = mutate("createItem", {"input": item_input})
        assert not is_error(result), result
        return cast(dict[str, Any], result)

    return create


class HoldsQueue:
    """The holds queue on moto's SQS. ``sent``: each SendMessage the handlers made, with its parameters, in order;
    a send for a reservation in ``refused`` fails as SQS would refuse it (an error answer), and is not sent."""

    def __init__(self, client: Any, url: str) -> None:
        self.client, self.url = client, url
        self.arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sent: list[dict[str, Any]] = []
        self.refused: set[str] = set()

    def take(self) -> list[dict[str, Any]]:
        taken, self.sent = self.sent, []
        return taken

    def waiting(self) -> int:
        """Messages in the queue, delayed or not."""
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"]
        attributes = self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=names)["Attributes"]
        return sum(int(attributes[name]) for name in names)

    def receive(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """The messages visible now (or within ``wait_seconds``), received as Lambda's poller receives them."""
        response = self.client.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds, AttributeNames=["All"]
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def lambda_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Received messages as Lambda hands them to the function (its SQS event)."""
        return {
            "Records": [
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": message["Attributes"],
                    "messageAttributes": {},
                    "md5OfBody": message["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn,
                    "awsRegion": "us-east-1",
                }
                for message in messages
            ]
        }

    def _on_send(self, params: dict[str, Any], **_: Any) -> None:
        if timer_from_message(params["MessageBody"]).reservation_id in self.refused:
            error = {"Code": "ServiceUnavailable", "Message": "refused by the test"}
            raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 503}}, "SendMessage")
        self.sent.append(dict(params))


@pytest.fixture
def holds(monkeypatch: pytest.MonkeyPatch) -> Iterator[HoldsQueue]:
    """A holds queue on moto's SQS, named to the handlers by its environment variable as the stack names it.
    DynamoDB Local's endpoint is not AWS's, so its calls pass moto by; and moto keeps the tests' credentials (the
    publish signatures are checked with them)."""
    with mock_aws(config={"core": {"mock_credentials": False}}):
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName="inventory-holds")["QueueUrl"]
        monkeypatch.setenv(HOLDS_QUEUE_URL_VARIABLE, url)
        resolvers.holds_queue.holds_queue.cache_clear()
        resolvers.holds_queue.sqs_client.cache_clear()
        queue = HoldsQueue(client, url)
        events = resolvers.holds_queue.sqs_client().meta.events
        events.register("before-parameter-build.sqs.SendMessage", queue._on_send, unique_id="holds-queue-sends")
        try:
            yield queue
        finally:
            events.unregister("before-parameter-build.sqs.SendMessage", unique_id="holds-queue-sends")
            resolvers.holds_queue.holds_queue.cache_clear()
            resolvers.holds_queue.sqs_client.cache_clear()
