"""``python -m infra.app``: the CDK app. ``-c env=dev|prod`` picks the environment (cdk.json defaults to dev);
``-c alarmEmail=you@example.com`` subscribes an address to the alarms. Account and region come from the AWS
credentials the CDK CLI runs with: the stack hard-codes neither."""

from __future__ import annotations

from dataclasses import replace

import aws_cdk as cdk

from infra.config import EnvironmentConfig, environment
from infra.stack import InventoryStack


def configure(app: cdk.App) -> EnvironmentConfig:
    config = environment(app.node.try_get_context("env") or "dev")
    alarm_email = app.node.try_get_context("alarmEmail")
    if alarm_email:
        config = replace(config, monitoring=replace(config.monitoring, alarm_email=alarm_email))
    return config


def build(app: cdk.App, config: EnvironmentConfig | None = None) -> InventoryStack:
    """The app's one stack, for the environment the context selects (or ``config``, in tests)."""
    config = config or configure(app)
    return InventoryStack(
        app,
        f"InventoryApi-{config.name}",
        config=config,
        description=f"Inventory GraphQL API ({config.name}): AppSync, Python Lambda resolvers, DynamoDB",
    )


def main() -> None:
    app = cdk.App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
