"""A function as the stack deploys it: with the environment variables of the synthesized template, it reads its
settings from Parameter Store and its page-token secret from Secrets Manager (cached for the configured max age), and
emits the business metrics the dashboard charts; the expiry function reads its settings without the secret. AWS is
moto, in memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parameters import base as powertools_parameters
from moto import mock_aws

import resolvers.runtime
from inventory.config import ConfigurationError, Settings
from inventory.table import ensure_table
from tests.appsync import mutate
from tests.infra.conftest import Synthesized, logical_id

TABLE_NAME = "inventory-deployed"
SECRET_VALUE = "generated-at-deploy-time-0123456789abcdef0123456789abcdef"
HOLDS_QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/inventory-holds"


def _reset_runtime() -> None:
    resolvers.runtime.service.cache_clear()
    resolvers.runtime.dynamodb_client.cache_clear()
    resolvers.runtime._metrics.cache_clear()
    powertools_parameters.clear_caches()  # Powertools' cached values and its providers (and their clients)


@contextmanager
def _deployed(dev: Synthesized, monkeypatch: pytest.MonkeyPatch, function_name: str) -> Iterator[dict[str, Any]]:
    """The dev stack's parameters, a secret and a table in moto, and the named function's environment as the
    template sets it (references replaced by what CloudFormation would put there)."""
    with mock_aws():
        ssm = boto3.client("ssm")
        for parameter in dev.resources("AWS::SSM::Parameter").values():
            properties = parameter["Properties"]
            if isinstance(properties["Value"], str):
                ssm.put_parameter(Name=properties["Name"], Value=properties["Value"], Type=properties["Type"])
        secret_arn = boto3.client("secretsmanager").create_secret(Name="page-token", SecretString=SECRET_VALUE)["ARN"]
        ensure_table(boto3.client("dynamodb"), TABLE_NAME)
        references = {
            json.dumps({"Ref": dev.one("AWS::DynamoDB::GlobalTable")[0]}): TABLE_NAME,
            json.dumps({"Ref": dev.one("AWS::SecretsManager::Secret")[0]}): secret_arn,
            json.dumps({"Ref": logical_id(dev, "AWS::SQS::Queue", "Expiry/Holds")}): HOLDS_QUEUE_URL,  # never called
        }
        function = dev.resources("AWS::Lambda::Function")[
            logical_id(dev, "AWS::Lambda::Function", f"Functions/{function_name}")
        ]
        variables = {
            name: value if isinstance(value, str) else references[json.dumps(value)]
            for name, value in function["Properties"]["Environment"]["Variables"].items()
        }
        for name in ("INVENTORY_PAGE_TOKEN_SECRET", "AWS_ENDPOINT_URL_DYNAMODB"):
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        _reset_runtime()
        try:
            yield {"ssm": ssm, "variables": variables, "config": dev.config}
        finally:
            _reset_runtime()


@pytest.fixture
def deployed(dev: Synthesized, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """The queries function, as deployed."""
    with _deployed(dev, monkeypatch, "Queries") as deployed:
        yield deployed


def _set(deployed: dict[str, Any], name: str, value: str) -> None:
    path = deployed["variables"]["INVENTORY_PARAMETER_PATH"]
    deployed["ssm"].put_parameter(Name=f"{path}/{name}", Value=value, Type="String", Overwrite=True)


def _emitted_metrics(output: str) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every embedded-metric-format record printed."""
    records = [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]
    emitted = []
    for record in records:
        for directive in record["_aws"]["CloudWatchMetrics"]:
            dimensions = {name: record[name] for names in directive["Dimensions"] for name in names}
            emitted += [(directive["Namespace"], metric["Name"], dimensions) for metric in directive["Metrics"]]
    return emitted


def test_a_deployed_function_reads_its_settings_and_secret_from_aws(deployed: dict[str, Any]) -> None:
    settings = deployed["config"].api_settings
    _set(deployed, "max-page-size", "50")  # changed by an operator after the deployment

    assert resolvers.runtime.service().settings == Settings(
        table_name=TABLE_NAME,
        page_token_secret=SECRET_VALUE.encode(),
        default_page_size=settings.default_page_size,
        max_page_size=50,
        default_reorder_point=settings.default_reorder_point,
        idempotency_ttl_hours=settings.idempotency_ttl_hours,
    )


def test_the_expiry_function_reads_its_settings_without_the_page_token_secret(
    dev: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _deployed(dev, monkeypatch, "Expiry") as deployed:
        settings = deployed["config"].api_settings
        _set(deployed, "max-page-size", "50")

        assert resolvers.runtime.service(serves_pages=False).settings == Settings(
            table_name=TABLE_NAME,
            page_token_secret=None,  # never fetched: its environment names no secret (and its role may not read it)
            default_page_size=settings.default_page_size,
            max_page_size=50,
            default_reorder_point=settings.default_reorder_point,
            idempotency_ttl_hours=settings.idempotency_ttl_hours,
        )
        # The resolvers' service in the same environment fails at its start, as it would without its secret.
        with pytest.raises(ConfigurationError, match="INVENTORY_PAGE_TOKEN_SECRET is not set"):
            resolvers.runtime.service()


def test_settings_are_reused_until_their_max_age_then_fetched_again(
    deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = resolvers.runtime.service()
    _set(deployed, "default-reorder-point", "7")

    assert resolvers.runtime.service() is first  # within the max age: no new fetch, same service
    max_age = int(deployed["variables"]["INVENTORY_CONFIGURATION_MAX_AGE_SECONDS"])
    assert max_age == deployed["config"].functions.configuration_max_age_seconds

    class Later(datetime):
        """Powertools' clock, max_age seconds on."""

        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Later:
            return cls.fromtimestamp((datetime.now(tz) + timedelta(seconds=max_age + 1)).timestamp(), tz)

    monkeypatch.setattr(powertools_parameters, "datetime", Later)
    refreshed = resolvers.runtime.service()
    assert refreshed is not first
    assert refreshed.settings.default_reorder_point == 7


def test_stock_adjustments_orders_and_refusals_for_lack_of_stock_are_counted(
    deployed: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    item = mutate(
        "createItem", {"input": {"sku": "M-1", "name": "Metered", "category": "tools", "price": 1, "quantity": 5}}
    )
    adjust = {"itemId": item["id"], "reason": "SOLD", "idempotencyKey": "k-1"}
    mutate("adjustStock", {"input": {**adjust, "delta": -1}})
    mutate("adjustStock", {"input": {**adjust, "delta": -10, "idempotencyKey": "k-2"}})
    mutate("fulfillOrder", {"input": {"orderId": "order-1", "lines": [{"itemId": item["id"], "quantity": 1}]}})
    mutate("fulfillOrder", {"input": {"orderId": "order-2", "lines": [{"itemId": item["id"], "quantity": 99}]}})

    namespace = deployed["variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    assert namespace == "Inventory/dev"
    assert _emitted_metrics(capsys.readouterr().out) == [
        (namespace, name, {"service": "inventory"})
        for name in ("StockAdjusted", "InsufficientStock", "OrdersFulfilled", "InsufficientStock")
    ]


def test_without_a_metrics_namespace_nothing_is_emitted(
    deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE")
    item = mutate(
        "createItem", {"input": {"sku": "M-2", "name": "Quiet", "category": "tools", "price": 1, "quantity": 1}}
    )
    mutate("adjustStock", {"input": {"itemId": item["id"], "delta": -1, "reason": "SOLD", "idempotencyKey": "k-3"}})

    assert _emitted_metrics(capsys.readouterr().out) == []


def test_a_failure_to_emit_a_metric_leaves_the_answer_as_it_was(
    deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The stock changed: the client must get its movement, not an InternalError inviting a retry."""
    item = mutate(
        "createItem", {"input": {"sku": "M-3", "name": "Metered", "category": "tools", "price": 1, "quantity": 2}}
    )

    def broken(**_: Any) -> None:
        raise RuntimeError("metrics unavailable")

    monkeypatch.setattr(resolvers.runtime._metrics(), "add_metric", broken)
    adjustment = {"itemId": item["id"], "delta": -1, "reason": "SOLD", "idempotencyKey": "k-4"}
    movement = mutate("adjustStock", {"input": adjustment})

    assert (movement["delta"], movement["quantityAfter"]) == (-1, 1)
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == [
        "Business metric not recorded"
    ]
