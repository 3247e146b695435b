"""The API's functions, each with its own role, log group and only the rights its code uses: the two resolver
functions, queries (read-only, cannot write) and mutations; the expiry handler, which serves the domain like them
(wired to the holds queue by infra/expiry.py); and the stream handler that makes the API's events (wired to the
table's stream, the API and the bus by infra/events.py)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.config import EventsConfig, ExpiryConfig, FunctionsConfig
from infra.configuration import Configuration
from infra.nag import suppress
from infra.table import InventoryTable
from inventory.config import (
    CONFIGURATION_MAX_AGE_VARIABLE,
    EVENT_BUS_NAME_VARIABLE,
    GRAPHQL_URL_VARIABLE,
    PAGE_TOKEN_SECRET_ID_VARIABLE,
    PARAMETER_PATH_VARIABLE,
)
from inventory.fields import Side
from resolvers.metrics import METRICS_NAMESPACE_VARIABLE

ROOT = Path(__file__).resolve().parent.parent
# The Lambda bundle is the domain package and the resolvers, nothing else (no tests, local server or CDK code).
# Everything else in the repository is excluded; boto3 comes with the runtime and Powertools with its layer.
BUNDLE_PACKAGES = ("inventory", "resolvers")
BUNDLE_EXCLUDE = [
    "*",
    ".*",
    *(f"!{package}" for package in BUNDLE_PACKAGES),
    *(f"!{package}/**" for package in BUNDLE_PACKAGES),
    "**/__pycache__",
    "**/*.pyc",
]

# The DynamoDB actions each side's code makes (inventory/dynamodb.py; a transaction needs its actions' permissions).
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query")
WRITE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:UpdateItem",  # releaseReservation gives holds back in place, inside a transaction
    "dynamodb:ConditionCheckItem",  # setStock checks the items a count leaves unchanged
)
# InventoryService.expire_reservation: the reservation, its items, one write of the items it tidies.
EXPIRY_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem")  # a transaction of puts for several

STREAM_HANDLER = "resolvers.stream.handler"
EXPIRY_HANDLER = "resolvers.expiry.handler"

# AWS publishes each Powertools release's layer ARN, per region, under this public parameter.
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/arm64/python3.13/{release}"


def pinned_powertools_release() -> str:
    """The Powertools release requirements.txt pins: the deployed layer runs the code the tests ran."""
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith("aws-lambda-powertools=="):
            return line.split("==", 1)[1].split("#", 1)[0].strip()
    raise RuntimeError("requirements.txt pins no aws-lambda-powertools release")


X_RAY_REASON = (
    "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level "
    "permission: the resource must be *."
)


def metrics_namespace(environment: str) -> str:
    return f"Inventory/{environment}"


class ResolverFunctions(Construct):
    """``queries``: Query.* and Item.movements (batch); ``mutations``: Mutation.*; ``expiry``: hold timers to
    expired reservations; ``stream`` (once add_stream_handler made it): the table's stream records to events."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: FunctionsConfig,
        expiry: ExpiryConfig,
        environment: str,
        table: InventoryTable,
        configuration: Configuration,
        removal_policy: RemovalPolicy,
        tracing: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._removal_policy = removal_policy
        self._tracing = lambda_.Tracing.ACTIVE if tracing else lambda_.Tracing.DISABLED
        self._code = lambda_.Code.from_asset(str(ROOT), exclude=BUNDLE_EXCLUDE)
        # Resolved by CloudFormation in the deployment region: no ARN pasted per region or release.
        layer_arn = ssm.StringParameter.value_for_string_parameter(
            self, POWERTOOLS_LAYER_PARAMETER.format(release=pinned_powertools_release())
        )
        self._layer = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", layer_arn)
        # Every function emits its business metrics (resolvers/metrics.py) in this environment's namespace.
        self._powertools_environment = {
            "POWERTOOLS_SERVICE_NAME": "inventory",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            METRICS_NAMESPACE_VARIABLE: metrics_namespace(environment),
        }
        # What builds the service (resolvers/runtime.py): the table and the settings. The expiry handler lists
        # nothing, so only the resolvers are told where the page-token secret is (Settings.from_env's serves_pages).
        service_environment = {
            "INVENTORY_TABLE_NAME": table.table.table_name,
            PARAMETER_PATH_VARIABLE: configuration.settings_path,
            CONFIGURATION_MAX_AGE_VARIABLE: str(config.configuration_max_age_seconds),
            **self._powertools_environment,
        }
        resolver_environment = {
            **service_environment,
            PAGE_TOKEN_SECRET_ID_VARIABLE: configuration.page_token_secret.secret_arn,
        }
        self.queries = self._function(
            "Queries",
            handler="resolvers.handlers.queries_handler",
            description="Inventory API reads: Query.* and the batched Item.movements (read-only)",
            reserved_concurrency=config.queries_reserved_concurrency,
            environment=resolver_environment,
        )
        self.mutations = self._function(
            "Mutations",
            handler="resolvers.handlers.mutations_handler",
            description="Inventory API writes: Mutation.*",
            reserved_concurrency=config.mutations_reserved_concurrency,
            environment=resolver_environment,
        )
        self.expiry = self._function(
            "Expiry",
            handler=EXPIRY_HANDLER,
            description="Inventory hold expiry: tidies ended holds off the items, so subscribers hear the change",
            reserved_concurrency=None,
            environment=service_environment,
            timeout_seconds=expiry.timeout_seconds,
        )
        self.stream: lambda_.Function | None = None

        dynamodb_table = table.table
        index_arns = [f"{dynamodb_table.table_arn}/index/{name}" for name in table.index_names]
        self._allow(self.queries, READ_ACTIONS, [dynamodb_table.table_arn, *index_arns])
        self._allow(self.mutations, WRITE_ACTIONS, [dynamodb_table.table_arn])  # no write path reads an index
        self._allow(self.expiry, EXPIRY_ACTIONS, [dynamodb_table.table_arn])
        resolvers = (self.queries, self.mutations)
        for function in (*resolvers, self.expiry):
            configuration.grant_read_settings(function)
        configuration.grant_secret_only_to(*(function.role for function in resolvers if function.role))

    def add_stream_handler(self, config: EventsConfig, *, graphql_url: str, event_bus_name: str) -> lambda_.Function:
        """The stream handler: it reads no table, setting or secret, only the stream records it is given; what it
        may call (the publish mutations, the bus) is granted by its caller."""
        self.stream = self._function(
            "Stream",
            handler=STREAM_HANDLER,
            description="Inventory events: every change of the table to the API's subscriptions and the event bus",
            reserved_concurrency=None,
            environment={
                GRAPHQL_URL_VARIABLE: graphql_url,
                EVENT_BUS_NAME_VARIABLE: event_bus_name,
                **self._powertools_environment,
            },
            memory_mb=config.memory_mb,
            timeout_seconds=config.timeout_seconds,
        )
        return self.stream

    @property
    def all(self) -> tuple[lambda_.Function, ...]:
        services = (self.queries, self.mutations, self.expiry)
        return services if self.stream is None else (*services, self.stream)

    @property
    def by_side(self) -> dict[Side, lambda_.Function]:
        """The function serving each side of inventory.fields.FIELDS."""
        return {Side.QUERIES: self.queries, Side.MUTATIONS: self.mutations}

    def _function(
        self,
        name: str,
        *,
        handler: str,
        description: str,
        reserved_concurrency: int | None,
        environment: dict[str, str],
        memory_mb: int | None = None,
        timeout_seconds: int | None = None,
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self, f"{name}Logs", retention=self._config.log_retention, removal_policy=self._removal_policy
        )
        # A role of its own with no managed policy: CloudWatch Logs rights on its log group only.
        role = iam.Role(self, f"{name}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            name,
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=self._code,
            layers=[self._layer],
            memory_size=memory_mb or self._config.memory_mb,
            timeout=Duration.seconds(timeout_seconds or self._config.timeout_seconds),
            reserved_concurrent_executions=reserved_concurrency,
            environment=environment,
            description=description,
            role=role,
            log_group=log_group,
            tracing=self._tracing,
        )
        suppress(
            function,
            "AwsSolutions-L1",
            "Python 3.13 is the chosen runtime: the AWS-managed Powertools layer the code runs with is its "
            "python3.13 build, so runtime and layer move to a newer Python together (FunctionsConfig).",
        )
        if self._tracing == lambda_.Tracing.ACTIVE:
            suppress(role.node.find_child("DefaultPolicy"), "AwsSolutions-IAM5", X_RAY_REASON, ["Resource::*"])
        return function

    @staticmethod
    def _allow(function: lambda_.Function, actions: tuple[str, ...], resources: list[str]) -> None:
        function.add_to_role_policy(iam.PolicyStatement(actions=list(actions), resources=resources))
