"""Responses compared by shape where they cannot be equal: ids and timestamps are made by each run, page tokens
sign them. Every id becomes <idN>, numbered by first appearance, so an id must still appear exactly where the other
run has the same id; every AWSDateTime must have AppSync's form; a nextToken must be there (or null) in both."""

from __future__ import annotations

import re
from typing import Any

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def by_shape(transcript: Any) -> Any:
    ids: dict[str, str] = {}

    def text(value: str, key: str | None) -> str:
        if key == "nextToken":
            return "<nextToken>"
        if DATE_TIME.fullmatch(value):
            return "<AWSDateTime>"
        return UUID.sub(lambda match: ids.setdefault(match.group(), f"<id{len(ids) + 1}>"), value)

    def walk(value: Any, key: str | None = None) -> Any:
        if isinstance(value, dict):
            return {name: walk(entry, name) for name, entry in value.items()}
        if isinstance(value, list | tuple):
            return [walk(entry) for entry in value]
        if isinstance(value, str):
            return text(value, key)
        return value

    return walk(transcript)
