"""What DynamoDB says an operation cost: a botocore event handler adds ReturnConsumedCapacity=TOTAL to every request
that accepts it and another reads ConsumedCapacity from every response, so the figures are what DynamoDB says the
code does, not what the code says it does."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


def units(value: float) -> str:
    return f"{value:g}"


READ_APIS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ExecuteStatement"})
SINGLE_WRITE_APIS = frozenset({"PutItem", "DeleteItem", "UpdateItem"})


@dataclass
class Tally:
    """What one operation cost: DynamoDB calls by API name, the items they write, and the capacity units reported."""

    calls: Counter[str] = field(default_factory=Counter)
    items_written: int = 0
    read_units: float = 0.0
    write_units: float = 0.0

    def add_request(self, api: str, params: Mapping[str, Any]) -> None:
        self.items_written += _items_written(api, params)

    def add_response(self, api: str, consumed: Any) -> None:
        self.calls[api] += 1
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            read, write = _read_write_units(api, entry)
            self.read_units += read
            self.write_units += write

    def row(self) -> list[str]:
        calls = ", ".join(f"{api} x{count}" for api, count in sorted(self.calls.items()))
        counts = [str(sum(self.calls.values())), str(self.items_written)]
        return [calls, *counts, *map(units, (self.read_units, self.write_units, self.read_units + self.write_units))]


def _items_written(api: str, params: Mapping[str, Any]) -> int:
    if api in SINGLE_WRITE_APIS:
        return 1
    if api == "TransactWriteItems":
        return sum("ConditionCheck" not in action for action in params["TransactItems"])
    if api == "BatchWriteItem":
        return sum(len(requests) for requests in params["RequestItems"].values())
    return 0


def _read_write_units(api: str, entry: Mapping[str, Any]) -> tuple[float, float]:
    """DynamoDB may split the units into read and write; DynamoDB Local reports only CapacityUnits, whose kind
    follows from the API."""
    if "ReadCapacityUnits" in entry or "WriteCapacityUnits" in entry:
        return float(entry.get("ReadCapacityUnits", 0)), float(entry.get("WriteCapacityUnits", 0))
    total = float(entry.get("CapacityUnits", 0))
    return (total, 0.0) if api in READ_APIS else (0.0, total)


class CapacityMeter:
    """Hooks into one boto3 client's event system; counts what happens inside :meth:`measure`."""

    def __init__(self, client: Any) -> None:
        self._tally: Tally | None = None
        client.meta.events.register("provide-client-params.dynamodb.*", self._on_request)
        client.meta.events.register("after-call.dynamodb.*", self._on_response)

    @contextlib.contextmanager
    def measure(self) -> Iterator[Tally]:
        self._tally = tally = Tally()
        try:
            yield tally
        finally:
            self._tally = None

    def _on_request(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.input_shape is not None and "ReturnConsumedCapacity" in model.input_shape.members:
            params["ReturnConsumedCapacity"] = "TOTAL"
        if self._tally is not None:
            self._tally.add_request(model.name, params)

    def _on_response(self, model: Any, parsed: Mapping[str, Any], **_: Any) -> None:
        # after-call also fires for error responses (a failed condition): counted as a call, they report no units.
        if self._tally is not None:
            self._tally.add_response(model.name, parsed.get("ConsumedCapacity"))
