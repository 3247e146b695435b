"""The contention run's check: the item, its movements and its reservations as the API shows them after the run,
against what the clients were told. Pure functions over plain data, so that a test can hand them a broken history
and see each violation named."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from benchmarks.contention.clients import Held, Json, Ledger

INITIAL_REFERENCE = "initial stock"  # createItem's movement


@dataclass(frozen=True)
class Final:
    """What the API holds after the run: the item (getItem), every movement, and every reservation a client asked
    for (getReservation; None when absent)."""

    item: Json
    movements: Sequence[Json]
    reservations: Mapping[str, Json | None]


@dataclass(frozen=True)
class Totals:
    """Units sold by SOLD movements, and units taken by the requests that sell (committed reservations, orders)."""

    sold: int
    taken: int


def violations(final: Final, ledger: Ledger) -> list[str]:
    """Every broken invariant, one line each; empty when the data is exactly what the acknowledged requests made."""
    found = list(ledger.violations)
    movements = sorted(final.movements, key=lambda movement: int(movement["sequence"]))
    found += _ledger_arithmetic(final.item, movements)
    found += _holds(final, ledger)
    by_reference: defaultdict[str, list[Json]] = defaultdict(list)
    for movement in movements:
        by_reference[str(movement.get("reference"))].append(movement)
    found += _sales(final, ledger, by_reference)
    found += _receipts(ledger, by_reference)
    return found


def totals(final: Final, ledger: Ledger) -> Totals:
    sold = -sum(movement["delta"] for movement in final.movements if movement["reason"] == "SOLD")
    committed = sum(held.units for rid, held in _all_reservations(ledger).items() if _status(final, rid) == "COMMITTED")
    return Totals(sold, committed + sum(held.units for held, _ in ledger.orders.values()))


def _ledger_arithmetic(item: Json, movements: Sequence[Json]) -> list[str]:
    """Sequence 1, 2, 3... without gap or repeat; each quantityAfter (and locationQuantityAfter at its location) the
    running total, never negative; onHand (in total and per location) the sum of the deltas."""
    found = []
    sequences = [int(movement["sequence"]) for movement in movements]
    if sequences != list(range(1, len(sequences) + 1)):
        repeated = sorted(number for number, count in Counter(sequences).items() if count > 1)
        missing = sorted(set(range(1, max(sequences, default=0) + 1)) - set(sequences))
        found.append(f"sequence not gapless: repeated {repeated[:10]}, missing {missing[:10]}")
    total = 0
    at: Counter[str] = Counter()
    for movement in movements:
        total += movement["delta"]
        at[movement["locationId"]] += movement["delta"]
        if movement["quantityAfter"] != total or movement["locationQuantityAfter"] != at[movement["locationId"]]:
            found.append(
                f"movement {movement['sequence']}: quantityAfter {movement['quantityAfter']} and"
                f" locationQuantityAfter {movement['locationQuantityAfter']}, running totals {total} and"
                f" {at[movement['locationId']]}"
            )
        if total < 0 or at[movement["locationId"]] < 0:
            found.append(f"movement {movement['sequence']} took the stock below 0")
    if item["onHand"] != total or item["quantity"] != total:
        found.append(f"onHand {item['onHand']} (quantity {item['quantity']}) != sum of movement deltas {total}")
    levels = {level["locationId"]: level["onHand"] for level in item["levels"]}
    for location_id in sorted(levels.keys() | at.keys()):
        if levels.get(location_id, 0) != at[location_id]:
            found.append(f"onHand at {location_id} {levels.get(location_id, 0)} != sum of its deltas {at[location_id]}")
    return found


def _holds(final: Final, ledger: Ledger) -> list[str]:
    """The units held at each location are exactly the ACTIVE reservations', and never more than onHand."""
    found = []
    active: Counter[str] = Counter()
    for reservation_id, held in _all_reservations(ledger).items():
        if _status(final, reservation_id) == "ACTIVE":
            active[held.location_id] += held.units
    levels = {level["locationId"]: level for level in final.item["levels"]}
    for location_id in sorted(levels.keys() | active.keys()):
        level = levels.get(location_id, {"onHand": 0, "reserved": 0})
        if level["reserved"] != active[location_id]:
            found.append(f"reserved at {location_id} {level['reserved']} != ACTIVE reservations' {active[location_id]}")
        if level["reserved"] > level["onHand"]:
            found.append(f"reserved at {location_id} {level['reserved']} > onHand {level['onHand']}")
    if final.item["reserved"] != sum(active.values()):
        found.append(f"reserved {final.item['reserved']} != ACTIVE reservations' {sum(active.values())}")
    return found


def _sales(final: Final, ledger: Ledger, by_reference: Mapping[str, list[Json]]) -> list[str]:
    """No unit sold twice: a committed reservation and an acknowledged order made exactly one SOLD movement of their
    units at their location, a released or refused one none; no SOLD movement that no request explains."""
    found = []
    explained = set()
    for reservation_id, held in _all_reservations(ledger).items():
        explained.add(reservation_id)
        status, told = _status(final, reservation_id), ledger.told.get(reservation_id)
        sure = reservation_id not in ledger.unsure_reservations
        if sure and status != told:
            found.append(f"reservation {reservation_id}: told {told}, reads {status}")
        made = by_reference.get(reservation_id, [])
        if status == "COMMITTED":
            read = final.reservations[reservation_id] or {}
            found += _sold_once(f"reservation {reservation_id}", held, made, _ids(read.get("movements", [])))
            if reservation_id in ledger.commits and _ids(ledger.commits[reservation_id]) != _ids(made):
                found.append(f"reservation {reservation_id}: committed as {_ids(ledger.commits[reservation_id])}")
        elif made:
            found.append(f"reservation {reservation_id} ({status}) sold {_ids(made)}")
    for order_id, (held, answer) in ledger.orders.items():
        explained.add(order_id)
        found += _sold_once(f"order {order_id}", held, by_reference.get(order_id, []), _ids(answer))
    for order_id in ledger.refused_orders:
        explained.add(order_id)
        if by_reference.get(order_id):
            found.append(f"order {order_id}: refused, yet it sold {_ids(by_reference[order_id])}")
    for order_id, held in ledger.unsure_orders.items():
        explained.add(order_id)
        made = by_reference.get(order_id, [])
        if made:
            found += _sold_once(f"order {order_id} (no answer)", held, made, _ids(made))
    for reference, made in sorted(by_reference.items()):
        sold = [movement for movement in made if movement["reason"] == "SOLD"]
        if sold and reference not in explained:
            found.append(f"{len(sold)} SOLD movements with reference {reference!r}, which no request made")
    return found


def _sold_once(what: str, held: Held, made: Sequence[Json], answered: list[str]) -> list[str]:
    shape = [(movement["reason"], movement["locationId"], movement["delta"]) for movement in made]
    if shape != [("SOLD", held.location_id, -held.units)] or _ids(made) != answered:
        return [f"{what}: {held.units} units at {held.location_id} answered {answered}, made {shape} {_ids(made)}"]
    return []


def _receipts(ledger: Ledger, by_reference: Mapping[str, list[Json]]) -> list[str]:
    """Each acknowledged receipt made its movement once; stock arrived no other way."""
    found = []
    for key, (held, answer) in ledger.receipts.items():
        made = by_reference.get(key, [])
        shape = [(movement["reason"], movement["locationId"], movement["delta"]) for movement in made]
        if shape != [("RECEIVED", held.location_id, held.units)] or _ids(made) != [answer["id"]]:
            found.append(f"receipt {key}: answered {answer['id']}, made {shape} {_ids(made)}")
    known = {*ledger.receipts, *ledger.unsure_receipts, INITIAL_REFERENCE}
    for reference, made in sorted(by_reference.items()):
        received = [movement for movement in made if movement["reason"] != "SOLD"]
        if received and reference not in known:
            found.append(f"{len(received)} movements with reference {reference!r}, which no receipt made")
    return found


def _all_reservations(ledger: Ledger) -> dict[str, Held]:
    return {**ledger.unsure_reservations, **ledger.reservations}


def _status(final: Final, reservation_id: str) -> str | None:
    read = final.reservations.get(reservation_id)
    return None if read is None else str(read["status"])


def _ids(movements: Iterable[Json]) -> list[str]:
    return sorted(str(movement["id"]) for movement in movements)
