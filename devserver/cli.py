"""``python -m devserver``: the local inventory API, the same GraphQL API as AppSync's, on http://127.0.0.1:4000,
and over TLS on https://localhost:4443 (for AWS Amplify, which opens ``wss://`` only; devserver/certificates.py).

It starts the storage (DynamoDB Local unless told otherwise), creates the table from the shared definition when it
is missing, optionally loads the seed catalogue, serves GraphQL until Ctrl-C, and then stops everything it started.
Both ports are served by one app in one event loop: one storage, one stream reader, one set of subscribers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from types import FrameType

import uvicorn
from graphql import parse

from devserver.app import create_app
from devserver.certificates import LocalCertificates, local_certificates
from devserver.dynamodb_local import ROOT, DynamoDBLocalError, MissingTools, PortInUse, port_is_free
from devserver.request_log import logger as request_log
from devserver.seed import seed
from devserver.settings import inventory_settings, local_secrets
from devserver.storage import Storage, drop_table, dynamodb_local, endpoint, in_memory, is_on_this_machine
from devserver.stream import TableStream
from devserver.user_pool import DEFAULT_LIFETIME_SECONDS, mint
from infra.appsync_schema import SCHEMA_PATH, writers_group
from inventory.config import ConfigurationError
from inventory.dynamodb import DynamoDBInventoryRepository
from inventory.service import InventoryService
from inventory.table import ensure_table

HOST = "127.0.0.1"
DEFAULT_PORT = 4000
DEFAULT_TLS_PORT = 4443
TLS_HOST = "localhost"  # the name a frontend uses; the certificate names 127.0.0.1 and ::1 too
DEFAULT_DATA_DIR = ROOT / ".local-data"
API_KEY_AUTH, COGNITO_AUTH = "api-key", "cognito"

logger = logging.getLogger("devserver")


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devserver",
        description="The inventory API on your machine: the same GraphQL API as the deployed AppSync one, served on "
        "http://127.0.0.1:4000/graphql with GraphiQL and websocket subscriptions.",
        epilog="Settings come from the same environment variables as the Lambda functions: INVENTORY_TABLE_NAME "
        "(default inventory), INVENTORY_PAGE_TOKEN_SECRET (default: generated once and kept in the data folder), "
        "INVENTORY_DEFAULT_PAGE_SIZE and the others; AWS_REGION and the AWS credentials variables for --endpoint. "
        "`python -m devserver token --help`: a token for --auth cognito.",
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to serve on (default 4000)")
    parser.add_argument(
        "--tls-port",
        type=int,
        metavar="N",
        help=f"also serve HTTPS and WSS on port N, with a certificate of a local CA kept in the data folder (default "
        f"{DEFAULT_TLS_PORT}, skipped with a warning when it is in use; 0: no TLS)",
    )
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument(
        "--memory", action="store_true", help="keep the data in memory (moto, no Java needed); gone on exit"
    )
    storage.add_argument(
        "--endpoint",
        metavar="URL",
        help="use the DynamoDB at URL (DynamoDB Local, or AWS with the usual AWS_* variables) instead of starting one",
    )
    parser.add_argument(
        "--dynamodb-port",
        type=int,
        metavar="N",
        help="run DynamoDB Local on port N (default: a free port, new at every start), e.g. for NoSQL Workbench",
    )
    parser.add_argument(
        "--seed", action="store_true", help="load the sample catalogue into a table that has no items yet"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the table and start with an empty one (with --seed, the catalogue again); with --endpoint, "
        "only a DynamoDB on this machine",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log one line per operation: name, root fields, duration, errorType"
    )
    parser.add_argument("--no-auth", action="store_true", help="accept requests without the x-api-key header")
    parser.add_argument(
        "--auth",
        choices=(API_KEY_AUTH, COGNITO_AUTH),
        default=API_KEY_AUTH,
        help="cognito: also accept a local Cognito token in the Authorization header (mint one with `python -m "
        "devserver token`); signed-in users may read, the writers group may write, as on the stack",
    )
    parser.add_argument(
        "--api-key-read-only",
        action="store_true",
        help="the API key may only read, as on prod (ApiConfig.api_key_writes); by default it writes too, as on dev",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="folder for DynamoDB Local's data, the API key, the page-token secret and the token key (default "
        ".local-data/)",
    )
    arguments = parser.parse_args(argv)
    if arguments.no_auth and (arguments.auth == COGNITO_AUTH or arguments.api_key_read_only):
        parser.error("--no-auth checks nothing: it cannot go with --auth cognito or --api-key-read-only")
    if arguments.tls_port is not None and arguments.tls_port == arguments.port:
        parser.error(f"--tls-port and --port are both {arguments.port}: the two need a port each")
    if arguments.dynamodb_port is not None and (arguments.memory or arguments.endpoint):
        parser.error("--dynamodb-port sets DynamoDB Local's port; it does not go with --memory or --endpoint")
    if arguments.reset and arguments.endpoint and not is_on_this_machine(arguments.endpoint):
        # Dropping a table is for local data; one elsewhere (AWS, a shared host) is deleted on purpose, not by a flag.
        parser.error(
            f"--reset deletes the table; with --endpoint only on this machine (localhost, 127.0.0.1, ::1), not at "
            f"{arguments.endpoint}"
        )
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["token"]:
        return print_token(argv[1:])
    arguments = parse_arguments(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logger.setLevel(logging.INFO)
    request_log.setLevel(logging.INFO if arguments.verbose else logging.WARNING)
    # SIGTERM and SIGHUP (a closed terminal) unwind like Ctrl-C does, so that DynamoDB Local is stopped whichever way
    # the server is; a SIGKILL runs nothing here, and DynamoDB Local's parent-death signal covers it (Linux).
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
    try:
        return serve(arguments)
    except KeyboardInterrupt:
        return 0
    except MissingTools as error:
        print(f"Cannot start: {error}.\n{MEMORY_HINT}", file=sys.stderr)
        return 1
    except PortInUse:
        port = arguments.dynamodb_port
        print(
            f"Cannot start: DynamoDB Local's port {port} is in use. {_choose_another('--dynamodb-port')}",
            file=sys.stderr,
        )
        return 1
    except (DynamoDBLocalError, ConfigurationError) as error:
        print(f"Cannot start: {error}", file=sys.stderr)
        return 1


# For a machine without Java or Node: everything but persistence works from memory.
MEMORY_HINT = (
    "To serve without Java or Node, keep the data in memory (gone on exit): make run ARGS=--memory, "
    "or python -m devserver --memory"
)


def _choose_another(option: str) -> str:
    # Most users start the server through make, which takes options through ARGS.
    return f'Choose another with {option} N (make run ARGS="{option} N").'


def serve(arguments: argparse.Namespace) -> int:
    data_dir: Path = arguments.data_dir.resolve()
    if not port_is_free(arguments.port, HOST):
        print(f"Port {arguments.port} is in use. {_choose_another('--port')}", file=sys.stderr)
        return 1
    tls_port = arguments.tls_port
    if tls_port is None:
        # TLS is on by default for Amplify's sake; a newcomer's `make run` must not fail for a port it may not use.
        tls_port = DEFAULT_TLS_PORT
        if arguments.port == tls_port or not port_is_free(tls_port, HOST):
            print(
                f"Port {tls_port} is in use: serving without TLS (no https:// or wss://). "
                f"{_choose_another('--tls-port')}",
                file=sys.stderr,
                flush=True,
            )
            tls_port = 0
    elif tls_port and not port_is_free(tls_port, HOST):
        print(f"Port {tls_port} is in use. {_choose_another('--tls-port')}", file=sys.stderr)
        return 1
    certificates = local_certificates(data_dir) if tls_port else None
    stored = local_secrets(data_dir)
    settings = inventory_settings(stored)
    server: _Server | None = None
    try:
        with _storage(arguments, data_dir) as storage:
            if arguments.reset:
                drop_table(storage.client, settings.table_name)
            ensure_table(storage.client, settings.table_name)
            service = InventoryService(DynamoDBInventoryRepository(storage.client, settings.table_name), settings)
            seeded = None
            if arguments.seed:
                seeded = seed(service)
            api_key = None if arguments.no_auth else stored.api_key
            cognito = arguments.auth == COGNITO_AUTH
            banner = _banner(
                arguments,
                api_key,
                storage,
                settings.table_name,
                seeded,
                auth=_auth_lines(arguments),
                tls=_tls_lines(tls_port, certificates),
            )
            app = create_app(
                service,
                api_key=api_key,
                user_pool_secret=stored.user_pool_secret if cognito else None,
                api_key_writes=not arguments.api_key_read_only,
                stream=TableStream(storage.streams, storage.client, settings.table_name),
            )
            config = uvicorn.Config(
                app, host=HOST, port=arguments.port, log_level="warning", timeout_graceful_shutdown=3
            )
            tls = None
            if certificates is not None:
                # The same app, without its lifespan: the HTTP server's runs the stream reader, once, for both.
                tls = uvicorn.Config(
                    app,
                    host=HOST,
                    port=tls_port,
                    ssl_certfile=certificates.certificate,
                    ssl_keyfile=certificates.key,
                    lifespan="off",
                    log_level="warning",
                    timeout_graceful_shutdown=3,
                )
            server = _Server(config, banner, tls)
            server.run()
            return 0 if server.started else 1
    finally:
        # Only after a start, and once the storage has stopped too: "Stopped." means nothing is left running.
        if server is not None and server.started:
            print("Stopped.", flush=True)


@contextlib.contextmanager
def _storage(arguments: argparse.Namespace, data_dir: Path) -> Iterator[Storage]:
    if arguments.memory:
        with in_memory() as storage:
            yield storage
    elif arguments.endpoint:
        with endpoint(arguments.endpoint) as storage:
            yield storage
    else:
        with dynamodb_local(data_dir, arguments.dynamodb_port) as storage:
            yield storage


class _Server(uvicorn.Server):
    """Prints the banner once the sockets are listening, so that "ready" means ready; shuts down gracefully on
    SIGHUP too (uvicorn does on SIGINT and SIGTERM). With ``tls``, a second server on the same app and loop serves
    HTTPS, started after this one and stopped with it."""

    def __init__(self, config: uvicorn.Config, banner: str, tls: uvicorn.Config | None = None) -> None:
        super().__init__(config)
        self.banner = banner
        self.tls = _Secondary(tls) if tls is not None else None
        self.tls_serving: asyncio.Task[None] | None = None

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        with super().capture_signals():
            previous = signal.signal(signal.SIGHUP, self.handle_exit)
            try:
                yield
            finally:
                # Restored before uvicorn raises the captured signals again, so that SIGHUP then exits as above.
                signal.signal(signal.SIGHUP, previous)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.tls is not None:
            self.tls_serving = asyncio.create_task(self.tls.serve())
            listening = asyncio.create_task(self.tls.listening.wait())
            await asyncio.wait({self.tls_serving, listening}, return_when=asyncio.FIRST_COMPLETED)
            listening.cancel()
            if not self.tls.started:
                self.should_exit = True  # uvicorn logged why; the banner is not printed
                return
        if self.started:
            print(self.banner, flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self.tls is not None:
            self.tls.should_exit, self.tls.force_exit = True, self.force_exit

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.tls is not None and self.tls_serving is not None:
            self.tls.should_exit = True
            await asyncio.gather(self.tls_serving, super().shutdown(sockets))
        else:
            await super().shutdown(sockets)


class _Secondary(uvicorn.Server):
    """A server run beside :class:`_Server`, which handles the signals for both."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.listening.set()


def _banner(
    arguments: argparse.Namespace,
    api_key: str | None,
    storage: Storage,
    table: str,
    seeded: int | None,
    *,
    auth: Sequence[str],
    tls: Sequence[str] = (),
) -> str:
    port = arguments.port
    url = f"http://{HOST}:{port}/graphql"
    key = f"{api_key}  (send it as the x-api-key header)" if api_key else "none: --no-auth, every request accepted"
    lines = [
        "Inventory API, local mirror of schema.graphql",
        f"  GraphQL:   {url}",
        f"  GraphiQL:  {url}  (open it in a browser{'; the API key is filled in' if api_key else ''})",
        f"  Websocket: ws://{HOST}:{port}/graphql  (graphql-transport-ws subscriptions)",
        f"  Real-time: ws://{HOST}:{port}/graphql/realtime  (AppSync's protocol: Amplify, graphql-ws subprotocol)",
        *tls,
        f"  API key:   {key}",
        f"  Storage:   {storage.description}; table {table}{' (reset)' if arguments.reset else ''}",
    ]
    if storage.browse:
        lines.append(f"  Browse:    {storage.browse}")
    if seeded is not None:
        lines.append(f"  Seed:      {seeded} items created" if seeded else "  Seed:      none, the table has items")
    lines.extend(auth)
    if arguments.verbose:
        lines.append("  Log:       one line per operation (--verbose)")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


def _tls_lines(port: int, certificates: LocalCertificates | None) -> list[str]:
    if certificates is None:
        return []
    url = f"https://{TLS_HOST}:{port}/graphql"
    return [
        f"  HTTPS:     {url}  (the same API over TLS: the endpoint for AWS Amplify, which opens wss:// only)",
        f"  WSS:       wss://{TLS_HOST}:{port}/graphql/realtime  (AppSync's protocol; graphql-transport-ws at "
        f"wss://{TLS_HOST}:{port}/graphql)",
        f"  CA:        {certificates.ca}  (this machine's own, kept in the data folder)",
        f"  Trust it:  Node: NODE_EXTRA_CA_CERTS={certificates.ca}; a browser: import the CA as an authority, or "
        f"open {url} once and accept it",
    ]


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _auth_lines(arguments: argparse.Namespace) -> list[str]:
    if arguments.no_auth:
        return ["  Auth:      none (--no-auth)"]
    key = (
        "the API key reads only (--api-key-read-only)"
        if arguments.api_key_read_only
        else "the API key reads and writes"
    )
    if arguments.auth != COGNITO_AUTH:
        return [f"  Auth:      {key}"]
    group = writers_group(parse(SCHEMA_PATH.read_text()))
    return [
        f"  Auth:      {key}; Cognito tokens in Authorization: signed-in users read, {group} writes",
        f"  Token:     python -m devserver token --groups {group} --username alice",
    ]


def print_token(argv: Sequence[str]) -> int:
    """``python -m devserver token``: prints a local Cognito token for ``--auth cognito``."""
    group = writers_group(parse(SCHEMA_PATH.read_text()))
    parser = argparse.ArgumentParser(
        prog="python -m devserver token",
        description="Print a token for a server started with --auth cognito, to send as the Authorization header "
        "(the token alone, no 'Bearer'), or as Authorization in a websocket's connection parameters. It is signed "
        "with the key kept in the data folder, so it works until it expires, across restarts.",
    )
    parser.add_argument("--username", default="developer", help="the user's name (default developer)")
    parser.add_argument(
        "--groups",
        nargs="*",
        default=[],
        metavar="GROUP",
        help=f"the user's Cognito groups: {group} may run mutations; without groups the user can only read",
    )
    parser.add_argument(
        "--minutes", type=int, default=DEFAULT_LIFETIME_SECONDS // 60, help="how long it is valid (default 60)"
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="the server's data folder")
    arguments = parser.parse_args(argv)
    secret = local_secrets(arguments.data_dir.resolve()).user_pool_secret
    print(mint(secret, username=arguments.username, groups=arguments.groups, lifetime_seconds=arguments.minutes * 60))
    return 0
