"""Everything that differs between environments, in one object per environment.

Constructs read their part of :class:`EnvironmentConfig` and contain no ``if env == "prod"``. Add an environment by
adding an entry to :data:`ENVIRONMENTS`; select it with ``cdk deploy -c env=<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import RemovalPolicy
from aws_cdk.aws_appsync import FieldLogLevel
from aws_cdk.aws_logs import RetentionDays

from inventory.config import Settings
from inventory.expiry import EXPIRY_ATTEMPTS
from inventory.limits import QUERY_DEPTH_LIMIT, RESOLVER_COUNT_LIMIT


@dataclass(frozen=True)
class OnDemand:
    """Pay per request, with a ceiling: beyond these request units per second DynamoDB throttles instead of billing,
    on the table and on each index, so a runaway client cannot run up the bill."""

    max_read_request_units: int
    max_write_request_units: int


@dataclass(frozen=True)
class Provisioned:
    """Provisioned capacity with target-tracking auto-scaling, on the table and on every index (each index gets the
    same bounds)."""

    min_read_capacity: int
    max_read_capacity: int
    min_write_capacity: int
    max_write_capacity: int
    target_utilization_percent: int = 70


@dataclass(frozen=True)
class TableConfig:
    capacity: OnDemand | Provisioned
    point_in_time_recovery: bool
    deletion_protection: bool


@dataclass(frozen=True)
class ApiSettings:
    """The API's own settings, published under /inventory/<env>/config/ and read by the functions (with a cache age).
    Each defaults to the functions' own default (inventory.config.Settings), declared there once."""

    default_page_size: int = Settings.default_page_size
    max_page_size: int = Settings.max_page_size
    default_reorder_point: int = Settings.default_reorder_point
    idempotency_ttl_hours: int = Settings.idempotency_ttl_hours


@dataclass(frozen=True)
class FunctionsConfig:
    memory_mb: int
    timeout_seconds: int
    log_retention: RetentionDays
    configuration_max_age_seconds: int  # how long a function reuses the Parameter Store values and the secret
    queries_reserved_concurrency: int | None = None  # None: share the account's unreserved pool
    mutations_reserved_concurrency: int | None = None


@dataclass(frozen=True)
class EventsConfig:
    """The stream handler and its event source mapping. Each shard's records are handled one batch at a time
    (parallelization factor 1), so events of one item keep their order; a failing batch is split to isolate the
    record that fails, retried a bounded number of times, then recorded in the failure queue, and the shard moves on."""

    batch_size: int = 25  # records per invocation; a record makes at most two publishes and one PutEvents
    max_batching_window_seconds: int = 1  # how long Lambda gathers records before invoking: latency for fewer calls
    retry_attempts: int = 5
    max_record_age_seconds: int = 3600  # older records are not retried (the stream keeps records 24 hours)
    timeout_seconds: int = 60  # a batch's publishes are sequential HTTP calls
    memory_mb: int = 256


@dataclass(frozen=True)
class ExpiryConfig:
    """The holds queue and the expiry handler (infra/expiry.py): each reservation's hold timer waits in the queue
    until its hold ends, then the handler tidies the ended holds off its items, so subscribers hear the change. The
    handler is built like the resolver functions (FunctionsConfig's memory), with its own timeout."""

    batch_size: int = 10  # messages per invocation: SQS's most without a batching window
    # A batch's expiries run one after another, each retrying lost races on a busy item (waits of up to 2 s): more
    # time than a resolver's answer, so a busy item times the batch out (and counts a receive) less often.
    timeout_seconds: int = 60
    # Concurrent invocations at most: a burst of expiries (a sale's carts ending together) writes the table at a
    # bounded rate beside the sales; messages wait in the queue meanwhile (its age alarm says when too long).
    max_concurrency: int = 5
    max_receive_count: int = EXPIRY_ATTEMPTS  # deliveries of a failing message before it moves to the dead-letter queue


@dataclass(frozen=True)
class ApiConfig:
    api_key_expiry_days: int  # counted from each deployment (AppSync allows 1 to 365)
    introspection: bool
    field_log_level: FieldLogLevel
    movements_max_batch_size: int  # Item.movements parents per Lambda invocation
    # False: the API key may only read (queries, subscriptions), so a key shipped in a web page cannot write;
    # writers then sign in (Cognito writers group) or use AWS IAM.
    api_key_writes: bool
    query_depth_limit: int = QUERY_DEPTH_LIMIT  # the local server enforces the same limits (inventory/limits.py)
    resolver_count_limit: int = RESOLVER_COUNT_LIMIT
    xray: bool = True  # X-Ray tracing of the API and the functions
    cognito_user_pool_id: str | None = None  # opt in: an existing user pool, added as an authorization mode
    # The pool's group whose members may run mutations (every signed-in user may read). None: the group that
    # schema.graphql names on its Mutation type (inventory-writers).
    cognito_writers_group: str | None = None


@dataclass(frozen=True)
class AlarmThresholds:
    """Each alarm fires when its metric reaches the threshold over one 5-minute period."""

    appsync_5xx_errors: int = 1
    appsync_p99_latency_ms: int = 2000
    lambda_errors: int = 1
    lambda_throttles: int = 1
    lambda_p99_duration_share_of_timeout: float = 0.8
    dynamodb_throttled_requests: int = 1
    dynamodb_system_errors: int = 1
    stream_iterator_age_ms: int = 60_000  # the oldest record the stream handler read was written this long before
    stream_failed_batches: int = 1  # batches the stream handler gave up on, waiting in the failure queue
    stream_records_failed: int = 1  # stream records the handler reported failed (partial batch failures)
    # A hold timer waits in its queue up to SQS's longest delay (900 s, then another hop) before it can be received:
    # older than this, expiries are heard late (the expiry handler fails, is throttled or is capped).
    holds_oldest_message_age_seconds: int = 1200
    holds_dead_letters: int = 1  # hold timers given up on: those expiries were not heard (reads stay exact)


@dataclass(frozen=True)
class MonitoringConfig:
    alarm_email: str | None = None  # subscribed to the alarm topic (the address must confirm the subscription)
    thresholds: AlarmThresholds = field(default_factory=AlarmThresholds)


@dataclass(frozen=True)
class WebAclConfig:
    """A WAF web ACL in front of the API: about $7 a month fixed (ACL $5 + 2 rules x $1) plus $0.60 per million
    requests."""

    requests_per_ip_per_5_minutes: int  # beyond this, the client IP is blocked until its rate falls back


@dataclass(frozen=True)
class EnvironmentConfig:
    name: str
    removal_policy: RemovalPolicy  # on stack deletion: RETAIN keeps the table (and its data) and the log groups
    table: TableConfig
    functions: FunctionsConfig
    api: ApiConfig
    monitoring: MonitoringConfig
    web_acl: WebAclConfig | None  # None: no WAF
    api_settings: ApiSettings = field(default_factory=ApiSettings)
    events: EventsConfig = field(default_factory=EventsConfig)
    expiry: ExpiryConfig = field(default_factory=ExpiryConfig)

    @property
    def parameter_path(self) -> str:
        """Where this environment's parameters live in Parameter Store."""
        return f"/inventory/{self.name}"


ENVIRONMENTS: dict[str, EnvironmentConfig] = {
    "dev": EnvironmentConfig(
        name="dev",
        removal_policy=RemovalPolicy.DESTROY,
        table=TableConfig(
            capacity=OnDemand(max_read_request_units=200, max_write_request_units=100),
            point_in_time_recovery=False,
            deletion_protection=False,
        ),
        functions=FunctionsConfig(
            memory_mb=256,
            timeout_seconds=10,
            log_retention=RetentionDays.ONE_WEEK,
            configuration_max_age_seconds=60,
        ),
        api=ApiConfig(
            api_key_expiry_days=30,
            introspection=True,
            field_log_level=FieldLogLevel.ALL,
            movements_max_batch_size=100,
            api_key_writes=True,
        ),
        monitoring=MonitoringConfig(),
        web_acl=None,
    ),
    "prod": EnvironmentConfig(
        name="prod",
        removal_policy=RemovalPolicy.RETAIN,
        table=TableConfig(
            capacity=OnDemand(max_read_request_units=4000, max_write_request_units=2000),
            point_in_time_recovery=True,
            deletion_protection=True,
        ),
        functions=FunctionsConfig(
            memory_mb=512,
            timeout_seconds=10,
            log_retention=RetentionDays.ONE_MONTH,
            configuration_max_age_seconds=300,
            queries_reserved_concurrency=50,
            mutations_reserved_concurrency=25,
        ),
        api=ApiConfig(
            api_key_expiry_days=365,
            introspection=False,
            field_log_level=FieldLogLevel.ERROR,
            movements_max_batch_size=100,
            api_key_writes=False,
        ),
        monitoring=MonitoringConfig(),
        web_acl=WebAclConfig(requests_per_ip_per_5_minutes=3000),
    ),
}


def environment(name: str) -> EnvironmentConfig:
    try:
        return ENVIRONMENTS[name]
    except KeyError:
        raise ValueError(f"unknown environment {name!r}: choose one of {', '.join(ENVIRONMENTS)}") from None
