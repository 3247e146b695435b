"""Where the stream handler sends events: the API's publish mutations, which feed the subscriptions, and the event
bus, for other systems.

The mutations are ``@aws_iam`` only, so each request is signed with SigV4 as the function's role (service
``appsync``) and POSTed with the standard library: nothing beyond botocore, which the Lambda runtime carries. A
publish that AppSync refuses (an HTTP error, or GraphQL ``errors`` in a 200 answer) raises PublishFailed, and so
does a bus entry that EventBridge did not take: the caller fails the whole record, and its retry publishes every
event of it again (consumers drop duplicates by eventId).
"""

from __future__ import annotations

import functools
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from inventory.config import EVENT_BUS_NAME_VARIABLE, GRAPHQL_URL_VARIABLE, ConfigurationError
from inventory.events import Event, bus_entry, publish_request

PUBLISH_TIMEOUT_SECONDS = 5.0  # per request: a hung connection fails its record instead of the whole batch
_ERROR_EXCERPT = 500  # characters of a refusal's body kept in the exception (and so in the log)


class PublishFailed(Exception):
    """An event did not reach AppSync or the bus: its record must be retried."""


@dataclass(frozen=True)
class PublishSettings:
    graphql_url: str
    event_bus_name: str
    region: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PublishSettings:
        def required(name: str) -> str:
            value = env.get(name)
            if not value:
                raise ConfigurationError(f"{name} is not set")
            return value

        # Lambda sets AWS_REGION (and AWS_DEFAULT_REGION, which boto3 reads); the API is in the function's region.
        region = env.get("AWS_REGION") or required("AWS_DEFAULT_REGION")
        return cls(required(GRAPHQL_URL_VARIABLE), required(EVENT_BUS_NAME_VARIABLE), region)


class Publisher:
    def __init__(self, settings: PublishSettings, credentials: Credentials, events_client: Any) -> None:
        self._settings, self._credentials, self._events = settings, credentials, events_client

    def publish(self, events: Sequence[Event]) -> None:
        """Every event to the subscribers, in order, then all of them to the bus in one PutEvents."""
        for event in events:
            self._post(*publish_request(event))
        if not events:
            return
        entries = [bus_entry(event, self._settings.event_bus_name) for event in events]
        response = self._events.put_events(Entries=entries)
        if response.get("FailedEntryCount", 0):
            refused = [entry for entry in response.get("Entries", []) if entry.get("ErrorCode")]
            raise PublishFailed(f"EventBridge refused {response['FailedEntryCount']} of {len(entries)}: {refused}")

    def _post(self, document: str, variables: Mapping[str, Any]) -> None:
        url = self._settings.graphql_url
        body = json.dumps({"query": document, "variables": variables}).encode()
        signed = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
        # Frozen per request: refreshable credentials renew themselves here when they near expiry.
        SigV4Auth(self._credentials.get_frozen_credentials(), "appsync", self._settings.region).add_auth(signed)
        request = urllib.request.Request(url, data=body, headers=dict(signed.headers.items()), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=PUBLISH_TIMEOUT_SECONDS) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as error:
            raise PublishFailed(f"HTTP {error.code}: {error.read()[:_ERROR_EXCERPT]!r}") from error
        if status != 200:
            raise PublishFailed(f"HTTP {status}: {answer[:_ERROR_EXCERPT]!r}")
        errors = json.loads(answer).get("errors")
        if errors:
            raise PublishFailed(f"GraphQL errors: {json.dumps(errors)[:_ERROR_EXCERPT]}")


@functools.cache
def events_client() -> Any:
    # Created on first use, not at import, like runtime.dynamodb_client.
    return boto3.client("events")


@functools.cache
def publisher() -> Publisher:
    """The container's publisher: its configuration and credentials read once, on the first record."""
    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise ConfigurationError("no AWS credentials to sign the publish mutations with")
    return Publisher(PublishSettings.from_env(), credentials, events_client())
