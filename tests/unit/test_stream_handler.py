"""The stream handler's edges that need no table: a batch that fails whole, its configuration, its metrics. Its
behaviour on real stream records is tested in tests/integration/test_stream_handler.py."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

import resolvers.publisher
from inventory.config import EVENT_BUS_NAME_VARIABLE, GRAPHQL_URL_VARIABLE, ConfigurationError
from inventory.events import Event
from resolvers import stream
from resolvers.metrics import EVENTS_PUBLISHED, METRICS_NAMESPACE_VARIABLE, STREAM_RECORDS_FAILED
from resolvers.publisher import PublishFailed, PublishSettings
from tests.appsync import FakeLambdaContext
from tests.unit.test_events import item, item_change


class FakePublisher:
    def __init__(self) -> None:
        self.published: list[Event] = []
        self.refused: set[str] = set()  # event ids

    def publish(self, events: Sequence[Event]) -> None:
        if any(event.event_id in self.refused for event in events):
            raise PublishFailed("refused")
        self.published.extend(events)


@pytest.fixture
def publisher(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePublisher]:
    fake = FakePublisher()
    monkeypatch.setattr(stream, "publisher", lambda: fake)
    yield fake


def batch(*event_ids: str) -> dict[str, Any]:
    records = []
    for number, event_id in enumerate(event_ids, start=1):
        record = item_change(item(20), item(19, version=2), event_id=event_id)
        record["dynamodb"]["SequenceNumber"] = str(number)
        records.append(record)
    return {"Records": records}


def test_a_batch_whose_every_record_fails_fails_the_invocation_and_is_retried_whole(publisher: FakePublisher) -> None:
    publisher.refused = {"a:ItemChanged", "b:ItemChanged"}
    with pytest.raises(BatchProcessingError):
        stream.handler(batch("a", "b"), FakeLambdaContext())


def test_publishes_and_failures_are_counted_when_metrics_are_on(
    publisher: FakePublisher, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(METRICS_NAMESPACE_VARIABLE, "Inventory/test")
    publisher.refused = {"b:ItemChanged"}
    capsys.readouterr()
    assert stream.handler(batch("a", "b"), FakeLambdaContext()) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    (metrics,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert (metrics[EVENTS_PUBLISHED], metrics[STREAM_RECORDS_FAILED]) == ([1.0], [1.0])


def test_the_stream_function_needs_the_api_url_and_the_bus() -> None:
    env = {
        GRAPHQL_URL_VARIABLE: "https://example.appsync-api.eu-west-1.amazonaws.com/graphql",
        "AWS_REGION": "eu-west-1",
    }
    with pytest.raises(ConfigurationError, match=EVENT_BUS_NAME_VARIABLE):
        PublishSettings.from_env(env)
    settings = PublishSettings.from_env({**env, EVENT_BUS_NAME_VARIABLE: "inventory-events"})
    assert settings == PublishSettings(env[GRAPHQL_URL_VARIABLE], "inventory-events", "eu-west-1")
    del env[GRAPHQL_URL_VARIABLE]
    with pytest.raises(ConfigurationError, match=GRAPHQL_URL_VARIABLE):
        PublishSettings.from_env({**env, EVENT_BUS_NAME_VARIABLE: "inventory-events"})


def test_the_container_builds_its_publisher_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GRAPHQL_URL_VARIABLE, "https://example.appsync-api.us-east-1.amazonaws.com/graphql")
    monkeypatch.setenv(EVENT_BUS_NAME_VARIABLE, "inventory-events")
    resolvers.publisher.publisher.cache_clear()
    resolvers.publisher.events_client.cache_clear()
    try:
        assert resolvers.publisher.publisher() is resolvers.publisher.publisher()
    finally:
        resolvers.publisher.publisher.cache_clear()
        resolvers.publisher.events_client.cache_clear()
