"""Contract v2 answers alike on both transports: locations, per-location levels, reservations, transfers and counts,
run as one scenario through the AppSync model and the local server's schema (each on a fresh DynamoDB Local table)
and compared by shape, as in test_behaviour_parity.py.

Every refusal is checked on each transport for its errorType and errorInfo, and for what it leaves: the stock of
every item (figures, levels, movements), the reservations and the locations read right before and right after it
must be equal. Replays must answer what the request they repeat answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from inventory.model import MAX_LOCATIONS
from tests.contract.appsync_model import AppSyncModel
from tests.contract.examples import document
from tests.contract.mirror import Mirror
from tests.contract.scenario import Answers, Json, Step, Wait, data, run
from tests.contract.transcript import by_shape

ABSENT = "no-such-id"

CREATE_ITEM, GET_ITEM, DELETE_ITEM = document("create-item"), document("get-item"), document("delete-item")
ADJUST, ORDER = document("adjust-stock"), document("fulfill-order")
CREATE_LOCATION, UPDATE_LOCATION = document("create-location"), document("update-location")
GET_LOCATION, LIST_LOCATIONS = document("get-location"), document("list-locations")
RESERVE, GET_RESERVATION = document("reserve-stock"), document("get-reservation")
COMMIT, RELEASE = document("commit-reservation"), document("release-reservation")
TRANSFER, SET_STOCK = document("transfer-stock"), document("set-stock")

ITEMS = ("drill", "saw", "gloves")
RESERVATIONS = ("r-1", "r-2", "r-3")
# What a refusal must leave as it was: every item's stock and ledger, every reservation, every location.
STATE = (
    "query State("
    + ", ".join(f"${item}: ID!" for item in ITEMS)
    + ") {\n"
    + "".join(f"  {item}: getItem(id: ${item}) {{ ...Stock }}\n" for item in ITEMS)
    + "".join(
        f'  {r.replace("-", "")}: getReservation(id: "{r}") {{ id status lines {{ itemId quantity }} }}\n'
        for r in RESERVATIONS
    )
    + """  listLocations { id code name isDefault createdAt }
}
fragment Stock on Item {
  id quantity onHand reserved available status version updatedAt
  levels { locationId locationCode onHand reserved available }
  movements(limit: 100) {
    items { id locationId delta quantityAfter locationQuantityAfter sequence reason reference }
    nextToken
  }
}"""
)


def _item(label: str) -> Callable[[Answers], str]:
    """The id of the item that step ``label`` created (an absent id before that step has run)."""
    return lambda a: str(data(a, label, "createItem", "id")) if label in a else ABSENT


def _location(label: str) -> Callable[[Answers], str]:
    return lambda a: str(data(a, label, "createLocation", "id"))


def _state_step(label: str) -> Step:
    return Step(label, STATE, lambda a: {item: _item(item)(a) for item in ITEMS})


Variables = Callable[[Answers], Json]
Info = Callable[[Answers], Json]


@dataclass(frozen=True)
class Refusal:
    """A request that must be refused with ``error_type`` and ``info`` (for a ValidationError: its field only, the
    reason is wording) and change nothing."""

    label: str
    document: str
    variables: Variables
    error_type: str
    info: Info

    def steps(self) -> list[Step]:
        return [
            _state_step(f"{self.label} | before"),
            Step(self.label, self.document, self.variables),
            _state_step(f"{self.label} | after"),
        ]


def _resolved(fields: Mapping[str, Any], answers: Answers) -> Json:
    """Values given as they are, or as callables that take them from earlier answers (an id the run made)."""
    return {key: value(answers) if callable(value) else value for key, value in fields.items()}


def _info(**fields: Any) -> Info:
    return lambda a: _resolved(fields, a)


def _field(path: str) -> Info:
    return _info(field=path)


def _lines(*lines: tuple[str, int]) -> Callable[[Answers], list[Json]]:
    return lambda a: [{"itemId": _item(item)(a), "quantity": quantity} for item, quantity in lines]


def _reserve(reservation_id: str, *lines: tuple[str, int], **fields: Any) -> Variables:
    return lambda a: {"input": {"reservationId": reservation_id, "lines": _lines(*lines)(a)} | _resolved(fields, a)}


def _transfer(
    key: str,
    source: Callable[[Answers], str] | str,
    target: Callable[[Answers], str] | str,
    *lines: tuple[str, int],
    **fields: Any,
) -> Variables:
    moved = {"fromLocationId": source, "toLocationId": target} | fields
    return lambda a: {"input": {"idempotencyKey": key, "lines": _lines(*lines)(a)} | _resolved(moved, a)}


def _count(key: str, *lines: tuple[str, int, int | None], **fields: Any) -> Variables:
    """setStock: lines of (item, onHand, compareOnHand or None)."""

    def variables(a: Answers) -> Json:
        counted = [
            {"itemId": _item(item)(a), "onHand": on_hand} | ({} if compare is None else {"compareOnHand": compare})
            for item, on_hand, compare in lines
        ]
        return {"input": {"idempotencyKey": key, "lines": counted} | _resolved(fields, a)}

    return variables


def _adjust(item: str, delta: int, reason: str, key: str, **fields: Any) -> Variables:
    return lambda a: {
        "input": {"itemId": _item(item)(a), "delta": delta, "reason": reason, "idempotencyKey": key}
        | _resolved(fields, a)
    }


def _order(order_id: str, *lines: tuple[str, int], **fields: Any) -> Variables:
    return lambda a: {"input": {"orderId": order_id, "lines": _lines(*lines)(a)} | _resolved(fields, a)}


def _new_item(sku: str, **fields: Any) -> Variables:
    return lambda a: {
        "input": {"sku": sku, "name": f"Item {sku}", "category": "tools", "price": 9.99} | _resolved(fields, a)
    }


def _constant(variables: Json) -> Variables:
    return lambda _: variables


def _shortfall(item: str, available: int, requested: int) -> Info:
    return lambda a: {"lines": [{"itemId": _item(item)(a), "available": available, "requested": requested}]}


EAST, STORE = _location("east"), _location("store")
DRILL = _item("drill")
TWENTY_SIX = [(f"i-{n}", 1) for n in range(26)]


def _id(value: str) -> Variables:
    return _constant({"id": value})


def _get(item: str, limit: int = 20) -> Variables:
    return lambda a: {"id": _item(item)(a), "movementsLimit": limit}


# Stock through the scenario (MAIN / east / store), which the expected errorInfo below follows:
#   drill: 10/0/0 created; +5 east; transfer 3 -> 7/8/0; r-1 holds 2 at MAIN, r-2 3 at east; r-1 sold -> 5/8/0;
#          r-2 released; counted 4 at MAIN; order 2 at east -> 4/6/0
#   saw:   6/0/0 created; transfer 2 -> 4/2/0; r-1 holds 1, r-3 holds 1 at MAIN; r-1 sold -> 3/2/0
#   gloves: 0/4/0 created at east; counted 6 at east
SCENARIO: list[Step | Refusal] = [
    # items where v1 put them (MAIN), or where locationId says
    Step("drill", CREATE_ITEM, _new_item("PWR-DRILL", quantity=10)),
    Step("saw", CREATE_ITEM, _new_item("HND-SAW", quantity=6, locationId="MAIN")),
    # locations
    Step("main", GET_LOCATION, _id("MAIN")),
    Step("east", CREATE_LOCATION, _constant({"input": {"code": "WH-EAST", "name": "East warehouse"}})),
    Step("store", CREATE_LOCATION, _constant({"input": {"code": "STORE-1", "name": "Store " + "n" * 194}})),
    Step("rename main", UPDATE_LOCATION, _constant({"input": {"id": "MAIN", "name": "Head office stockroom"}})),
    Step("rename east", UPDATE_LOCATION, lambda a: {"input": {"id": EAST(a), "name": "East warehouse, dock 2"}}),
    Step("get main", GET_LOCATION, _id("MAIN")),
    Step("get east", GET_LOCATION, lambda a: {"id": EAST(a)}),
    Step("get absent location", GET_LOCATION, _id(ABSENT)),
    Step("list locations", LIST_LOCATIONS, _constant({})),
    Refusal(
        "duplicate code",
        CREATE_LOCATION,
        _constant({"input": {"code": "WH-EAST", "name": "Another"}}),
        "DuplicateLocationCode",
        _info(code="WH-EAST"),
    ),
    Refusal(
        "code MAIN",
        CREATE_LOCATION,
        _constant({"input": {"code": "MAIN", "name": "Main again"}}),
        "DuplicateLocationCode",
        _info(code="MAIN"),
    ),
    Refusal(
        "lower-case code",
        CREATE_LOCATION,
        _constant({"input": {"code": "wh-west", "name": "West"}}),
        "ValidationError",
        _field("input.code"),
    ),
    Refusal(
        "code with a space",
        CREATE_LOCATION,
        _constant({"input": {"code": "WH WEST", "name": "West"}}),
        "ValidationError",
        _field("input.code"),
    ),
    Refusal(
        "code of 33",
        CREATE_LOCATION,
        _constant({"input": {"code": "W" * 33, "name": "West"}}),
        "ValidationError",
        _field("input.code"),
    ),
    Refusal(
        "empty code",
        CREATE_LOCATION,
        _constant({"input": {"code": "", "name": "West"}}),
        "ValidationError",
        _field("input.code"),
    ),
    Refusal(
        "empty location name",
        CREATE_LOCATION,
        _constant({"input": {"code": "WH-WEST", "name": ""}}),
        "ValidationError",
        _field("input.name"),
    ),
    Refusal(
        "location name of 201",
        CREATE_LOCATION,
        _constant({"input": {"code": "WH-WEST", "name": "n" * 201}}),
        "ValidationError",
        _field("input.name"),
    ),
    Refusal(
        "rename absent location",
        UPDATE_LOCATION,
        _constant({"input": {"id": ABSENT, "name": "Nowhere"}}),
        "LocationNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "rename to 201",
        UPDATE_LOCATION,
        _constant({"input": {"id": "MAIN", "name": "n" * 201}}),
        "ValidationError",
        _field("input.name"),
    ),
    # createItem at a location
    Step("gloves", CREATE_ITEM, _new_item("GRD-GLOVES", quantity=4, locationId=EAST)),
    Refusal(
        "item at an absent location",
        CREATE_ITEM,
        _new_item("GRD-RAKE", quantity=1, locationId=ABSENT),
        "LocationNotFound",
        _info(id=ABSENT),
    ),
    # adjustStock at a location
    Step("receive at east", ADJUST, _adjust("drill", 5, "RECEIVED", "a-1", locationId=EAST, reference="DN-9")),
    Step("receive at east replayed", ADJUST, _adjust("drill", 5, "RECEIVED", "a-1", locationId=EAST, reference="DN-9")),
    Refusal(
        "adjust key reused at MAIN",
        ADJUST,
        _adjust("drill", 5, "RECEIVED", "a-1", reference="DN-9"),
        "IdempotencyConflict",
        _info(key="a-1"),
    ),
    Refusal(
        "adjust at an absent location",
        ADJUST,
        _adjust("drill", 1, "RECEIVED", "a-2", locationId=ABSENT),
        "LocationNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "adjust TRANSFER_OUT",
        ADJUST,
        _adjust("drill", -1, "TRANSFER_OUT", "a-3"),
        "ValidationError",
        _field("input.reason"),
    ),
    Refusal(
        "adjust TRANSFER_IN",
        ADJUST,
        _adjust("drill", 1, "TRANSFER_IN", "a-4"),
        "ValidationError",
        _field("input.reason"),
    ),
    Refusal(
        "sell more than east has",
        ADJUST,
        _adjust("drill", -6, "SOLD", "a-5", locationId=EAST),
        "InsufficientStock",
        _shortfall("drill", 5, 6),
    ),
    # transferStock
    Step("transfer", TRANSFER, _transfer("t-1", "MAIN", EAST, ("drill", 3), ("saw", 2), reference="restock east")),
    Step(
        "transfer replayed",
        TRANSFER,
        _transfer("t-1", "MAIN", EAST, ("drill", 3), ("saw", 2), reference="restock east"),
    ),
    Refusal(
        "transfer key reused",
        TRANSFER,
        _transfer("t-1", "MAIN", EAST, ("drill", 4), ("saw", 2), reference="restock east"),
        "IdempotencyConflict",
        _info(key="t-1"),
    ),
    Refusal(
        "transfer with an adjustStock key",
        TRANSFER,
        _transfer("a-1", "MAIN", EAST, ("drill", 1)),
        "IdempotencyConflict",
        _info(key="a-1"),
    ),
    Refusal(
        "transfer to where it is",
        TRANSFER,
        _transfer("t-2", EAST, EAST, ("drill", 1)),
        "ValidationError",
        _field("input.toLocationId"),
    ),
    Refusal(
        "transfer from an absent location",
        TRANSFER,
        _transfer("t-3", ABSENT, EAST, ("drill", 1)),
        "LocationNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "transfer to an absent location",
        TRANSFER,
        _transfer("t-4", "MAIN", ABSENT, ("drill", 1)),
        "LocationNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "transfer of an absent item",
        TRANSFER,
        lambda a: {
            "input": {
                "idempotencyKey": "t-5",
                "fromLocationId": "MAIN",
                "toLocationId": EAST(a),
                "lines": [{"itemId": ABSENT, "quantity": 1}],
            }
        },
        "ItemNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "transfer short",
        TRANSFER,
        _transfer("t-6", EAST, STORE, ("drill", 8), ("gloves", 5)),
        "InsufficientStock",
        _shortfall("gloves", 4, 5),
    ),
    Refusal(
        "transfer 26 lines",
        TRANSFER,
        lambda a: {
            "input": {
                "idempotencyKey": "t-7",
                "fromLocationId": "MAIN",
                "toLocationId": EAST(a),
                "lines": [{"itemId": i, "quantity": q} for i, q in TWENTY_SIX],
            }
        },
        "ValidationError",
        _field("input.lines"),
    ),
    Refusal("transfer no lines", TRANSFER, _transfer("t-7", "MAIN", EAST), "ValidationError", _field("input.lines")),
    Refusal(
        "transfer an item twice",
        TRANSFER,
        _transfer("t-8", "MAIN", EAST, ("drill", 1), ("drill", 1)),
        "ValidationError",
        _field("input.lines[1].itemId"),
    ),
    # reserveStock
    Step("reserve", RESERVE, _reserve("r-1", ("drill", 2), ("saw", 1), reference="cart 1")),
    Step(
        "reserve replayed: lines reordered, defaults given",
        RESERVE,
        _reserve("r-1", ("saw", 1), ("drill", 2), reference="cart 1", locationId="MAIN", expiresInSeconds=900),
    ),
    Refusal(
        "reserve id reused for more",
        RESERVE,
        _reserve("r-1", ("drill", 3), ("saw", 1), reference="cart 1"),
        "IdempotencyConflict",
        _info(key="r-1"),
    ),
    Refusal(
        "reserve id reused at another location",
        RESERVE,
        _reserve("r-1", ("drill", 2), ("saw", 1), reference="cart 1", locationId=EAST),
        "IdempotencyConflict",
        _info(key="r-1"),
    ),
    Refusal(
        "reserve id reused for longer",
        RESERVE,
        _reserve("r-1", ("drill", 2), ("saw", 1), reference="cart 1", expiresInSeconds=901),
        "IdempotencyConflict",
        _info(key="r-1"),
    ),
    Refusal(
        "reserve id reused at an absent location",
        RESERVE,
        _reserve("r-1", ("drill", 2), ("saw", 1), reference="cart 1", locationId=ABSENT),
        "IdempotencyConflict",
        _info(key="r-1"),
    ),
    Step("reserve at east", RESERVE, _reserve("r-2", ("drill", 3), locationId=EAST, expiresInSeconds=600)),
    Refusal(
        "reserve more than is available",
        RESERVE,
        _reserve("r-3", ("drill", 6)),
        "InsufficientStock",
        _shortfall("drill", 5, 6),
    ),
    Step("reserve with the refused id", RESERVE, _reserve("r-3", ("saw", 1), expiresInSeconds=86_400)),
    Refusal(
        "reserve at an absent location",
        RESERVE,
        _reserve("r-4", ("drill", 1), locationId=ABSENT),
        "LocationNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "reserve an absent item",
        RESERVE,
        _constant({"input": {"reservationId": "r-4", "lines": [{"itemId": ABSENT, "quantity": 1}]}}),
        "ItemNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "reserve for 0 seconds",
        RESERVE,
        _reserve("r-4", ("drill", 1), expiresInSeconds=0),
        "ValidationError",
        _field("input.expiresInSeconds"),
    ),
    Refusal(
        "reserve for 86401 seconds",
        RESERVE,
        _reserve("r-4", ("drill", 1), expiresInSeconds=86_401),
        "ValidationError",
        _field("input.expiresInSeconds"),
    ),
    Refusal(
        "reserve 26 lines",
        RESERVE,
        _constant({"input": {"reservationId": "r-4", "lines": [{"itemId": i, "quantity": q} for i, q in TWENTY_SIX]}}),
        "ValidationError",
        _field("input.lines"),
    ),
    Refusal(
        "reserve an item twice",
        RESERVE,
        _reserve("r-4", ("saw", 1), ("drill", 1), ("saw", 1)),
        "ValidationError",
        _field("input.lines[2].itemId"),
    ),
    Refusal(
        "reserve with an id of 129",
        RESERVE,
        _reserve("r" * 129, ("drill", 1)),
        "ValidationError",
        _field("input.reservationId"),
    ),
    Step("get r-1", GET_RESERVATION, _id("r-1")),
    Step("get absent reservation", GET_RESERVATION, _id(ABSENT)),
    Step("drill held", GET_ITEM, _get("drill")),
    Refusal(
        "delete reserved drill",
        DELETE_ITEM,
        lambda a: {"id": DRILL(a)},
        "ItemReserved",
        _info(id=DRILL, reserved=5),
    ),
    Refusal(
        "sell units held at MAIN",
        ADJUST,
        _adjust("drill", -6, "SOLD", "a-6"),
        "InsufficientStock",
        _shortfall("drill", 5, 6),
    ),
    Refusal(
        "order units held at MAIN", ORDER, _order("o-1", ("drill", 6)), "InsufficientStock", _shortfall("drill", 5, 6)
    ),
    # commitReservation, releaseReservation
    Step("commit r-1", COMMIT, _id("r-1")),
    Step("commit r-1 again", COMMIT, _id("r-1")),
    Step("get r-1 committed", GET_RESERVATION, _id("r-1")),
    Refusal("release committed r-1", RELEASE, _id("r-1"), "ReservationNotActive", _info(id="r-1", status="COMMITTED")),
    Step("release r-2", RELEASE, _id("r-2")),
    Step("release r-2 again", RELEASE, _id("r-2")),
    Refusal("commit released r-2", COMMIT, _id("r-2"), "ReservationNotActive", _info(id="r-2", status="RELEASED")),
    Refusal("commit absent", COMMIT, _id(ABSENT), "ReservationNotFound", _info(id=ABSENT)),
    Refusal("release absent", RELEASE, _id(ABSENT), "ReservationNotFound", _info(id=ABSENT)),
    # setStock
    Step("count", SET_STOCK, _count("c-1", ("drill", 4, 5), ("saw", 3, 3), reference="aisle 4")),
    Step("count replayed", SET_STOCK, _count("c-1", ("drill", 4, 5), ("saw", 3, 3), reference="aisle 4")),
    Refusal("count key reused", SET_STOCK, _count("c-1", ("drill", 3, None)), "IdempotencyConflict", _info(key="c-1")),
    Refusal(
        "count with a transfer key",
        SET_STOCK,
        _count("t-1", ("drill", 4, None)),
        "IdempotencyConflict",
        _info(key="t-1"),
    ),
    Refusal(
        "count against stale figures",
        SET_STOCK,
        _count("c-2", ("drill", 1, 9), ("saw", 3, 3), ("gloves", 1, 2)),
        "QuantityConflict",
        lambda a: {
            "lines": [
                {"itemId": _item("drill")(a), "expected": 9, "actual": 4},
                {"itemId": _item("gloves")(a), "expected": 2, "actual": 0},
            ]
        },
    ),
    Refusal(
        "count below what is reserved",
        SET_STOCK,
        _count("c-3", ("drill", 4, None), ("saw", 0, None)),
        "ValidationError",
        _field("input.lines[1].onHand"),
    ),
    Refusal(
        "count below reserved against a stale figure",
        SET_STOCK,
        _count("c-4", ("saw", 0, 2)),
        "QuantityConflict",
        lambda a: {"lines": [{"itemId": _item("saw")(a), "expected": 2, "actual": 3}]},
    ),
    Refusal(
        "count at an absent location",
        SET_STOCK,
        _count("c-5", ("drill", 4, None), locationId=ABSENT),
        "LocationNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "count a negative onHand",
        SET_STOCK,
        _count("c-6", ("drill", -1, None)),
        "ValidationError",
        _field("input.lines[0].onHand"),
    ),
    Refusal(
        "count a negative compareOnHand",
        SET_STOCK,
        _count("c-6", ("drill", 4, -1)),
        "ValidationError",
        _field("input.lines[0].compareOnHand"),
    ),
    Refusal(
        "count 26 lines",
        SET_STOCK,
        _constant(
            {"input": {"idempotencyKey": "c-6", "lines": [{"itemId": f"i-{n}", "onHand": 1} for n in range(26)]}}
        ),
        "ValidationError",
        _field("input.lines"),
    ),
    Refusal(
        "count an item twice",
        SET_STOCK,
        _count("c-6", ("drill", 4, None), ("drill", 5, None)),
        "ValidationError",
        _field("input.lines[1].itemId"),
    ),
    Step("count at east", SET_STOCK, _count("c-7", ("gloves", 6, 4), locationId=EAST)),
    # fulfillOrder at a location
    Step("order at east", ORDER, _order("o-1", ("drill", 2), locationId=EAST)),
    Step("order at east replayed", ORDER, _order("o-1", ("drill", 2), locationId=EAST)),
    Refusal("order replayed from MAIN", ORDER, _order("o-1", ("drill", 2)), "IdempotencyConflict", _info(key="o-1")),
    Refusal(
        "order at an absent location",
        ORDER,
        _order("o-2", ("drill", 1), locationId=ABSENT),
        "LocationNotFound",
        _info(id=ABSENT),
    ),
    Refusal(
        "order more than east has",
        ORDER,
        _order("o-3", ("gloves", 7), locationId=EAST),
        "InsufficientStock",
        _shortfall("gloves", 6, 7),
    ),
    # what all of it left
    Step("drill at the end", GET_ITEM, _get("drill")),
    Step("saw at the end", GET_ITEM, _get("saw")),
    Step("gloves at the end", GET_ITEM, _get("gloves")),
    Step("locations at the end", LIST_LOCATIONS, _constant({})),
    Step("release r-3", RELEASE, _id("r-3")),
    Step("delete saw once nothing holds it", DELETE_ITEM, lambda a: {"id": _item("saw")(a)}),
]

# Answers that must equal an earlier answer exactly: a replay answers what the request it repeats answered, a read
# what the last write answered.
SAME_AS = {
    "receive at east replayed": "receive at east",
    "transfer replayed": "transfer",
    "reserve replayed: lines reordered, defaults given": "reserve",
    "commit r-1 again": "commit r-1",
    "get r-1 committed": "commit r-1",
    "release r-2 again": "release r-2",
    "count replayed": "count",
    "order at east replayed": "order at east",
}
NEW_ERROR_TYPES = {
    "LocationNotFound",
    "DuplicateLocationCode",
    "ReservationNotFound",
    "ReservationNotActive",
    "ItemReserved",
    "QuantityConflict",
}


def _steps(scenario: Sequence[Step | Refusal | Wait]) -> list[Step | Wait]:
    return [step for entry in scenario for step in (entry.steps() if isinstance(entry, Refusal) else [entry])]


def _refusals(scenario: Sequence[Step | Refusal | Wait]) -> Iterator[Refusal]:
    return (entry for entry in scenario if isinstance(entry, Refusal))


def _check_refusals(scenario: Sequence[Step | Refusal | Wait], answers: Answers) -> None:
    for refusal in _refusals(scenario):
        answer = answers[refusal.label]
        assert len(answer.get("errors", ())) == 1, (refusal.label, answer)
        (error,) = answer["errors"]
        assert error["errorType"] == refusal.error_type, (refusal.label, error)
        expected = refusal.info(answers)
        if refusal.error_type == "ValidationError":
            assert set(error["errorInfo"]) == {"field", "reason"}, (refusal.label, error)
            assert error["errorInfo"]["field"] == expected["field"], (refusal.label, error)
        else:
            assert error["errorInfo"] == expected, (refusal.label, error)
        assert answers[f"{refusal.label} | after"] == answers[f"{refusal.label} | before"], refusal.label


def _check_ledger(item: Json) -> None:
    """Movements numbered 1, 2, 3... without a gap; each quantityAfter, and each locationQuantityAfter per location,
    is the one before plus the delta; the levels are what the ledger leaves, and sum to the item's figures."""
    movements = list(reversed(item["movements"]["items"]))
    assert [m["sequence"] for m in movements] == list(range(1, len(movements) + 1))
    total, at = 0, dict[str, int]()
    for movement in movements:
        total += movement["delta"]
        at[movement["locationId"]] = at.get(movement["locationId"], 0) + movement["delta"]
        assert (movement["quantityAfter"], movement["locationQuantityAfter"]) == (total, at[movement["locationId"]])
    assert item["onHand"] == item["quantity"] == total
    assert {level["locationId"]: level["onHand"] for level in item["levels"]} == {k: v for k, v in at.items() if v}
    for figure in ("onHand", "reserved", "available"):
        assert sum(level[figure] for level in item["levels"]) == item[figure]
    codes = [level["locationCode"] for level in item["levels"]]
    assert codes == sorted(codes)


def _answered(answers: Answers, label: str) -> Json:
    """What the one root field of a step answered, without an error."""
    assert "errors" not in answers[label], (label, answers[label])
    (value,) = answers[label]["data"].values()
    assert isinstance(value, dict), (label, value)
    return value


def test_contract_v2_answers_alike_on_both_transports(appsync: AppSyncModel, mirror: Mirror) -> None:
    steps = _steps(SCENARIO)
    expected, actual = asyncio.run(run(appsync, steps)), asyncio.run(run(mirror, steps))
    for (label, want), (_, got) in zip(by_shape(expected), by_shape(actual), strict=True):
        assert got == want, f"step {label!r}"
    for transcript in (expected, actual):
        answers = dict(transcript)
        _check_refusals(SCENARIO, answers)
        for label, original in SAME_AS.items():
            assert _answered(answers, label) == _answered(answers, original), label
        for label in ("drill at the end", "saw at the end", "gloves at the end"):
            _check_ledger(data(answers, label, "getItem"))


def test_the_scenario_refuses_with_every_new_error_type() -> None:
    assert {refusal.error_type for refusal in _refusals(SCENARIO)} >= NEW_ERROR_TYPES


# Exact expiry: a 2-second hold, read before its expiresAt (with a margin on a loaded machine) and just after,
# with nothing else running in between.

EXPIRY_SCENARIO: list[Step | Wait] = [
    Step("item", CREATE_ITEM, _new_item("EXP-1", quantity=5)),
    Step(
        "reserve",
        RESERVE,
        lambda a: {"input": {"reservationId": "r-exp", "lines": _lines(("item", 5))(a), "expiresInSeconds": 2}},
    ),
    Step("held", GET_ITEM, _get("item")),
    Step("order while held", ORDER, _order("o-held", ("item", 1))),
    Step("reservation while held", GET_RESERVATION, _id("r-exp")),
    Wait(
        "past expiresAt",
        lambda a: _instant(data(a, "reserve", "reserveStock", "expiresAt")) + timedelta(milliseconds=50),
    ),
    Step("expired item", GET_ITEM, _get("item")),
    Step("expired reservation", GET_RESERVATION, _id("r-exp")),
    Step("commit expired", COMMIT, _id("r-exp")),
    Step("release expired", RELEASE, _id("r-exp")),
    Step(
        "reserve replayed after expiry",
        RESERVE,
        lambda a: {"input": {"reservationId": "r-exp", "lines": _lines(("item", 5))(a), "expiresInSeconds": 2}},
    ),
    Step("item after the refusal", GET_ITEM, _get("item")),
    Step("order the units", ORDER, _order("o-1", ("item", 5))),
    Step("sold out", GET_ITEM, _get("item")),
]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _check_expiry(answers: Answers) -> None:
    item_id = data(answers, "item", "createItem", "id")
    held, expired = data(answers, "held", "getItem"), data(answers, "expired item", "getItem")
    assert (held["onHand"], held["reserved"], held["available"]) == (5, 5, 0)
    assert held["levels"] == [
        {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 5, "reserved": 5, "available": 0}
    ]
    (refused,) = answers["order while held"]["errors"]
    assert (refused["errorType"], refused["errorInfo"]) == (
        "InsufficientStock",
        {"lines": [{"itemId": item_id, "available": 0, "requested": 1}]},
    )
    assert data(answers, "reservation while held", "getReservation", "status") == "ACTIVE"
    # From expiresAt on the units are available and the reservation EXPIRED, though nothing has written since.
    assert (expired["onHand"], expired["reserved"], expired["available"]) == (5, 0, 5)
    assert expired["levels"] == [
        {"locationId": "MAIN", "locationCode": "MAIN", "onHand": 5, "reserved": 0, "available": 5}
    ]
    assert {key: expired[key] for key in ("version", "movements")} == {
        key: held[key] for key in ("version", "movements")
    }
    reservation = _answered(answers, "expired reservation")
    assert expired["updatedAt"] == reservation["expiresAt"] > held["updatedAt"]  # dated when the figures changed
    assert reservation == _answered(answers, "reserve") | {"status": "EXPIRED"}
    (refused,) = answers["commit expired"]["errors"]
    assert (refused["errorType"], refused["errorInfo"]) == (
        "ReservationNotActive",
        {"id": "r-exp", "status": "EXPIRED"},
    )
    assert _answered(answers, "release expired") == reservation
    assert _answered(answers, "reserve replayed after expiry") == reservation
    assert data(answers, "item after the refusal", "getItem") == expired
    (sold,) = data(answers, "order the units", "fulfillOrder", "movements")
    assert (sold["delta"], sold["quantityAfter"], sold["locationQuantityAfter"]) == (-5, 0, 0)
    sold_out = data(answers, "sold out", "getItem")
    assert (sold_out["onHand"], sold_out["reserved"], sold_out["available"], sold_out["levels"]) == (0, 0, 0, [])


def test_a_reservation_expires_at_its_expires_at_on_both_transports(appsync: AppSyncModel, mirror: Mirror) -> None:
    expected, actual = asyncio.run(run(appsync, EXPIRY_SCENARIO)), asyncio.run(run(mirror, EXPIRY_SCENARIO))
    for (label, want), (_, got) in zip(by_shape(expected), by_shape(actual), strict=True):
        assert got == want, f"step {label!r}"
    for transcript in (expected, actual):
        _check_expiry(dict(transcript))


# The cap on locations is the domain's, whatever the transport: proven once, on the local server's schema.


def test_the_101st_location_is_refused_and_a_taken_code_is_still_a_duplicate(mirror: Mirror) -> None:
    async def scenario() -> Answers:
        created = [
            await mirror.execute(CREATE_LOCATION, {"input": {"code": f"LOC-{n:02}", "name": f"Location {n}"}})
            for n in range(1, MAX_LOCATIONS)
        ]
        assert all("errors" not in answer for answer in created)
        answers: Answers = {"full": await mirror.execute(LIST_LOCATIONS)}
        answers["101st"] = await mirror.execute(CREATE_LOCATION, {"input": {"code": "LOC-X", "name": "One too many"}})
        answers["taken code at the cap"] = await mirror.execute(
            CREATE_LOCATION, {"input": {"code": "LOC-07", "name": "Again"}}
        )
        answers["MAIN at the cap"] = await mirror.execute(CREATE_LOCATION, {"input": {"code": "MAIN", "name": "Again"}})
        answers["after"] = await mirror.execute(LIST_LOCATIONS)
        return answers

    answers = asyncio.run(scenario())
    listed = data(answers, "full", "listLocations")
    assert len(listed) == MAX_LOCATIONS
    assert [location["code"] for location in listed] == [
        "LOC-01",
        *[f"LOC-{n:02}" for n in range(2, MAX_LOCATIONS)],
        "MAIN",
    ]
    (too_many,) = answers["101st"]["errors"]
    assert too_many["errorType"] == "ValidationError"
    assert too_many["errorInfo"]["field"] == "input.code"
    for label, code in (("taken code at the cap", "LOC-07"), ("MAIN at the cap", "MAIN")):
        (duplicate,) = answers[label]["errors"]
        assert (duplicate["errorType"], duplicate["errorInfo"]) == ("DuplicateLocationCode", {"code": code})
    assert answers["after"] == answers["full"]
