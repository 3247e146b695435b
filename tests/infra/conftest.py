"""Synthesized stacks, built once per session and environment, with cdk-nag's AwsSolutions checks applied.

Everything here runs offline: the stacks are environment-agnostic (no account, no region), and no AWS call is made.
Besides dev and prod, a ``variant`` environment turns on what neither selects: provisioned capacity with auto-scaling,
a Cognito user pool with its own writers group, an alarm email, no X-Ray.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

# jsii warns on every start about Node versions it has not tested or no longer supports (Node 20): quiet.
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from aws_cdk.aws_logs import RetentionDays
from cdk_nag import AwsSolutionsChecks

from infra.app import build
from infra.config import ENVIRONMENTS, EnvironmentConfig, MonitoringConfig, Provisioned

ROOT = Path(__file__).resolve().parents[2]
CDK_JSON = json.loads((ROOT / "cdk.json").read_text())

VARIANT = replace(
    ENVIRONMENTS["dev"],
    name="variant",
    table=replace(
        ENVIRONMENTS["dev"].table,
        capacity=Provisioned(min_read_capacity=5, max_read_capacity=50, min_write_capacity=5, max_write_capacity=20),
    ),
    api=replace(
        ENVIRONMENTS["dev"].api,
        cognito_user_pool_id="eu-west-1_Example1",
        cognito_writers_group="shop-staff",
        xray=False,
    ),
    monitoring=MonitoringConfig(alarm_email="ops@example.com"),
)
# RetentionDays members are named, not numbered, in Python: the days CloudFormation gets for the ones the configs use.
RETENTION_DAYS = {RetentionDays.ONE_WEEK: 7, RetentionDays.ONE_MONTH: 30, RetentionDays.THREE_MONTHS: 90}
CONFIGS: dict[str, EnvironmentConfig] = {**ENVIRONMENTS, "variant": VARIANT}


@dataclass(frozen=True)
class Synthesized:
    """One environment's stack, synthesized: its template, its cloud assembly directory and its config."""

    config: EnvironmentConfig
    stack: cdk.Stack
    template: Template
    assembly_dir: Path

    @property
    def template_path(self) -> Path:
        return self.assembly_dir / f"{self.stack.stack_name}.template.json"

    @functools.cached_property
    def json(self) -> dict[str, Any]:
        """The template as written to the cloud assembly (read once: each jsii call costs a round trip to Node)."""
        template: dict[str, Any] = json.loads(self.template_path.read_text())
        return template

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {key: r for key, r in self.json["Resources"].items() if r["Type"] == resource_type}

    def one(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        (found,) = self.resources(resource_type).items()
        return found


def synthesize(config: EnvironmentConfig, outdir: Path) -> Synthesized:
    app = cdk.App(context={**CDK_JSON["context"], "env": config.name}, outdir=str(outdir))
    # dev and prod: exactly what `cdk synth -c env=<name>` builds from the context.
    stack = build(app) if config.name in ENVIRONMENTS else build(app, config)
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    app.synth()
    return Synthesized(config, stack, Template.from_stack(stack), outdir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Synthesized]]:
    """``synthesized(name)``: the stack of environment ``name``, synthesized on first use, then reused."""
    cache: dict[str, Synthesized] = {}

    def get(name: str) -> Synthesized:
        if name not in cache:
            cache[name] = synthesize(CONFIGS[name], tmp_path_factory.mktemp(f"cdk.out-{name}"))
        return cache[name]

    yield get


@pytest.fixture(params=["dev", "prod"])
def env(request: pytest.FixtureRequest, synthesized: Callable[[str], Synthesized]) -> Synthesized:
    """Each deployable environment in turn."""
    return synthesized(request.param)


@pytest.fixture(params=["dev", "prod", "variant"])
def any_env(request: pytest.FixtureRequest, synthesized: Callable[[str], Synthesized]) -> Synthesized:
    """The deployable environments and the variant."""
    return synthesized(request.param)


@pytest.fixture
def dev(synthesized: Callable[[str], Synthesized]) -> Synthesized:
    return synthesized("dev")


@pytest.fixture
def prod(synthesized: Callable[[str], Synthesized]) -> Synthesized:
    return synthesized("prod")


@pytest.fixture
def variant(synthesized: Callable[[str], Synthesized]) -> Synthesized:
    return synthesized("variant")


def logical_id(synth: Synthesized, resource_type: str, construct_path: str) -> str:
    """The logical id of the resource of that type made by the construct at ``construct_path`` ("Functions/Queries"):
    CDK derives it from the path, plus a hash."""
    prefix = construct_path.replace("/", "")
    (match,) = [key for key in synth.resources(resource_type) if re.fullmatch(prefix + "[0-9A-F]{8}", key)]
    return match
