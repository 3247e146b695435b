"""GraphQL over plain HTTP(S) to the local server, with the standard library: what the real-time and TLS contract
tests use to make the changes they then hear (or to reach the server through a TLS context of their own)."""

from __future__ import annotations

import json
import ssl
import urllib.request
from typing import Any

Json = dict[str, Any]

WAIT = 30.0  # a bound on waiting for an answer, never an assertion about time


def post(url: str, key: str, query: str, variables: Json, context: ssl.SSLContext | None = None) -> Json:
    """The answer to ``query``, sent with API key ``key``; it must carry no errors."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json", "x-api-key": key})
    with urllib.request.urlopen(request, timeout=WAIT, context=context) as response:
        answer: Json = json.load(response)
    assert "errors" not in answer, answer
    return answer
