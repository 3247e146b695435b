"""The AppSync GraphQL API: schema.graphql (in its AppSync rendition), its authorization modes, logging and tracing,
one APPSYNC_JS resolver per field of inventory.fields.FIELDS, backed by the function of its side (reads on the one
that cannot write), batch-invoked when the field is batched, and the events' fields (inventory.events.CHANNELS) on a
NONE data source: the IAM-only publish mutations and the subscriptions they feed, filtered by AppSync. AppSync
resolves any other field from its parent."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, Expiration, Fn, RemovalPolicy, Stack, Stage
from aws_cdk import aws_appsync as appsync
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.appsync_schema import SCHEMA_PATH, SchemaAuth, appsync_definition
from infra.config import ApiConfig
from infra.functions import ResolverFunctions
from infra.nag import suppress
from inventory.events import CHANNELS
from inventory.fields import FIELDS, fields_of

RESOLVER_CODE_PATH = Path(__file__).resolve().parent / "lambda_resolver.js"
PUBLISH_CODE_PATH = Path(__file__).resolve().parent / "publish_resolver.js"
SUBSCRIPTION_CODE_PATH = Path(__file__).resolve().parent / "subscription_resolver.js"


def schema_auth(config: ApiConfig) -> SchemaAuth:
    """What the stack's settings make of schema.graphql's authorization directives."""
    return SchemaAuth(
        api_key_writes=config.api_key_writes,
        user_pools=config.cognito_user_pool_id is not None,
        writers_group=config.cognito_writers_group,
    )


class AppSyncApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ApiConfig,
        name: str,
        functions: ResolverFunctions,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        # AppSync writes field logs with this role; it may write to the API's log group only (granted below).
        logs_role = iam.Role(self, "LogsRole", assumed_by=iam.ServicePrincipal("appsync.amazonaws.com"))
        self.api = appsync.GraphqlApi(
            self,
            "Api",
            name=name,
            definition=appsync.Definition.from_file(str(self._write_definition(config))),
            authorization_config=appsync.AuthorizationConfig(
                default_authorization=appsync.AuthorizationMode(
                    authorization_type=appsync.AuthorizationType.API_KEY,
                    api_key_config=appsync.ApiKeyConfig(
                        description="Inventory API default key; each deployment moves its expiry forward (README).",
                        expires=Expiration.after(Duration.days(config.api_key_expiry_days)),
                    ),
                ),
                additional_authorization_modes=self._additional_modes(config),
            ),
            xray_enabled=config.xray,
            introspection_config=appsync.IntrospectionConfig.ENABLED
            if config.introspection
            else appsync.IntrospectionConfig.DISABLED,
            query_depth_limit=config.query_depth_limit,
            resolver_count_limit=config.resolver_count_limit,
            # The resolver code (lambda_resolver.js) batch-invokes exactly the fields listed here.
            environment_variables={"BATCHED_FIELDS": ",".join(field.path for field in FIELDS if field.batched)},
        )
        # AppSync logs to /aws/appsync/apis/<api id>. The log group is made here, with a retention (the default is
        # forever), and logging is set on the CloudFormation resource: the GraphqlApi construct's log_config would add
        # a log-retention custom resource (a Lambda function of its own) for the same purpose.
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=Fn.join("", ["/aws/appsync/apis/", self.api.api_id]),
            retention=log_retention,
            removal_policy=removal_policy,
        )
        self.log_group.grant_write(logs_role)
        cfn_api = self.api.node.default_child
        assert isinstance(cfn_api, appsync.CfnGraphQLApi)
        cfn_api.log_config = appsync.CfnGraphQLApi.LogConfigProperty(
            cloud_watch_logs_role_arn=logs_role.role_arn,
            field_log_level=config.field_log_level.value,
            exclude_verbose_content=True,
        )
        suppress(
            cfn_api,
            "AwsSolutions-ASC3",
            "Request logging is on (field log level from config, to a log group with retention); only verbose "
            "content is left out on purpose: it would copy request headers (API keys, SigV4 signatures) and every "
            "argument into the logs.",
        )

        code = appsync.Code.from_inline(RESOLVER_CODE_PATH.read_text())
        for side, function in functions.by_side.items():
            source = self._data_source(function)
            for field in fields_of(side):
                name = field.field_name
                source.create_resolver(
                    f"{field.type_name}{name[0].upper()}{name[1:]}Resolver",
                    type_name=field.type_name,
                    field_name=name,
                    runtime=appsync.FunctionRuntime.JS_1_0_0,
                    code=code,
                    max_batch_size=config.movements_max_batch_size if field.batched else None,
                )
        self._event_resolvers()

    def _event_resolvers(self) -> None:
        """The publish mutations hand their argument to the subscriptions; nothing is read or stored (NONE)."""
        source = self.api.add_none_data_source(
            "EventsSource", description="The publish mutations and the subscriptions they feed: no data"
        )
        publish = appsync.Code.from_inline(PUBLISH_CODE_PATH.read_text())
        subscribe = appsync.Code.from_inline(SUBSCRIPTION_CODE_PATH.read_text())
        for channel in CHANNELS.values():
            for type_name, field_name, code in (
                ("Mutation", channel.publish_field, publish),
                ("Subscription", channel.subscription_field, subscribe),
            ):
                source.create_resolver(
                    f"{type_name}{field_name[0].upper()}{field_name[1:]}Resolver",
                    type_name=type_name,
                    field_name=field_name,
                    runtime=appsync.FunctionRuntime.JS_1_0_0,
                    code=code,
                )

    def _write_definition(self, config: ApiConfig) -> Path:
        """schema.graphql rendered for AppSync with this stack's settings, written beside the template in the cloud
        assembly (cdk.out/<stack>.schema.graphql), where it can be read or tried against AppSync by hand."""
        stage = Stage.of(self)
        assert stage is not None, "the API is built inside a CDK app"
        path = Path(stage.outdir) / f"{Stack.of(self).stack_name}.schema.graphql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(appsync_definition(SCHEMA_PATH.read_text(), schema_auth(config)))
        return path

    @property
    def api_key(self) -> appsync.CfnApiKey:
        key = self.api.node.find_child("DefaultApiKey")
        assert isinstance(key, appsync.CfnApiKey)
        return key

    @property
    def realtime_url(self) -> str:
        api = self.api.node.default_child
        assert isinstance(api, appsync.CfnGraphQLApi)
        return api.attr_realtime_url

    def _additional_modes(self, config: ApiConfig) -> list[appsync.AuthorizationMode]:
        modes = [appsync.AuthorizationMode(authorization_type=appsync.AuthorizationType.IAM)]
        if config.cognito_user_pool_id is not None:
            # Opt in. Callers signed in to the pool reach the types and fields schema.graphql marks with
            # @aws_cognito_user_pools: everything to read, the Mutation type for the writers group only.
            pool = cognito.UserPool.from_user_pool_id(self, "UserPool", config.cognito_user_pool_id)
            modes.append(
                appsync.AuthorizationMode(
                    authorization_type=appsync.AuthorizationType.USER_POOL,
                    user_pool_config=appsync.UserPoolConfig(user_pool=pool),
                )
            )
        return modes

    def _data_source(self, function: lambda_.Function) -> appsync.LambdaDataSource:
        name = function.node.id
        source = self.api.add_lambda_data_source(
            f"{name}Source", function, description=f"The {name.lower()} function of the inventory API"
        )
        stack = Stack.of(self)
        function_id = stack.resolve(stack.get_logical_id(function.node.default_child))  # type: ignore[arg-type]
        suppress(
            source.node.find_child("ServiceRole").node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5",
            "AppSync may invoke this one function; the :* that CDK's grantInvoke adds covers its versions and "
            "aliases, nothing else.",
            [f"Resource::<{function_id}.Arn>:*"],
        )
        return source
