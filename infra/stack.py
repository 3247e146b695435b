"""The inventory API's one stack: table, configuration, functions, API, events, hold expiry, monitoring and (by
config) protection."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack, Tags
from constructs import Construct

from infra.api import AppSyncApi
from infra.config import EnvironmentConfig
from infra.configuration import Configuration
from infra.events import StockEvents
from infra.expiry import HoldExpiry
from infra.functions import ResolverFunctions, metrics_namespace
from infra.monitoring import Monitoring
from infra.protection import WebAcl
from infra.table import InventoryTable


class InventoryStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("project", "inventory-api")
        Tags.of(self).add("environment", config.name)

        table = InventoryTable(self, "Table", config=config.table, removal_policy=config.removal_policy)
        configuration = Configuration(self, "Configuration", path=config.parameter_path, settings=config.api_settings)
        functions = ResolverFunctions(
            self,
            "Functions",
            config=config.functions,
            expiry=config.expiry,
            environment=config.name,
            table=table,
            configuration=configuration,
            removal_policy=config.removal_policy,
            tracing=config.api.xray,
        )
        api = AppSyncApi(
            self,
            "GraphqlApi",
            config=config.api,
            name=f"inventory-{config.name}",
            functions=functions,
            log_retention=config.functions.log_retention,
            removal_policy=config.removal_policy,
        )
        stock_events = StockEvents(
            self,
            "Events",
            config=config.events,
            table=table,
            functions=functions,
            graphql_url=api.api.graphql_url,
            graphql_api_arn=api.api.arn,
            log_retention=config.functions.log_retention,
            removal_policy=config.removal_policy,
        )
        expiry = HoldExpiry(
            self, "Expiry", config=config.expiry, functions=functions, stream_function=stock_events.function
        )
        configuration.publish("table-name", table.table.table_name, "The inventory table's name")
        configuration.publish("graphql-url", api.api.graphql_url, "The inventory GraphQL API's URL")
        Monitoring(
            self,
            "Monitoring",
            config=config.monitoring,
            api_id=api.api.api_id,
            functions=functions.all,
            function_timeout=Duration.seconds(config.functions.timeout_seconds),
            table=table.table,
            metrics_namespace=metrics_namespace(config.name),
            stream_function=stock_events.function,
            failure_queue=stock_events.failure_queue,
            holds_queue=expiry.queue,
            holds_dead_letters=expiry.dead_letters,
        )
        if config.web_acl is not None:
            WebAcl(self, "Protection", config=config.web_acl, api_arn=api.api.arn)

        CfnOutput(self, "GraphqlUrl", value=api.api.graphql_url, description="GraphQL endpoint")
        CfnOutput(self, "RealtimeUrl", value=api.realtime_url, description="Subscriptions (WebSocket) endpoint")
        CfnOutput(
            self,
            "ApiKeyId",
            value=api.api_key.attr_api_key_id,
            description="The API key: AppSync keys are their own id (send it as x-api-key)",
        )
        CfnOutput(self, "TableName", value=table.table.table_name, description="The DynamoDB table")
        CfnOutput(
            self,
            "EventBusName",
            value=stock_events.bus.event_bus_name,
            description="The EventBridge bus of the inventory events (source inventory)",
        )
