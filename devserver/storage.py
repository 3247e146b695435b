"""Where the local server keeps its data: one DynamoDB client, whichever engine is behind it.

- default: Amazon DynamoDB Local, started and stopped with the server, its data in ``<data dir>/dynamodb``;
- ``--memory``: moto's DynamoDB inside this process (for machines without Java), gone when the server stops;
- ``--endpoint URL``: a DynamoDB that is already running (DynamoDB Local, LocalStack, or AWS itself), with the
  usual AWS environment variables for region and credentials.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3

from devserver.dynamodb_local import running

DEFAULT_REGION = "us-east-1"
# Neither DynamoDB Local nor moto checks credentials, but botocore signs every request and needs some.
LOCAL_CREDENTIAL = "local"


@dataclass(frozen=True)
class Storage:
    client: Any  # a boto3 DynamoDB client
    streams: Any  # a boto3 DynamoDB Streams client on the same data (the local server's events read the stream)
    description: str  # what the start banner says about it
    browse: str | None = None  # how to look at the table with a DynamoDB tool, when one can


def _client(endpoint_url: str | None, *, local_credentials: bool, service: str = "dynamodb") -> Any:
    """A DynamoDB (or ``dynamodbstreams``) client; the region from AWS_REGION / AWS_DEFAULT_REGION (us-east-1 when
    neither is set)."""
    region = _region()
    credential = LOCAL_CREDENTIAL if local_credentials else None
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=credential,
        aws_secret_access_key=credential,
    )


@contextlib.contextmanager
def dynamodb_local(data_dir: Path, port: int | None = None) -> Iterator[Storage]:
    """DynamoDB Local on ``port``, or on a free one (then a new one each start)."""
    folder = data_dir / "dynamodb"
    with running(data_dir=folder, port=port, quick_start=True) as endpoint:
        # -sharedDb: any region and credentials see the same tables, so a tool's defaults work.
        browse = (
            f"NoSQL Workbench (add a DynamoDB Local connection, port {endpoint.rsplit(':', 1)[1]}) or "
            f"npx dynamodb-admin --dynamo-endpoint={endpoint}"
        )
        if port is None:
            browse += "; the port changes at every start unless fixed with --dynamodb-port N"
        yield Storage(
            _client(endpoint, local_credentials=True),
            _client(endpoint, local_credentials=True, service="dynamodbstreams"),  # DynamoDB Local serves both
            f"Amazon DynamoDB Local on {endpoint}, data kept in {folder}",
            browse,
        )


class SerializedClient:
    """A boto3 client whose API calls run one at a time, behind one lock.

    moto's DynamoDB is not thread-safe (``transact_write_items`` iterates dicts that other threads change), and the
    server resolves requests in threads: without the lock, concurrent orders on ``--memory`` were answered OK but
    lost, and two updates won with the same ``expectedVersion``. One call at a time makes each moto call atomic, as
    each DynamoDB call is; the service's conditions and retries do the rest, as on DynamoDB. Everything that is not
    an API call (``meta``, ``exceptions``, waiters used at start-up) is the wrapped client's own.
    """

    def __init__(self, client: Any, lock: threading.Lock | None = None) -> None:
        """``lock``: another client's, when both reach the same moto backend (DynamoDB and its streams)."""
        self._client = client
        self._lock = lock or threading.Lock()
        self._operations = frozenset(client.meta.method_to_api_mapping)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        return self._serialized(attribute) if name in self._operations else attribute

    def _serialized(self, call: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(call)
        def serialized(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return call(*args, **kwargs)

        return serialized


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


@contextlib.contextmanager
def in_memory() -> Iterator[Storage]:
    from moto import mock_aws  # noqa: PLC0415 - only this mode needs moto, and importing it takes a second

    with mock_aws():
        client = SerializedClient(_client(None, local_credentials=True))
        # botocore sends a stream's calls to an endpoint named after its account (<account>.streams-ddb.<region>),
        # which moto (5.2) does not intercept; it does the service's regional name, given here explicitly.
        streams_url = f"https://streams.dynamodb.{_region()}.amazonaws.com"
        streams = SerializedClient(
            _client(streams_url, local_credentials=True, service="dynamodbstreams"), client._lock
        )
        yield Storage(client, streams, "in memory (moto): the data is gone when the server stops")


@contextlib.contextmanager
def endpoint(url: str) -> Iterator[Storage]:
    # The machine's credentials when it has some (AWS itself needs them), local ones otherwise.
    has_credentials = boto3.Session().get_credentials() is not None
    local = not has_credentials
    yield Storage(
        _client(url, local_credentials=local),
        _client(url, local_credentials=local, service="dynamodbstreams"),
        f"DynamoDB at {url}",
    )


def drop_table(client: Any, table_name: str) -> None:
    """Delete the table and wait until it is gone; nothing happens when there is none."""
    try:
        client.delete_table(TableName=table_name)
    except client.exceptions.ResourceNotFoundException:
        return
    client.get_waiter("table_not_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})


def is_on_this_machine(url: str) -> bool:
    """Whether an endpoint URL names this machine by a loopback name or address (what --reset may wipe)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
