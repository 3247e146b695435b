"""A scenario run on one transport: steps in order, each step's variables made from what the run answered before
(an item's id, a page's nextToken), so that two transports can be given the same scenario and their answers
compared (transcript.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

Json = dict[str, Any]
Answers = dict[str, Json]


class Side(Protocol):
    async def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> Json: ...


@dataclass(frozen=True)
class Step:
    label: str
    document: str
    variables: Callable[[Answers], Json]


@dataclass(frozen=True)
class Wait:
    """Sleep until the instant ``until`` names (read from earlier answers); answers nothing."""

    label: str
    until: Callable[[Answers], datetime]


def data(answers: Answers, label: str, *path: str | int) -> Any:
    value: Any = answers[label]["data"]
    for key in path:
        value = value[key]
    return value


async def run(side: Side, steps: Sequence[Step | Wait]) -> list[tuple[str, Json]]:
    answers: Answers = {}
    for step in steps:
        if isinstance(step, Wait):
            await asyncio.sleep(max(0.0, step.until(answers).timestamp() - time.time()))
        else:
            answers[step.label] = await side.execute(step.document, step.variables(answers))
    return list(answers.items())
