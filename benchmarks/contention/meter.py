"""DynamoDB calls by the operation that made them, counted on the Lambda runtime's boto3 client with botocore's event
hooks: what the code did, not what it says it did. A TransactWriteItems that DynamoDB cancelled is an attempt too,
sorted by why (a condition failed: the item changed since it was read; a conflict with another transaction in
flight; anything else)."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

TRANSACT = "TransactWriteItems"
CONDITION_FAILED, CONFLICT, OTHER = "ConditionalCheckFailed", "TransactionConflict", "other"


class CallMeter:
    """Counts only inside :meth:`operation`, by its name, for the calling thread (the hooks run on the thread that
    makes the call)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()  # every DynamoDB call, by operation
        self.attempts: Counter[str] = Counter()  # TransactWriteItems calls, by operation
        self.cancelled: Counter[tuple[str, str]] = Counter()  # (operation, why)
        self._events = client.meta.events
        self._local = threading.local()
        self._lock = threading.Lock()
        self._events.register("before-call.dynamodb", self._before, unique_id="contention-calls")
        self._events.register(f"after-call.dynamodb.{TRANSACT}", self._after, unique_id="contention-cancellations")

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.attempts.clear()
            self.cancelled.clear()

    def close(self) -> None:
        self._events.unregister("before-call.dynamodb", unique_id="contention-calls")
        self._events.unregister(f"after-call.dynamodb.{TRANSACT}", unique_id="contention-cancellations")

    @contextlib.contextmanager
    def operation(self, name: str) -> Iterator[None]:
        self._local.name = name
        try:
            yield
        finally:
            self._local.name = None

    def _before(self, model: Any, **_: Any) -> None:
        name = getattr(self._local, "name", None)
        if name is not None:
            with self._lock:
                self.calls[name] += 1
                if model.name == TRANSACT:
                    self.attempts[name] += 1

    def _after(self, parsed: Mapping[str, Any], **_: Any) -> None:
        name = getattr(self._local, "name", None)
        if name is None or "Error" not in parsed:
            return
        codes = {reason.get("Code") for reason in parsed.get("CancellationReasons") or []}
        why = CONDITION_FAILED if CONDITION_FAILED in codes else CONFLICT if CONFLICT in codes else OTHER
        with self._lock:
            self.cancelled[(name, why)] += 1
