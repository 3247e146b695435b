"""The ASGI application: ``/graphql`` over HTTP (GraphiQL on GET, its assets under ``/graphiql``) and websockets,
guarded like AppSync's endpoint.

- API key: ``x-api-key`` on every HTTP request, as AppSync checks it; over websockets in the handshake headers or in
  the ``connection_init`` payload (``{"x-api-key": ...}`` or ``{"headers": {"x-api-key": ...}}``). A wrong or
  missing key gets AppSync's 401 ``UnauthorizedException``; a websocket is closed with 4403.
- With ``--auth cognito``, a local Cognito token in ``Authorization`` (same places) instead; then each field is
  checked against schema.graphql's directives (devserver/authorization.py).
- Requests refused before GraphQL runs (body over 1 MB, a body that is not one JSON object in UTF-8, no query) get
  a GraphQL-shaped body ``{"errors": [{"errorType", "message"}]}`` with a 4xx status, never a crash or a plain-text
  page.
- Host and Origin: only requests that name the server by a loopback name reach it (devserver/loopback.py); CORS and
  websocket origins: pages served from localhost / 127.0.0.1 / [::1] on any port.
- Subscriptions over ``graphql-transport-ws`` at ``/graphql``, and over AppSync's own real-time protocol at
  ``/graphql/realtime`` (devserver/realtime.py), both fed by one fan-out, which the table's stream feeds while the
  app runs (devserver/stream.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from devserver.authorization import Access, Authenticator, Caller, Mode, Refused
from devserver.context import Context
from devserver.errors import request_error
from devserver.graphiql import ASSETS_DIR, ASSETS_URL, graphiql_page
from devserver.loopback import LOCAL_ORIGIN, LoopbackOnly
from devserver.realtime import PATH_SUFFIX, RealtimeEndpoint
from devserver.schema import schema
from devserver.stream import TableStream, feeding
from devserver.subscriptions import Subscriptions
from inventory.service import InventoryService

GRAPHQL_PATH = "/graphql"
REALTIME_PATH = GRAPHQL_PATH + PATH_SUFFIX  # where Amplify looks for it, given the GraphQL URL
MAX_BODY_BYTES = 1024 * 1024
ACCESS = "inventory.access"  # the request scope's key for the caller's Access


class InventoryGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        service: InventoryService,
        subscriptions: Subscriptions,
        api_key: str | None,
        authenticator: Authenticator,
    ) -> None:
        super().__init__(
            schema,
            allow_queries_via_get=False,  # AppSync takes operations by POST only
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.service, self.subscriptions, self.api_key = service, subscriptions, api_key
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        response: Response | None = None if self._ide_request(request) else self._authenticate(request)
        if response is None:
            try:
                response = await self.run(request)
            except HTTPException as refused:
                body = request_error(_error_type(refused.status_code), refused.reason)
                response = JSONResponse(body, status_code=refused.status_code)
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        """A request body as AppSync takes it: one JSON object (no batches), strict UTF-8 and strict JSON. Anything
        else is refused with 400 before GraphQL runs; Strawberry alone would crash into a plain-text 500 on a body
        that is valid JSON but not an object, on bytes that are not UTF-8, or on JSON nested beyond Python's
        recursion limit."""
        try:
            text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
            body = json.loads(text, parse_constant=_refuse_constant)
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not valid UTF-8.") from None
        except (ValueError, RecursionError):
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(body, dict):
            message = f'The request body must be a JSON object such as {{"query": "..."}}, not {_json_kind(body)}.'
            raise HTTPException(400, message)
        return body

    def decode_json(self, data: str | bytes) -> object:
        """A websocket message: one JSON object, or the protocol's 4400 close that Strawberry gives malformed JSON
        (Strawberry alone crashed on a message that is JSON but not an object)."""
        text = data if isinstance(data, str) else data.decode(errors="replace")
        try:
            message = json.loads(text)
        except RecursionError:
            message = None
        if not isinstance(message, dict):
            raise json.JSONDecodeError("a graphql-transport-ws message is a JSON object", text, 0)
        return message

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        access: Access | None = request.scope.get(ACCESS)  # a websocket's is set when it connects
        return Context(self.service, self.subscriptions, headers=request.headers, access=access)

    async def on_ws_connect(self, context: Context) -> Any:
        params = context.connection_params
        try:
            context.access = self.authenticator.access(context.headers, params if isinstance(params, Mapping) else {})
        except Refused:
            raise ConnectionRejectionError() from None
        return await super().on_ws_connect(context)

    def _authenticate(self, request: Request) -> Response | None:
        """AppSync's 401 for credentials it refuses; otherwise None, the caller's access kept for the context."""
        try:
            request.scope[ACCESS] = self.authenticator.access(request.headers)
        except Refused as refused:
            return JSONResponse(request_error("UnauthorizedException", refused.message), status_code=401)
        return None

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        return LOCAL_ORIGIN.fullmatch(origin) is not None

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_page(self.graphql_ide_html, self.api_key))

    def _ide_request(self, request: Request) -> bool:
        return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json module accepts NaN and Infinity; JSON does not


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "an array (batched operations are not supported)"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else "a boolean" if isinstance(value, bool) else "a number"


def _error_type(status: int) -> str:
    return {401: "UnauthorizedException", 413: "PayloadTooLargeException"}.get(status, "BadRequestException")


class BodySizeLimit:
    """Refuses request bodies over ``max_bytes`` (413) before anything reads them whole."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes (1 MB), the most this API accepts."
        response = JSONResponse(request_error("PayloadTooLargeException", message), status_code=413)
        await response(scope, receive, send)


def create_app(
    service: InventoryService,
    *,
    api_key: str | None,
    user_pool_secret: str | None = None,
    api_key_writes: bool = True,
    stream: TableStream | None = None,
) -> Starlette:
    """``api_key`` None: every request is served (``--no-auth``). ``user_pool_secret``: local Cognito tokens are
    accepted (``--auth cognito``). ``api_key_writes`` False: the key may only read, as in prod. ``stream``: the
    table's, which feeds the subscriptions while the app runs (devserver/stream.py); without it they hear nothing."""
    subscriptions = Subscriptions()
    authenticator = Authenticator(api_key=api_key, user_pool_secret=user_pool_secret, api_key_writes=api_key_writes)
    # The stream publishes as the Lambda stream handler does on AWS: an IAM caller, whatever auth the clients use.
    publisher = Context(service, subscriptions, access=Access(authenticator.rules, Caller(Mode.AWS_IAM)))
    graphql = InventoryGraphQL(service, subscriptions, api_key, authenticator)
    realtime = RealtimeEndpoint(schema, service, subscriptions, authenticator)

    async def home(request: Request) -> Response:
        return RedirectResponse(GRAPHQL_PATH)

    app = Starlette(
        routes=[
            Route("/", home),
            Route(GRAPHQL_PATH, graphql),
            WebSocketRoute(GRAPHQL_PATH, graphql),
            WebSocketRoute(REALTIME_PATH, realtime.serve),
            Mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR)),
        ],
        middleware=[
            Middleware(LoopbackOnly),  # first: a request from another site's page reaches nothing (DNS rebinding)
            Middleware(
                CORSMiddleware,
                allow_origin_regex=LOCAL_ORIGIN.pattern,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
                max_age=600,
            ),
            Middleware(BodySizeLimit),
        ],
        lifespan=lambda _app: feeding(stream, schema, publisher),
    )
    app.state.subscriptions = subscriptions
    return app
