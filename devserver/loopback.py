"""Only this machine's names reach the server: a defence against DNS rebinding.

A page on another site can make its own host name resolve to 127.0.0.1 and then read the server as a same-origin
resource: GraphiQL, which embeds the API key, and the API itself. The browser still sends that site's name in the
``Host`` header, so every HTTP request and websocket must name the server by a loopback name (``127.0.0.1``,
``localhost``, ``[::1]``) with its port or none. A POST or websocket that carries an ``Origin`` must come from a
page on a loopback name too (any port: a frontend's dev server), the rule CORS applies. Anything else gets a 403
with a GraphQL-shaped body (a websocket is refused before it is accepted) and reaches nothing else.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from devserver.errors import request_error

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
LOCAL_ORIGIN = re.compile(r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?")
FORBIDDEN_TYPE = "ForbiddenException"


def allowed_hosts(port: int | None) -> frozenset[str]:
    """The ``Host`` values that name this server: a loopback name, alone or with the server's port."""
    with_port = {f"{name}:{port}" for name in LOOPBACK_NAMES} if port is not None else set()
    return frozenset({*LOOPBACK_NAMES, *with_port})


def refusal(headers: Headers, method: str, port: int | None) -> str | None:
    """Why this request may not reach the server, or None when it may."""
    host = headers.get("host", "").lower()
    if host not in allowed_hosts(port):
        names = ", ".join(LOOPBACK_NAMES)
        return f"Host {host or '(none)'!r} is not this server: call it by a loopback name ({names}) and its port."
    origin = headers.get("origin")
    if method in ("POST", "WEBSOCKET") and origin is not None and LOCAL_ORIGIN.fullmatch(origin) is None:
        return f"Origin {origin!r} may not call this server: only pages on localhost, 127.0.0.1 or [::1] may."
    return None


class LoopbackOnly:
    """ASGI middleware refusing requests that do not name the server by a loopback name (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        server = scope.get("server")
        port = server[1] if server and len(server) > 1 else None  # the port the request arrived on
        method = "WEBSOCKET" if scope["type"] == "websocket" else scope["method"]
        reason = refusal(Headers(scope=scope), method, port)
        if reason is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await WebSocketClose(code=4403, reason=reason)(scope, receive, send)  # before accept: an HTTP 403
        else:
            await JSONResponse(request_error(FORBIDDEN_TYPE, reason), status_code=403)(scope, receive, send)
