"""The APPSYNC_JS resolver code, run with Node: the Lambda resolvers' (infra/lambda_resolver.js) against AppSync
contexts and the error envelopes the functions really return, with a round trip through the Lambda handler between
its two halves; the publish mutations' and the subscriptions' (infra/publish_resolver.js,
infra/subscription_resolver.js) against the events' payloads and filter arguments."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import resolvers.routers
from infra.api import PUBLISH_CODE_PATH, RESOLVER_CODE_PATH, SUBSCRIPTION_CODE_PATH
from inventory.config import Settings
from inventory.errors import (
    INTERNAL_ERROR_MESSAGE,
    DuplicateSku,
    IdempotencyConflict,
    InsufficientStock,
    InventoryError,
    ItemNotFound,
    ValidationError,
    VersionConflict,
    error_envelope,
    internal_error_envelope,
)
from inventory.events import CHANNELS, Event, EventKind, publish_request
from inventory.service import InventoryService
from resolvers import handlers
from tests.appsync import FakeLambdaContext, resolver_event
from tests.conftest import TEST_SECRET
from tests.graphql_schema import appsync_schema
from tests.infra.conftest import Synthesized

HARNESS = Path(__file__).resolve().parent / "appsync_js_harness.mjs"
# @aws-appsync/utils as the harness needs it: util.error stops the handler, as in AppSync, and says what it got;
# util.transform.toSubscriptionFilter marks what it was given, and extensions methods say what they got.
UTILS_STUB = """
export const util = {
  error(message, type, data, info) {
    const error = new Error(message);
    error.appsyncError = { message, type: type ?? null, data: data ?? null, info: info ?? null };
    throw error;
  },
  transform: {
    toSubscriptionFilter(filter) {
      return { toSubscriptionFilter: filter };
    },
  },
};
export const extensions = {
  setSubscriptionFilter(filter) {
    globalThis.appsyncExtensions.push(['setSubscriptionFilter', filter]);
  },
};
"""
# Statements the APPSYNC_JS runtime rejects (util.error replaces throw).
UNSUPPORTED = re.compile(r"\b(try|catch|finally|throw|async|await|continue|while)\b|\+\+|--")
EXPECTED_ERRORS: list[InventoryError] = [
    ValidationError("input.sku", "must be 1 to 64 characters long"),
    ItemNotFound("item-1"),
    DuplicateSku("SKU-1"),
    VersionConflict(1, 2),
    InsufficientStock([{"itemId": "item-1", "available": 2, "requested": 5}]),
    IdempotencyConflict("key-1", "idempotencyKey"),
]
ITEM = {"id": "item-1", "sku": "SKU-1", "quantity": 3, "status": "AVAILABLE"}


RunJs = Callable[..., list[dict[str, Any]]]


@pytest.fixture(scope="module")
def run_js(tmp_path_factory: pytest.TempPathFactory) -> RunJs:
    """``run_js(cases, code=RESOLVER_CODE_PATH)``: runs cases through resolver code under Node; the code is copied as
    an ES module next to the stub."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node is needed to run the APPSYNC_JS resolver code (see README: Node 20+)")
    directory = tmp_path_factory.mktemp("appsync-js")
    stub = directory / "node_modules" / "@aws-appsync" / "utils"
    stub.mkdir(parents=True)
    (stub / "package.json").write_text(json.dumps({"name": "@aws-appsync/utils", "type": "module", "main": "index.js"}))
    (stub / "index.js").write_text(UTILS_STUB)

    def run(cases: list[dict[str, Any]], code: Path = RESOLVER_CODE_PATH) -> list[dict[str, Any]]:
        module = directory / f"{code.stem}.mjs"
        shutil.copyfile(code, module)
        result = subprocess.run(
            [node, str(HARNESS), str(module)], input=json.dumps(cases), capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        outcomes: list[dict[str, Any]] = json.loads(result.stdout)
        return outcomes

    return run


@pytest.fixture(scope="module")
def api_env(synthesized: Callable[[str], Synthesized]) -> dict[str, str]:
    """The environment variables the deployed API gives its resolver code (ctx.env)."""
    (_, api) = synthesized("dev").one("AWS::AppSync::GraphQLApi")
    variables: dict[str, str] = api["Properties"]["EnvironmentVariables"]
    return variables


def _context(
    api_env: dict[str, str], parent_type: str, field_name: str, arguments: dict[str, Any], **event: Any
) -> dict[str, Any]:
    """The APPSYNC_JS ctx for one field: the resolver event AppSync's direct Lambda resolvers would send, plus ctx.args
    and ctx.env."""
    appsync_event = resolver_event(parent_type, field_name, arguments, **event)
    return {**appsync_event, "args": appsync_event["arguments"], "env": api_env}


def _response(result: Any = None, error: dict[str, Any] | None = None) -> dict[str, Any]:
    ctx: dict[str, Any] = {"result": result, "arguments": {}, "env": {}}
    if error is not None:
        ctx["error"] = error
    return {"handler": "response", "ctx": ctx}


@pytest.mark.parametrize("path", [RESOLVER_CODE_PATH, PUBLISH_CODE_PATH, SUBSCRIPTION_CODE_PATH], ids=lambda p: p.name)
def test_the_code_uses_no_statement_the_appsync_js_runtime_rejects(path: Path) -> None:
    code = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("//"))

    assert UNSUPPORTED.findall(code) == []
    assert re.findall(r"^export function (\w+)", code, re.MULTILINE) == ["request", "response"]


def test_each_error_envelope_becomes_util_error_with_its_type_message_and_info(run_js: Any) -> None:
    envelopes = [error_envelope(error) for error in EXPECTED_ERRORS]

    outcomes = run_js([_response(envelope) for envelope in envelopes])

    assert outcomes == [
        {"error": {"message": error.message, "type": error.error_type, "data": None, "info": error.info}}
        for error in EXPECTED_ERRORS
    ]


def test_an_internal_error_envelope_becomes_internal_error_without_info(run_js: Any) -> None:
    (outcome,) = run_js([_response(internal_error_envelope())])

    assert outcome == {
        "error": {"message": INTERNAL_ERROR_MESSAGE, "type": "InternalError", "data": None, "info": None}
    }


def test_a_failed_invocation_tells_the_client_nothing_of_its_cause(run_js: Any) -> None:
    lambda_failure = {
        "message": "Task timed out after 10.00 seconds (botocore, table inventory-prod)",
        "type": "Lambda:Unhandled",
    }

    (outcome,) = run_js([_response(ITEM, error=lambda_failure)])

    assert outcome == {
        "error": {"message": INTERNAL_ERROR_MESSAGE, "type": "InternalError", "data": None, "info": None}
    }


def test_results_pass_through_unchanged(run_js: Any) -> None:
    page = {"items": [ITEM], "nextToken": None}

    outcomes = run_js([_response(ITEM), _response(None), _response(page)])

    assert outcomes == [{"returned": ITEM}, {"returned": None}, {"returned": page}]


def test_the_request_hands_the_function_the_appsync_event_and_batches_item_movements(
    run_js: Any, api_env: dict[str, str]
) -> None:
    contexts = [
        _context(api_env, "Query", "getItem", {"id": "item-1"}),
        _context(api_env, "Mutation", "adjustStock", {"input": {"itemId": "item-1", "delta": -1}}),
        _context(api_env, "Item", "movements", {"limit": 5}, source=ITEM),
    ]

    outcomes = run_js([{"handler": "request", "ctx": ctx} for ctx in contexts])

    events = [{key: ctx[key] for key in ctx if key not in {"args", "env"}} for ctx in contexts]
    assert outcomes == [
        {"returned": {"operation": "Invoke", "payload": events[0]}},
        {"returned": {"operation": "Invoke", "payload": events[1]}},
        {"returned": {"operation": "BatchInvoke", "payload": events[2]}},
    ]


class _NoMovements:
    """A repository with no movement for any item: all the batch round trip below needs."""

    def list_movements(self, item_id: str, limit: int, start: Any) -> tuple[list[Any], None]:
        return [], None


def test_a_batch_round_trip_answers_each_entry_on_its_own(
    run_js: Any, api_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """JS request for two parents -> the queries handler (BatchInvoke: one list) -> JS response per entry: the
    entry with a bad limit fails alone, with its errorType and errorInfo."""
    settings = Settings(table_name="inventory-test", page_token_secret=TEST_SECRET.encode())
    service = InventoryService(_NoMovements(), settings)  # type: ignore[arg-type]
    monkeypatch.setattr(resolvers.routers, "service", lambda: service)
    contexts = [
        _context(api_env, "Item", "movements", {"limit": 5}, source=ITEM),
        _context(api_env, "Item", "movements", {"limit": 0}, source={**ITEM, "id": "item-2"}),
    ]
    requests = run_js([{"handler": "request", "ctx": ctx} for ctx in contexts])
    assert {r["returned"]["operation"] for r in requests} == {"BatchInvoke"}

    results = handlers.queries_handler([r["returned"]["payload"] for r in requests], FakeLambdaContext())
    outcomes = run_js([_response(result) for result in results])

    assert outcomes[0] == {"returned": {"items": [], "nextToken": None}}
    assert outcomes[1]["error"]["type"] == "ValidationError"
    assert outcomes[1]["error"]["info"]["field"] == "limit"


MOVEMENT = {"id": "mv-1", "itemId": "item-1", "locationId": "loc-1", "delta": -2, "reason": "SALE"}


def test_a_publish_mutation_returns_the_event_its_argument_carries(run_js: RunJs) -> None:
    """The stream handler's variables (publish_request) in, the GraphQL JSON out: what the subscribers receive."""
    cases, expected = [], []
    for kind, detail in (
        (EventKind.ITEM_CHANGED, ITEM),
        (EventKind.STOCK_MOVEMENT, MOVEMENT),
        (EventKind.LOW_STOCK, ITEM),
    ):
        _, variables = publish_request(Event(kind, f"record-1:{kind.value}", "item-1", detail))
        arguments = {CHANNELS[kind].publish_argument: variables["payload"]}
        cases.append({"handler": "request", "ctx": {"args": arguments, "arguments": arguments}})
        expected.append(detail)

    requests = run_js(cases, PUBLISH_CODE_PATH)
    responses = run_js(
        [{"handler": "response", "ctx": {"result": r["returned"]["payload"]}} for r in requests], PUBLISH_CODE_PATH
    )

    assert [r["returned"]["payload"] for r in requests] == expected
    assert [r["returned"] for r in responses] == expected


def test_an_awsjson_argument_already_parsed_passes_as_it_is(run_js: RunJs) -> None:
    (outcome,) = run_js([{"handler": "request", "ctx": {"args": {"item": ITEM}}}], PUBLISH_CODE_PATH)

    assert outcome == {"returned": {"payload": ITEM}}


def test_each_subscription_argument_given_filters_on_the_payload_field_of_its_name(run_js: RunJs) -> None:
    cases = [
        {"itemId": "item-1", "locationId": "loc-1"},
        {"itemId": "item-1", "locationId": None},
        {"locationId": "loc-1"},
        {"category": "tools"},
        {"id": "item-1"},
    ]

    outcomes = run_js(
        [{"handler": "response", "ctx": {"args": args, "arguments": args}} for args in cases], SUBSCRIPTION_CODE_PATH
    )

    filters = [outcome["extensions"] for outcome in outcomes]
    assert filters == [
        [
            [
                "setSubscriptionFilter",
                {"toSubscriptionFilter": {"itemId": {"eq": "item-1"}, "locationId": {"eq": "loc-1"}}},
            ]
        ],
        [["setSubscriptionFilter", {"toSubscriptionFilter": {"itemId": {"eq": "item-1"}}}]],
        [["setSubscriptionFilter", {"toSubscriptionFilter": {"locationId": {"eq": "loc-1"}}}]],
        [["setSubscriptionFilter", {"toSubscriptionFilter": {"category": {"eq": "tools"}}}]],
        [["setSubscriptionFilter", {"toSubscriptionFilter": {"id": {"eq": "item-1"}}}]],
    ]
    assert all(outcome["returned"] is None for outcome in outcomes)


def test_a_subscription_without_arguments_hears_everything(run_js: RunJs) -> None:
    outcomes = run_js(
        [
            {"handler": "response", "ctx": {"args": {}}},
            {"handler": "response", "ctx": {"args": {"itemId": None, "locationId": None}}},
            {"handler": "request", "ctx": {"args": {"itemId": "item-1"}}},
        ],
        SUBSCRIPTION_CODE_PATH,
    )

    assert outcomes == [{"returned": None}, {"returned": None}, {"returned": {"payload": None}}]


def test_every_filter_argument_of_the_channels_is_a_subscription_argument_in_the_schema() -> None:
    """The subscription code filters on each argument by the payload field of its name: CHANNELS declares them."""
    schema = appsync_schema()
    subscription = schema.subscription_type
    assert subscription is not None
    for channel in CHANNELS.values():
        assert tuple(subscription.fields[channel.subscription_field].args) == channel.filters
