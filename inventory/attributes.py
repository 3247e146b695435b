"""How the model's records are spelled outside Python: field names in camelCase, enums as their names.

One spelling for both the table's records (dynamodb.py) and the API's JSON (views.py): the table stores an item under
the names the contract gives it, so the two mappings were the same list written twice. Each side now starts from
this one and states only how it differs (keys and index attributes; a float price, lowStock, no internal counter).
"""

from __future__ import annotations

import enum
from typing import Any

from inventory.model import Item, Location, StockLevel, StockMovement, TransferResult

_NAMES: dict[type, tuple[str, ...]] = {}


def external_name(field: str) -> str:
    """``reorder_point`` -> ``reorderPoint``."""
    head, *rest = field.split("_")
    return head + "".join(part.capitalize() for part in rest)


def attributes(record: Item | StockMovement | StockLevel | Location | TransferResult) -> dict[str, Any]:
    """Every field of the record under its external name; enums as their values, None kept."""
    names = _NAMES.get(type(record))
    if names is None:
        names = _NAMES[type(record)] = tuple(external_name(field) for field in record._fields)
    return {
        name: value.value if isinstance(value, enum.Enum) else value for name, value in zip(names, record, strict=True)
    }
