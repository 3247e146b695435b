"""Every bound and rule of inputs.py: what is accepted, and the exact argument path each refusal names."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from inventory import inputs
from inventory.errors import ValidationError
from inventory.model import UNSET, ItemFilter, ItemStatus, MovementReason, OrderLine


def refused_field(parse: Callable[[Any], Any], raw: Any) -> str:
    """Parse ``raw``, expect a ValidationError, and return the argument path it names."""
    with pytest.raises(ValidationError) as caught:
        parse(raw)
    assert caught.value.error_type == "ValidationError"
    assert caught.value.info["reason"]
    field: str = caught.value.info["field"]
    return field


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def without(base: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in base.items() if name != key}


# createItem

CREATE = {"sku": "SKU-1", "name": "Widget", "category": "tools", "price": 9.99}


def test_create_item_parses_a_minimal_input_with_defaults() -> None:
    command = inputs.create_item(CREATE)
    assert command.sku == "SKU-1"
    assert command.name == "Widget"
    assert command.category == "tools"
    assert command.price == Decimal("9.99")
    assert command.quantity == 0
    assert command.description is None
    assert command.reorder_point is None


@pytest.mark.parametrize(
    ("changes", "attribute", "expected"),
    [
        ({"sku": "S"}, "sku", "S"),
        ({"sku": "S" * 64}, "sku", "S" * 64),
        ({"sku": "a b"}, "sku", "a b"),
        ({"name": "N" * 200}, "name", "N" * 200),
        ({"category": "C" * 64}, "category", "C" * 64),
        ({"description": ""}, "description", ""),
        ({"description": "D" * 2000}, "description", "D" * 2000),
        ({"quantity": None}, "quantity", 0),
        ({"quantity": 1_000_000_000}, "quantity", 1_000_000_000),
        ({"reorderPoint": 0}, "reorder_point", 0),
        ({"reorderPoint": 1_000_000_000}, "reorder_point", 1_000_000_000),
        ({"reorderPoint": None}, "reorder_point", None),
    ],
)
def test_create_item_accepts_values_at_the_bounds(changes: dict[str, Any], attribute: str, expected: Any) -> None:
    assert getattr(inputs.create_item(with_(CREATE, **changes)), attribute) == expected


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        (0.1, Decimal("0.1")),
        (0, Decimal(0)),
        (0.0, Decimal(0)),
        (12.5, Decimal("12.5")),
        (19.99, Decimal("19.99")),
        (1_000_000_000, Decimal(1_000_000_000)),
        (1e9, Decimal(1_000_000_000)),
        ("0.10", Decimal("0.1")),
        (Decimal("7.25"), Decimal("7.25")),
    ],
)
def test_price_parses_exactly_as_a_decimal(price: Any, expected: Decimal) -> None:
    parsed = inputs.create_item(with_(CREATE, price=price)).price
    assert isinstance(parsed, Decimal)
    assert parsed == expected


def test_price_0_1_is_the_decimal_0_1_and_not_the_binary_float() -> None:
    price = inputs.create_item(with_(CREATE, price=0.1)).price
    assert price == Decimal("0.1")
    assert str(price) == "0.1"  # not 0.1000000000000000055511151231257827...


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (None, "input"),
        ("not an object", "input"),
        ([CREATE], "input"),
        (without(CREATE, "sku"), "input.sku"),
        (with_(CREATE, sku=""), "input.sku"),
        (with_(CREATE, sku="S" * 65), "input.sku"),
        (with_(CREATE, sku=" SKU-1"), "input.sku"),
        (with_(CREATE, sku="SKU-1 "), "input.sku"),
        (with_(CREATE, sku="SKU-1\n"), "input.sku"),
        (with_(CREATE, sku=12), "input.sku"),
        (without(CREATE, "name"), "input.name"),
        (with_(CREATE, name=""), "input.name"),
        (with_(CREATE, name="N" * 201), "input.name"),
        (without(CREATE, "category"), "input.category"),
        (with_(CREATE, category=""), "input.category"),
        (with_(CREATE, category="C" * 65), "input.category"),
        (with_(CREATE, description="D" * 2001), "input.description"),
        (with_(CREATE, description=5), "input.description"),
        (without(CREATE, "price"), "input.price"),
        (with_(CREATE, price=-0.01), "input.price"),
        (with_(CREATE, price=1_000_000_000.01), "input.price"),
        (with_(CREATE, price=0.001), "input.price"),
        (with_(CREATE, price=1.005), "input.price"),
        (with_(CREATE, price=0.1 + 0.2), "input.price"),
        (with_(CREATE, price="1.234"), "input.price"),
        (with_(CREATE, price=True), "input.price"),
        (with_(CREATE, price="abc"), "input.price"),
        (with_(CREATE, price="NaN"), "input.price"),
        (with_(CREATE, price=float("inf")), "input.price"),
        (with_(CREATE, price=[1]), "input.price"),
        (with_(CREATE, quantity=-1), "input.quantity"),
        (with_(CREATE, quantity=1_000_000_001), "input.quantity"),
        (with_(CREATE, quantity=True), "input.quantity"),
        (with_(CREATE, quantity=1.0), "input.quantity"),
        (with_(CREATE, quantity="5"), "input.quantity"),
        (with_(CREATE, reorderPoint=-1), "input.reorderPoint"),
        (with_(CREATE, reorderPoint=1_000_000_001), "input.reorderPoint"),
        (with_(CREATE, reorderPoint=False), "input.reorderPoint"),
    ],
)
def test_create_item_refuses_out_of_bounds_input_naming_the_field(raw: Any, field: str) -> None:
    assert refused_field(inputs.create_item, raw) == field


# updateItem

UPDATE_KEYS = {"id": "item-1", "expectedVersion": 3}


@pytest.mark.parametrize(
    ("changes", "attribute", "expected"),
    [
        ({"name": "New name"}, "name", "New name"),
        ({"description": "Text"}, "description", "Text"),
        ({"description": None}, "description", None),
        ({"category": "garden"}, "category", "garden"),
        ({"price": 0.1}, "price", Decimal("0.1")),
        ({"reorderPoint": 0}, "reorder_point", 0),
        ({"status": "AVAILABLE"}, "status", ItemStatus.AVAILABLE),
        ({"status": "DISCONTINUED"}, "status", ItemStatus.DISCONTINUED),
    ],
)
def test_update_item_parses_one_changed_field_and_leaves_the_others_unset(
    changes: dict[str, Any], attribute: str, expected: Any
) -> None:
    command = inputs.update_item({**UPDATE_KEYS, **changes})
    assert command.id == "item-1"
    assert command.expected_version == 3
    assert getattr(command, attribute) == expected
    others = {"name", "description", "category", "price", "reorder_point", "status"} - {attribute}
    assert {name: getattr(command, name) for name in others} == dict.fromkeys(others, UNSET)


def test_update_item_explicit_null_description_means_clear_it() -> None:
    assert inputs.update_item({**UPDATE_KEYS, "description": None}).description is None


def test_update_item_without_description_leaves_it_unset() -> None:
    assert inputs.update_item({**UPDATE_KEYS, "name": "x"}).description is UNSET


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (None, "input"),
        (UPDATE_KEYS, "input"),
        ({**UPDATE_KEYS, "quantity": 5}, "input"),
        ({**UPDATE_KEYS, "name": None}, "input.name"),
        ({**UPDATE_KEYS, "category": None}, "input.category"),
        ({**UPDATE_KEYS, "price": None}, "input.price"),
        ({**UPDATE_KEYS, "reorderPoint": None}, "input.reorderPoint"),
        ({**UPDATE_KEYS, "status": None}, "input.status"),
        ({**UPDATE_KEYS, "status": "OUT_OF_STOCK"}, "input.status"),
        ({**UPDATE_KEYS, "status": "SOLD_OUT"}, "input.status"),
        ({"expectedVersion": 3, "name": "x"}, "input.id"),
        ({"id": "", "expectedVersion": 3, "name": "x"}, "input.id"),
        ({"id": "i" * 129, "expectedVersion": 3, "name": "x"}, "input.id"),
        ({"id": "item-1", "name": "x"}, "input.expectedVersion"),
        ({"id": "item-1", "expectedVersion": 0, "name": "x"}, "input.expectedVersion"),
        ({"id": "item-1", "expectedVersion": True, "name": "x"}, "input.expectedVersion"),
        ({"id": "item-1", "expectedVersion": 2**31, "name": "x"}, "input.expectedVersion"),
        ({**UPDATE_KEYS, "name": ""}, "input.name"),
        ({**UPDATE_KEYS, "name": "N" * 201}, "input.name"),
        ({**UPDATE_KEYS, "description": "D" * 2001}, "input.description"),
        ({**UPDATE_KEYS, "category": "C" * 65}, "input.category"),
        ({**UPDATE_KEYS, "price": 1.234}, "input.price"),
        ({**UPDATE_KEYS, "price": -1}, "input.price"),
        ({**UPDATE_KEYS, "reorderPoint": -1}, "input.reorderPoint"),
        ({**UPDATE_KEYS, "reorderPoint": True}, "input.reorderPoint"),
    ],
)
def test_update_item_refuses_bad_input_naming_the_field(raw: Any, field: str) -> None:
    assert refused_field(inputs.update_item, raw) == field


# listItems: filter, limit, nextToken


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ItemFilter()),
        ({}, ItemFilter()),
        ({"category": None, "status": None, "lowStock": None}, ItemFilter()),
        ({"category": "tools"}, ItemFilter(category="tools")),
        ({"category": "tools", "status": None}, ItemFilter(category="tools")),
        ({"status": "OUT_OF_STOCK"}, ItemFilter(status=ItemStatus.OUT_OF_STOCK)),
        ({"status": "DISCONTINUED"}, ItemFilter(status=ItemStatus.DISCONTINUED)),
        ({"lowStock": True}, ItemFilter(low_stock=True)),
    ],
)
def test_item_filter_accepts_at_most_one_field(raw: Any, expected: ItemFilter) -> None:
    assert inputs.item_filter(raw) == expected


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("tools", "filter"),
        ({"category": "tools", "status": "AVAILABLE"}, "filter"),
        ({"category": "tools", "lowStock": True}, "filter"),
        ({"status": "AVAILABLE", "lowStock": True}, "filter"),
        ({"lowStock": False}, "filter.lowStock"),
        ({"lowStock": "true"}, "filter.lowStock"),
        ({"colour": "red"}, "filter.colour"),
        ({"category": ""}, "filter.category"),
        ({"category": "C" * 65}, "filter.category"),
        ({"status": "SOLD_OUT"}, "filter.status"),
    ],
)
def test_item_filter_refuses_bad_filters_naming_the_field(raw: Any, field: str) -> None:
    assert refused_field(inputs.item_filter, raw) == field


@pytest.mark.parametrize(("raw", "expected"), [(None, 20), (1, 1), (37, 37), (100, 100)])
def test_limit_defaults_and_accepts_1_to_the_maximum(raw: Any, expected: int) -> None:
    assert inputs.limit(raw, default=20, maximum=100) == expected


@pytest.mark.parametrize("raw", [0, -1, 101, True, 5.0, "5"])
def test_limit_refuses_values_outside_1_to_the_maximum(raw: Any) -> None:
    assert refused_field(lambda value: inputs.limit(value, default=20, maximum=100), raw) == "limit"


@pytest.mark.parametrize(("raw", "expected"), [(None, None), ("abc", "abc"), ("t" * 4096, "t" * 4096)])
def test_next_token_accepts_null_and_strings_up_to_4096(raw: Any, expected: str | None) -> None:
    assert inputs.next_token(raw) == expected


@pytest.mark.parametrize("raw", ["", "t" * 4097, 42])
def test_next_token_refuses_empty_long_or_non_string_values(raw: Any) -> None:
    assert refused_field(inputs.next_token, raw) == "nextToken"


@pytest.mark.parametrize("raw", [None, "", "i" * 129, 7])
def test_item_id_refuses_missing_empty_long_or_non_string_ids(raw: Any) -> None:
    assert refused_field(inputs.item_id, raw) == "id"


def test_item_id_accepts_128_characters() -> None:
    assert inputs.item_id("i" * 128) == "i" * 128


# getItemBySku


@pytest.mark.parametrize("raw", [None, "", " SKU", "SKU ", "S" * 65, 12])
def test_sku_or_none_answers_none_for_a_sku_that_breaks_the_bounds(raw: Any) -> None:
    assert inputs.sku_or_none(raw) is None


@pytest.mark.parametrize("raw", ["S", "SKU-1", "S" * 64])
def test_sku_or_none_returns_a_valid_sku_unchanged(raw: str) -> None:
    assert inputs.sku_or_none(raw) == raw


# adjustStock

ADJUST = {"itemId": "item-1", "delta": 5, "reason": "RECEIVED", "idempotencyKey": "key-1"}


def test_adjust_stock_parses_a_valid_input() -> None:
    command = inputs.adjust_stock(with_(ADJUST, reference="PO-7"))
    assert command.item_id == "item-1"
    assert command.delta == 5
    assert command.reason is MovementReason.RECEIVED
    assert command.reference == "PO-7"
    assert command.idempotency_key == "key-1"


@pytest.mark.parametrize(
    ("reason", "delta"),
    [
        ("RECEIVED", 1),
        ("RETURNED", 3),
        ("SOLD", -1),
        ("DAMAGED", -2),
        ("CORRECTION", 4),
        ("CORRECTION", -4),
        ("CORRECTION", 1_000_000_000),
        ("CORRECTION", -1_000_000_000),
    ],
)
def test_adjust_stock_accepts_the_delta_sign_each_reason_allows(reason: str, delta: int) -> None:
    command = inputs.adjust_stock(with_(ADJUST, reason=reason, delta=delta))
    assert (command.reason, command.delta) == (MovementReason(reason), delta)


@pytest.mark.parametrize(
    ("changes", "attribute", "expected"),
    [
        ({"reference": None}, "reference", None),
        ({"reference": ""}, "reference", ""),
        ({"reference": "R" * 200}, "reference", "R" * 200),
        ({"idempotencyKey": "k"}, "idempotency_key", "k"),
        ({"idempotencyKey": "k" * 128}, "idempotency_key", "k" * 128),
    ],
)
def test_adjust_stock_accepts_values_at_the_bounds(changes: dict[str, Any], attribute: str, expected: Any) -> None:
    assert getattr(inputs.adjust_stock(with_(ADJUST, **changes)), attribute) == expected


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (None, "input"),
        (with_(ADJUST, delta=0), "input.delta"),
        (without(ADJUST, "delta"), "input.delta"),
        (with_(ADJUST, delta=True), "input.delta"),
        (with_(ADJUST, delta=2.0), "input.delta"),
        (with_(ADJUST, reason="CORRECTION", delta=1_000_000_001), "input.delta"),
        (with_(ADJUST, reason="CORRECTION", delta=-1_000_000_001), "input.delta"),
        (with_(ADJUST, reason="RECEIVED", delta=-1), "input.delta"),
        (with_(ADJUST, reason="RETURNED", delta=-1), "input.delta"),
        (with_(ADJUST, reason="SOLD", delta=1), "input.delta"),
        (with_(ADJUST, reason="DAMAGED", delta=1), "input.delta"),
        (without(ADJUST, "reason"), "input.reason"),
        (with_(ADJUST, reason="STOLEN"), "input.reason"),
        (without(ADJUST, "itemId"), "input.itemId"),
        (with_(ADJUST, itemId=""), "input.itemId"),
        (with_(ADJUST, itemId="i" * 129), "input.itemId"),
        (with_(ADJUST, reference="R" * 201), "input.reference"),
        (with_(ADJUST, reference=3), "input.reference"),
        (without(ADJUST, "idempotencyKey"), "input.idempotencyKey"),
        (with_(ADJUST, idempotencyKey=""), "input.idempotencyKey"),
        (with_(ADJUST, idempotencyKey="k" * 129), "input.idempotencyKey"),
    ],
)
def test_adjust_stock_refuses_bad_input_naming_the_field(raw: Any, field: str) -> None:
    assert refused_field(inputs.adjust_stock, raw) == field


# fulfillOrder


def order(*lines: Any, order_id: Any = "order-1") -> dict[str, Any]:
    return {"orderId": order_id, "lines": list(lines)}


def line(item: Any, quantity: Any = 1) -> dict[str, Any]:
    return {"itemId": item, "quantity": quantity}


def test_fulfill_order_parses_lines_in_their_order() -> None:
    command = inputs.fulfill_order(order(line("b", 2), line("a", 1_000_000_000)))
    assert command.order_id == "order-1"
    assert command.lines == (OrderLine("b", 2), OrderLine("a", 1_000_000_000))


def test_fulfill_order_accepts_25_lines_and_a_128_character_order_id() -> None:
    command = inputs.fulfill_order(order(*(line(f"item-{n}") for n in range(25)), order_id="o" * 128))
    assert len(command.lines) == 25
    assert command.order_id == "o" * 128


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (None, "input"),
        ({"lines": [line("a")]}, "input.orderId"),
        (order(line("a"), order_id=""), "input.orderId"),
        (order(line("a"), order_id="o" * 129), "input.orderId"),
        ({"orderId": "order-1"}, "input.lines"),
        (order(), "input.lines"),
        (order(*(line(f"item-{n}") for n in range(26))), "input.lines"),
        ({"orderId": "order-1", "lines": line("a")}, "input.lines"),
        (order("a"), "input.lines[0]"),
        (order(line("a"), {"quantity": 1}), "input.lines[1].itemId"),
        (order(line("a"), line("")), "input.lines[1].itemId"),
        (order(line("a", 1), line("a", 2)), "input.lines[1].itemId"),
        (order(line("a"), line("b"), line("a")), "input.lines[2].itemId"),
        (order(line("a", 0)), "input.lines[0].quantity"),
        (order(line("a", -1)), "input.lines[0].quantity"),
        (order(line("a"), line("b", 1_000_000_001)), "input.lines[1].quantity"),
        (order(line("a", True)), "input.lines[0].quantity"),
        (order({"itemId": "a"}), "input.lines[0].quantity"),
    ],
)
def test_fulfill_order_refuses_bad_input_naming_the_field(raw: Any, field: str) -> None:
    assert refused_field(inputs.fulfill_order, raw) == field
