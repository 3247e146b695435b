"""What a request of the load and contention benchmarks gave (an :class:`Outcome`, recorded as a :data:`Sample` under
its operation's name), and the figures both draw from many: latency percentiles, the errors no correct API gives."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """One request's result. ``error_type`` is None on success; ``data`` is the field's value then."""

    seconds: float
    data: Any = None
    error_type: str | None = None
    error_info: Any = None
    detail: str = ""  # for a failure report: the message, or what went wrong on the wire

    @property
    def ok(self) -> bool:
        return self.error_type is None


Sample = tuple[str, Outcome]  # an operation's name and how it went
INTERNAL_ERROR = "InternalError"  # the API's answer to what it did not expect: never right, under any load


def percentile(sorted_seconds: Sequence[float], share: float) -> float:
    """Nearest rank: the smallest sample with at least ``share`` of the samples at or below it."""
    return sorted_seconds[max(0, math.ceil(share * len(sorted_seconds)) - 1)]


def unexpected_errors(samples: Iterable[Sample], expected: Mapping[str, frozenset[str]]) -> Counter[str]:
    """errorType -> count, for the answers that are not a refusal ``expected`` of their operation."""
    unexpected: Counter[str] = Counter()
    for operation, outcome in samples:
        if outcome.error_type is not None and outcome.error_type not in expected.get(operation, ()):
            unexpected[outcome.error_type] += 1
    return unexpected
