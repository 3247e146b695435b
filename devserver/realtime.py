"""AppSync's real-time WebSocket protocol, beside ``graphql-transport-ws``, so that an AppSync client (AWS Amplify's
GraphQL client, or one written to AWS's guide "Building a real-time WebSocket client") works against the local
server unchanged. It is served at ``/graphql/realtime``: Amplify derives the real-time URL of any endpoint that is
not an ``appsync-api`` host by appending ``/realtime`` to the GraphQL URL.

The protocol, as AppSync and Amplify speak it:

- The handshake offers the ``graphql-ws`` subprotocol. The connection's credentials (``{"host", "x-api-key"}`` or
  ``{"host", "Authorization"}``) come base64-encoded JSON in the ``header`` query parameter (with ``payload``, an
  encoded ``{}``), or base64url in a second subprotocol ``header-<...>``, as Amplify v6 sends them.
- ``connection_init`` -> ``connection_ack`` with ``connectionTimeoutMs``; then ``ka`` at once and every
  :data:`KEEP_ALIVE_SECONDS`. Credentials refused: ``connection_error`` (errorCode 401, which Amplify does not
  retry) in answer to the first message, and the socket is closed.
- ``start`` (``id``; ``payload.data``, the JSON string of ``{query, variables}``; ``payload.extensions.authorization``,
  each subscription's own credentials) -> ``start_ack``, then ``data`` with ``{"data": ...}`` per event; a refused
  or invalid start -> ``error`` with ``payload.errors``; ``stop`` -> ``complete``.

A subscription runs through the same schema and the same :class:`~devserver.subscriptions.Subscriptions` fan-out as
``graphql-transport-ws``, so both hear the same events, filtered alike, with the same payloads. Host and Origin are
checked for every websocket by devserver/loopback.py before anything here runs.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from graphql import GraphQLError, OperationType, parse
from graphql.utilities import get_operation_ast
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.types import ExecutionResult

from devserver.authorization import Authenticator, Refused
from devserver.context import Context
from devserver.schema import InventorySchema
from devserver.subscriptions import Subscriptions
from inventory.service import InventoryService

Json = dict[str, Any]

PATH_SUFFIX = "/realtime"  # appended to the GraphQL path, as Amplify does for a host that is not AppSync's own
SUBPROTOCOL = "graphql-ws"
HEADER_SUBPROTOCOL = "header-"  # Amplify v6: the connection's credentials as a subprotocol, base64url
CONNECTION_TIMEOUT_MS = 300_000  # AppSync's: a client that hears nothing for this long reconnects
KEEP_ALIVE_SECONDS = 60.0  # under Amplify's 65 s "keep-alive missed" alert, and well under the timeout
UNAUTHORIZED = "UnauthorizedException"
UNSUPPORTED = "UnsupportedOperation"


def credentials(websocket: WebSocket) -> Json:
    """The connection's credentials: the ``header-`` subprotocol's, else the ``header`` query parameter's; ``{}``
    when neither decodes to a JSON object."""
    encoded = [
        offer[len(HEADER_SUBPROTOCOL) :] for offer in _offered(websocket) if offer.startswith(HEADER_SUBPROTOCOL)
    ]
    for text in (*encoded, websocket.query_params.get("header", "")):
        header = _decoded(text)
        if header is not None:
            return header
    return {}


def _offered(websocket: WebSocket) -> list[str]:
    return [str(offer) for offer in websocket.scope.get("subprotocols", ())]


def _decoded(text: str) -> Json | None:
    """Base64 (standard or URL-safe, padded or not) of a JSON object."""
    if not text:
        return None
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
        header = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return header if isinstance(header, dict) else None


def error_message(error_type: str, message: str, operation_id: str | None = None) -> Json:
    """An ``error`` message as AppSync sends it (with the ``id`` of the start it answers, when there is one)."""
    reply: Json = {"type": "error", "payload": {"errors": [{"errorType": error_type, "message": message}]}}
    return reply if operation_id is None else {**reply, "id": operation_id}


class RealtimeEndpoint:
    """Serves one websocket per call of :meth:`serve` (a Starlette websocket endpoint)."""

    def __init__(
        self,
        schema: InventorySchema,
        service: InventoryService,
        subscriptions: Subscriptions,
        authenticator: Authenticator,
    ) -> None:
        self.schema, self.service, self.subscriptions = schema, service, subscriptions
        self.authenticator = authenticator

    async def serve(self, websocket: WebSocket) -> None:
        if SUBPROTOCOL not in _offered(websocket):
            await websocket.close(
                code=4400, reason=f"AppSync's real-time endpoint speaks the {SUBPROTOCOL} subprotocol"
            )
            return
        await websocket.accept(subprotocol=SUBPROTOCOL)
        try:
            self.authenticator.access(credentials(websocket))
        except Refused as refused:
            # in answer to the client's first message (connection_init), so that it is there to read it
            if (await websocket.receive())["type"] == "websocket.disconnect":
                return
            error = {"errorType": UNAUTHORIZED, "message": refused.message, "errorCode": 401}
            await websocket.send_json({"type": "connection_error", "payload": {"errors": [error]}})
            await websocket.close(code=1000)
            return
        await Connection(self, websocket).run()


class Connection:
    """One accepted websocket: its subscriptions by id and its keep-alive."""

    def __init__(self, endpoint: RealtimeEndpoint, websocket: WebSocket) -> None:
        self.endpoint, self.websocket = endpoint, websocket
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.keep_alive: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            while (message := await self.websocket.receive())["type"] != "websocket.disconnect":
                await self.receive(message.get("text") or "")  # a binary frame is no message of the protocol
        finally:
            for task in (*self.operations.values(), *([self.keep_alive] if self.keep_alive else [])):
                task.cancel()

    async def receive(self, text: str) -> None:
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        operation_id = message.get("id") if isinstance(message, dict) else None
        operation_id = operation_id if isinstance(operation_id, str) else None
        if kind == "connection_init":
            await self.acknowledge()
        elif kind == "start" and operation_id is not None and isinstance(message, dict):
            await self.start(operation_id, message.get("payload"))
        elif kind == "stop" and operation_id is not None:
            await self.stop(operation_id)
        else:
            # AppSync's answer to a message it does not serve, "unknown" when it has no type at all
            name = kind if isinstance(kind, str) and kind else "unknown"
            await self.send(
                error_message(UNSUPPORTED, f"{name} not supported through the realtime channel", operation_id)
            )

    async def acknowledge(self) -> None:
        await self.send({"type": "connection_ack", "payload": {"connectionTimeoutMs": CONNECTION_TIMEOUT_MS}})
        await self.send({"type": "ka"})
        if self.keep_alive is None:
            self.keep_alive = asyncio.create_task(self._keep_alive())

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(KEEP_ALIVE_SECONDS)
            await self.send({"type": "ka"})

    async def start(self, operation_id: str, payload: Any) -> None:
        payload = payload if isinstance(payload, Mapping) else {}
        extensions = payload.get("extensions")
        authorization = extensions.get("authorization") if isinstance(extensions, Mapping) else None
        try:
            access = self.endpoint.authenticator.access(authorization if isinstance(authorization, Mapping) else {})
        except Refused as refused:
            await self.send(error_message(UNAUTHORIZED, refused.message, operation_id))
            return
        if operation_id in self.operations:
            await self.send(
                error_message(UNSUPPORTED, f"a subscription with id {operation_id} is running", operation_id)
            )
            return
        request = _request(payload.get("data"))
        if isinstance(request, str):
            await self.send(error_message(UNSUPPORTED, request, operation_id))
            return
        query, variables, operation_name = request
        refusal = _not_a_subscription(query, operation_name)
        if refusal is not None:
            await self.send(refusal | {"id": operation_id})
            return
        endpoint, listening = self.endpoint, asyncio.Event()
        context = Context(
            endpoint.service, endpoint.subscriptions, headers=self.websocket.headers, access=access, listening=listening
        )
        results = await endpoint.schema.subscribe(
            query, variable_values=variables, context_value=context, operation_name=operation_name
        )
        if isinstance(results, ExecutionResult):
            await self.send({"type": "error", "id": operation_id, "payload": {"errors": _formatted(results)}})
            return
        self.operations[operation_id] = asyncio.create_task(self._deliver(operation_id, results, listening))

    async def _deliver(
        self, operation_id: str, results: AsyncGenerator[ExecutionResult, None], listening: asyncio.Event
    ) -> None:
        """start_ack once the subscription listens (validated, authorized, registered with the fan-out), then an
        event per ``data``; a subscription refused before it listened gets ``error`` instead."""
        first = asyncio.ensure_future(anext(results))
        try:
            waiting = asyncio.ensure_future(listening.wait())
            await asyncio.wait({first, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if not listening.is_set():
                result = first.result()
                await self.send({"type": "error", "id": operation_id, "payload": {"errors": _formatted(result)}})
                return
            await self.send({"type": "start_ack", "id": operation_id})
            result = await first
            while True:
                data: Json = {"data": result.data}
                if result.errors:
                    data["errors"] = _formatted(result)
                await self.send({"type": "data", "id": operation_id, "payload": data})
                result = await anext(results)
        except StopAsyncIteration:
            pass
        finally:
            first.cancel()
            with contextlib.suppress(Exception):  # still running when stopped while it waited for its first event
                await results.aclose()  # the fan-out forgets this subscriber
            if self.operations.get(operation_id) is asyncio.current_task():
                del self.operations[operation_id]  # ended by itself: its id may start again

    async def stop(self, operation_id: str) -> None:
        task = self.operations.pop(operation_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.send({"type": "complete", "id": operation_id})

    async def send(self, message: Json) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the client went away meanwhile
            await self.websocket.send_json(message)


def _request(data: Any) -> tuple[str, Json | None, str | None] | str:
    """``payload.data``, the JSON string of ``{query, variables, operationName}``; or why it is not one."""
    try:
        request = json.loads(data) if isinstance(data, str) else None
    except (ValueError, RecursionError):
        request = None
    query = request.get("query") if isinstance(request, dict) else None
    if not isinstance(request, dict) or not isinstance(query, str):
        return 'unknown not supported through the realtime channel (payload.data must be the JSON of {"query": ...})'
    variables, name = request.get("variables"), request.get("operationName")
    return query, variables if isinstance(variables, dict) else None, name if isinstance(name, str) else None


def _not_a_subscription(query: str, operation_name: str | None) -> Json | None:
    """AppSync's answer to a start that is not a subscription; None for a subscription or a document that does not
    parse (the schema answers that with its syntax error)."""
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLError:
        return None
    if operation is None or operation.operation is OperationType.SUBSCRIPTION:
        return None
    return error_message(UNSUPPORTED, f"{operation.operation.value} not supported through the realtime channel")


def _formatted(result: ExecutionResult) -> list[Any]:
    return [error.formatted for error in result.errors or ()]
