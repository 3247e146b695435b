"""A minimal GraphQL-over-HTTP client for the load benchmark: one keep-alive connection, one request at a time, every
answer sorted into data, a GraphQL error (by errorType) or a transport failure, and timed.

The standard library's http.client, not a GraphQL client library: the load test measures the server, so the client
does as little as possible per request, and it needs the raw outcome (status, body) to tell a refusal from a failure.
"""

from __future__ import annotations

import http.client
import json
import time
from typing import Any
from urllib.parse import urlsplit

from benchmarks.outcomes import Outcome

Json = dict[str, Any]
REQUEST_TIMEOUT_SECONDS = 30.0
TRANSPORT_ERROR = "TransportError"  # no GraphQL answer at all: refused connection, reset, timeout, non-JSON body
NO_ERROR_TYPE = "NoErrorType"  # a GraphQL error without errorType (a malformed query, a leaked exception)


class GraphQLClient:
    """Not thread-safe: one per client thread."""

    def __init__(self, url: str, api_key: str, timeout: float = REQUEST_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.hostname != "127.0.0.1" or parts.port is None:
            raise ValueError(f"the load benchmark talks to a loopback server only, not {url}")
        self._host, self._port, self._path = parts.hostname, parts.port, parts.path
        self._headers = {"content-type": "application/json", "x-api-key": api_key}
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def execute(self, query: str, variables: Json, field: str) -> Outcome:
        """Run ``query`` and return the value of its root ``field`` (one root field per query)."""
        body = json.dumps({"query": query, "variables": variables})
        start = time.perf_counter()
        try:
            status, raw = self._post(body)
        except (OSError, http.client.HTTPException) as error:
            self.close()  # a fresh connection for the next request
            return Outcome(time.perf_counter() - start, error_type=TRANSPORT_ERROR, detail=repr(error))
        seconds = time.perf_counter() - start
        try:
            answer = json.loads(raw)
        except ValueError:
            return Outcome(seconds, error_type=TRANSPORT_ERROR, detail=f"HTTP {status}, not JSON: {raw[:200]!r}")
        if not isinstance(answer, dict) or (status != 200 and not answer.get("errors")):
            return Outcome(seconds, error_type=TRANSPORT_ERROR, detail=f"HTTP {status}: {raw[:200]!r}")
        errors = answer.get("errors")
        if errors:
            first = errors[0]
            return Outcome(
                seconds,
                error_type=first.get("errorType") or NO_ERROR_TYPE,
                error_info=first.get("errorInfo"),
                detail=str(first.get("message")),
            )
        return Outcome(seconds, data=(answer.get("data") or {}).get(field))

    def _post(self, body: str) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        self._connection.request("POST", self._path, body=body.encode(), headers=self._headers)
        response = self._connection.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
