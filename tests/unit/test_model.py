"""The model's rules and the edge's wording of their refusals; the table's records of the model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from inventory import dynamodb, operations
from inventory.config import Settings
from inventory.errors import InventoryError, api_error, error_envelope
from inventory.model import (
    MAIN_LOCATION,
    MAX_AMOUNT,
    UNSET,
    AdjustStock,
    BelowReserved,
    CountMismatch,
    DomainError,
    DuplicateLocationCode,
    DuplicateSku,
    FulfillOrder,
    IdempotencyConflict,
    Instant,
    InsufficientStock,
    Item,
    ItemNotFound,
    ItemReserved,
    ItemStatus,
    Level,
    LocationNotFound,
    MovementReason,
    OrderLine,
    QuantityAboveLimit,
    QuantityConflict,
    RequestKind,
    RequestRecord,
    ReservationNotActive,
    ReservationNotFound,
    ReservationStatus,
    Shortfall,
    TooManyLocations,
    UpdateItem,
    VersionConflict,
)
from inventory.service import InventoryService
from tests.unit.fake_repository import FakeRepository

ITEM = Item(
    "i", "S", "n", None, "c", Decimal("1.5"), 3, 2, ItemStatus.AVAILABLE, 4, "t0", "t0", 7, {"MAIN": Level("MAIN", 3)}
)
T1 = Instant.from_ms(1_000)


def test_a_movement_moves_stock_status_and_revision_but_not_the_version() -> None:
    change = ITEM.moved(MAIN_LOCATION, -3, MovementReason.SOLD, "order-1", now=T1, movement_id="m1")
    assert change.before == ITEM
    assert (change.after.quantity, change.after.status, change.after.stock_revision) == (0, ItemStatus.OUT_OF_STOCK, 8)
    assert (change.after.version, change.after.updated_at, change.after.levels) == (4, T1.text, {})
    assert change.movements == (
        ("m1", "i", -3, 0, MovementReason.SOLD, "order-1", T1.text, 8, "MAIN", 0),
    )  # fmt: skip


def test_a_discontinued_item_stays_discontinued_whatever_its_stock() -> None:
    item = ITEM._replace(status=ItemStatus.DISCONTINUED)
    sold = item.moved(MAIN_LOCATION, -3, MovementReason.SOLD, None, now=T1, movement_id="m1")
    assert sold.after.status is ItemStatus.DISCONTINUED
    assert not item._replace(quantity=0).low_stock


def test_stock_never_goes_below_zero_and_the_refusal_names_the_shortfall() -> None:
    with pytest.raises(InsufficientStock) as caught:
        ITEM.moved(MAIN_LOCATION, -4, MovementReason.DAMAGED, None, now=T1, movement_id="m1")
    assert caught.value.shortfalls == (Shortfall("i", 3, 4),)
    assert ITEM.shortfall(MAIN_LOCATION, 4, T1.ms) == Shortfall("i", 3, 4)
    assert ITEM.shortfall(MAIN_LOCATION, 3, T1.ms) is None


def test_stock_never_exceeds_the_bound_and_the_refusal_names_the_quantity() -> None:
    received = ITEM.moved(MAIN_LOCATION, MAX_AMOUNT - 3, MovementReason.RECEIVED, None, now=T1, movement_id="m1")
    assert received.after.quantity == MAX_AMOUNT
    with pytest.raises(QuantityAboveLimit) as caught:
        ITEM.moved(MAIN_LOCATION, MAX_AMOUNT - 2, MovementReason.RECEIVED, None, now=T1, movement_id="m1")
    assert (caught.value.item_id, caught.value.quantity, caught.value.limit) == ("i", MAX_AMOUNT + 1, MAX_AMOUNT)


def test_an_edit_replaces_given_fields_and_recomputes_status() -> None:
    edited = ITEM.edited(UpdateItem("i", 4, name="m", description=None, status=ItemStatus.DISCONTINUED), "t1")
    assert (edited.name, edited.description, edited.status, edited.version) == ("m", None, ItemStatus.DISCONTINUED, 5)
    assert (edited.quantity, edited.stock_revision, edited.updated_at) == (3, 7, "t1")
    back = edited.edited(UpdateItem("i", 5, status=ItemStatus.AVAILABLE, price=UNSET), "t2")
    assert (back.status, back.price) == (ItemStatus.AVAILABLE, Decimal("1.5"))


@pytest.mark.parametrize(
    ("error", "envelope"),
    [
        (ItemNotFound("i"), ("ItemNotFound", "No item has id 'i'.", {"id": "i"})),
        (DuplicateSku("S"), ("DuplicateSku", "The sku 'S' is already used by another item.", {"sku": "S"})),
        (
            VersionConflict(1, 2),
            (
                "VersionConflict",
                "The item was changed since you read it: expected version 1, current version 2. Read the item again "
                "and reapply your change.",
                {"expectedVersion": 1, "currentVersion": 2},
            ),
        ),
        (
            InsufficientStock((Shortfall("a", 2, 5), Shortfall("b", 0, 1))),
            (
                "InsufficientStock",
                "Not enough stock, nothing was changed: a has 2, needs 5, b has 0, needs 1.",
                {
                    "lines": [
                        {"itemId": "a", "available": 2, "requested": 5},
                        {"itemId": "b", "available": 0, "requested": 1},
                    ]
                },
            ),
        ),
        (
            QuantityAboveLimit("i", MAX_AMOUNT + 1),
            (
                "ValidationError",
                "Invalid input.delta: would raise the quantity above 1000000000.",
                {"field": "input.delta", "reason": "would raise the quantity above 1000000000"},
            ),
        ),
        (
            IdempotencyConflict(RequestKind.ADJUST_STOCK, "k"),
            (
                "IdempotencyConflict",
                "The idempotencyKey 'k' was already used with different input. Use a new idempotencyKey for a new "
                "request.",
                {"key": "k"},
            ),
        ),
        (
            IdempotencyConflict(RequestKind.FULFILL_ORDER, "o"),
            (
                "IdempotencyConflict",
                "The orderId 'o' was already used with different input. Use a new orderId for a new request.",
                {"key": "o"},
            ),
        ),
    ],
)
def test_the_edge_words_each_domain_error_as_the_contract_says(
    error: DomainError, envelope: tuple[str, str, dict[str, Any]]
) -> None:
    error_type, message, info = envelope
    assert error_envelope(api_error(error)) == {"error": {"type": error_type, "message": message, "info": info}}


def test_an_adjustment_above_the_bound_is_refused_on_its_delta_and_writes_nothing(settings: Settings) -> None:
    repository = FakeRepository()
    repository.items["i"] = ITEM
    service = InventoryService(repository, settings)
    arguments = {"itemId": "i", "delta": MAX_AMOUNT - 2, "reason": "RECEIVED", "idempotencyKey": "k"}
    with pytest.raises(InventoryError) as caught:
        operations.adjust_stock(service, {"input": arguments})
    assert error_envelope(caught.value)["error"]["info"] == {
        "field": "input.delta",
        "reason": "would raise the quantity above 1000000000",
    }
    assert (repository.items, repository.requests, repository.writes) == ({"i": ITEM}, {}, 0)


def test_records_read_back_as_the_model_they_were_written_from() -> None:
    change = ITEM.moved(MAIN_LOCATION, 2, MovementReason.RECEIVED, None, now=T1, movement_id="m1")
    stored = dynamodb.deserialize(dynamodb.serialize(dynamodb.item_record(ITEM)))
    assert dynamodb.item_from_record(stored) == ITEM
    (moved,) = change.movements
    movement = dynamodb.deserialize(dynamodb.serialize(dynamodb.movement_record(moved)))
    assert dynamodb.movement_from_record(movement) == moved
    record = RequestRecord(RequestKind.FULFILL_ORDER, "o", "f", (moved,), None)
    stored_request = dynamodb.deserialize(dynamodb.serialize(dynamodb.request_record(record)))
    assert dynamodb.request_from_record(stored_request) == record


def test_request_records_keep_the_kind_names_already_stored() -> None:
    record = RequestRecord(RequestKind.ADJUST_STOCK, "k", "f", (), 5)
    stored = dynamodb.request_record(record)
    assert (stored["pk"], stored["kind"]) == ("REQUEST#adjustStock#k", "adjustStock")
    assert dynamodb.request_record(record._replace(kind=RequestKind.FULFILL_ORDER))["pk"] == "REQUEST#fulfillOrder#k"


def test_fingerprints_of_requests_stay_those_already_stored() -> None:
    # Digests as the service computed them before the model held them (commit 0ddbbfa): records written then must
    # still replay, not be refused as a reuse of their key.
    adjust = AdjustStock("i", 2, MovementReason.RECEIVED, None, "k")
    order = FulfillOrder("o", (OrderLine("b", 1), OrderLine("a", 2)))
    assert adjust.fingerprint == "b3e7ad080950267c943651c7135ed5003313b06d173cfaa2dc7d9d383e970230"
    assert order.fingerprint == "6ec82a6e633a6291f2c6e97524c229b702ee45fcda7c151f9fe28afac47f2b69"


@pytest.mark.parametrize(
    ("error", "error_type", "info"),
    [
        (LocationNotFound("l"), "LocationNotFound", {"id": "l"}),
        (DuplicateLocationCode("WH"), "DuplicateLocationCode", {"code": "WH"}),
        (TooManyLocations(100), "ValidationError", {"field": "input.code"}),
        (ItemReserved("i", 3), "ItemReserved", {"id": "i", "reserved": 3}),
        (ReservationNotFound("r"), "ReservationNotFound", {"id": "r"}),
        (
            ReservationNotActive("r", ReservationStatus.EXPIRED),
            "ReservationNotActive",
            {"id": "r", "status": "EXPIRED"},
        ),
        (
            QuantityConflict((CountMismatch("a", 1, 2), CountMismatch("b", 3, 4))),
            "QuantityConflict",
            {"lines": [{"itemId": "a", "expected": 1, "actual": 2}, {"itemId": "b", "expected": 3, "actual": 4}]},
        ),
        (BelowReserved("i", 3, 2), "ValidationError", {"field": "input.lines[2].onHand"}),
        (QuantityAboveLimit("i", MAX_AMOUNT + 1, 1), "ValidationError", {"field": "input.lines[1].onHand"}),
        (IdempotencyConflict(RequestKind.TRANSFER_STOCK, "k"), "IdempotencyConflict", {"key": "k"}),
        (IdempotencyConflict(RequestKind.SET_STOCK, "k"), "IdempotencyConflict", {"key": "k"}),
        (IdempotencyConflict(RequestKind.RESERVE_STOCK, "r"), "IdempotencyConflict", {"key": "r"}),
    ],
)
def test_the_edge_words_each_v2_refusal_with_the_contracts_error_info(
    error: DomainError, error_type: str, info: dict[str, Any]
) -> None:
    """errorInfo holds at least the contract's keys, with these values; every message says something."""
    worded = api_error(error)
    assert worded.error_type == error_type and worded.message
    assert {name: worded.info[name] for name in info} == info


def test_every_domain_error_has_a_client_wording() -> None:
    errors = _one_of_each_domain_error()
    known = {type(error) for error in errors}
    assert set(DomainError.__subclasses__()) == known, "a new domain error: add it here, and its wording in errors.py"
    assert all(api_error(error).message for error in errors)  # api_error raises TypeError for one it cannot word


def _one_of_each_domain_error() -> list[DomainError]:
    return [
        ItemNotFound("i"),
        DuplicateSku("s"),
        VersionConflict(1, 2),
        InsufficientStock(()),
        QuantityAboveLimit("i", 1),
        BelowReserved("i", 1, 0),
        QuantityConflict(()),
        LocationNotFound("l"),
        DuplicateLocationCode("c"),
        TooManyLocations(100),
        ItemReserved("i", 1),
        ReservationNotFound("r"),
        ReservationNotActive("r", ReservationStatus.RELEASED),
        *(IdempotencyConflict(kind, "k") for kind in RequestKind),
    ]
