"""AWS's own checkers on the synthesized templates: cdk-nag (AwsSolutions pack) and cfn-lint."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Annotations, Match

from tests.infra.conftest import Synthesized

# cfn-lint warnings that are explained rather than fixed, by rule and resource type:
# W3005 on AWS::Lambda::Function: CDK makes every function DependsOn its role (Function adds a dependency on the role
# construct, which also brings in the role's policy, the dependency that matters); the role is referenced by GetAtt
# too, so cfn-lint finds that part redundant. Harmless, and not removable without dropping the policy dependency.
EXPLAINED_WARNINGS = {("W3005", "AWS::Lambda::Function")}
LINT_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
CFN_LINT = "import sys; from cfnlint.runner import main; sys.argv[0] = 'cfn-lint'; sys.exit(main())"  # its CLI


def _nag_findings(synth: Synthesized, level: str) -> list[str]:
    annotations = Annotations.from_stack(synth.stack)
    found = annotations.find_error if level == "error" else annotations.find_warning
    return [f"{m.id}: {m.entry.data}" for m in found("*", Match.string_like_regexp("AwsSolutions-.*"))]


def _suppressions(synth: Synthesized) -> list[tuple[str, str, dict[str, Any]]]:
    """(logical id, rule id, suppression) for every cdk-nag suppression in the template."""
    return [
        (logical_id, rule["id"], rule)
        for logical_id, resource in synth.json["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


def _suppressed_in_report(synth: Synthesized) -> set[tuple[str, str]]:
    """(logical id, rule id) of every finding cdk-nag's report marks as suppressed."""
    (report,) = synth.assembly_dir.glob("AwsSolutions-*NagReport.csv")
    stack = synth.stack
    logical_ids = {
        child.node.path: stack.resolve(child.logical_id)
        for child in stack.node.find_all()
        if isinstance(child, cdk.CfnResource)
    }
    with report.open() as lines:
        rows = list(csv.DictReader(lines))
    return {(logical_ids[row["Resource ID"]], row["Rule ID"]) for row in rows if row["Compliance"] == "Suppressed"}


def test_cdk_nag_finds_no_unsuppressed_error(any_env: Synthesized) -> None:
    assert _nag_findings(any_env, "error") == []


def test_cdk_nag_finds_no_unsuppressed_warning(any_env: Synthesized) -> None:
    assert _nag_findings(any_env, "warning") == []


def test_every_suppression_gives_a_reason_and_is_still_needed(any_env: Synthesized) -> None:
    suppressions = _suppressions(any_env)
    used = _suppressed_in_report(any_env)

    assert suppressions
    for logical_id, rule_id, rule in suppressions:
        assert len(rule["reason"]) >= 60, (logical_id, rule_id)
        assert (logical_id, rule_id) in used, f"{rule_id} on {logical_id} suppresses nothing: remove it"


def test_the_suppressions_are_the_reviewed_ones(dev: Synthesized, prod: Synthesized, variant: Synthesized) -> None:
    def kinds(synth: Synthesized) -> list[tuple[str, str]]:
        return sorted(
            (rule_id, synth.json["Resources"][logical_id]["Type"]) for logical_id, rule_id, _ in _suppressions(synth)
        )

    reviewed = [
        ("AwsSolutions-ASC3", "AWS::AppSync::GraphQLApi"),
        ("AwsSolutions-IAM5", "AWS::IAM::Policy"),  # data source roles: the function's versions and aliases
        ("AwsSolutions-IAM5", "AWS::IAM::Policy"),
        ("AwsSolutions-IAM5", "AWS::IAM::Policy"),  # stream handler role: dynamodb:ListStreams, which takes none
        ("AwsSolutions-IAM5", "AWS::IAM::Policy"),  # function roles: X-Ray, which takes no resource
        ("AwsSolutions-IAM5", "AWS::IAM::Policy"),
        ("AwsSolutions-IAM5", "AWS::IAM::Policy"),
        ("AwsSolutions-IAM5", "AWS::IAM::Policy"),
        ("AwsSolutions-L1", "AWS::Lambda::Function"),  # queries, mutations, expiry handler, stream handler
        ("AwsSolutions-L1", "AWS::Lambda::Function"),
        ("AwsSolutions-L1", "AWS::Lambda::Function"),
        ("AwsSolutions-L1", "AWS::Lambda::Function"),
        ("AwsSolutions-SMG4", "AWS::SecretsManager::Secret"),
    ]
    assert kinds(dev) == kinds(prod) == reviewed
    without_x_ray = list(reviewed)
    for _ in range(4):
        without_x_ray.remove(("AwsSolutions-IAM5", "AWS::IAM::Policy"))
    assert kinds(variant) == without_x_ray  # without X-Ray, the function roles need no suppression


def _lint(synthesized: Callable[[str], Synthesized]) -> list[dict[str, Any]]:
    paths = [str(synthesized(name).template_path) for name in ("dev", "prod", "variant")]
    result = subprocess.run(
        [sys.executable, "-c", CFN_LINT, "--format", "json", "--regions", *LINT_REGIONS, "--", *paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 2, 4, 6), result.stderr  # 2: errors, 4: warnings (both reported below)
    matches: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return matches


def test_cfn_lint_finds_no_error_and_only_explained_warnings(synthesized: Callable[[str], Synthesized]) -> None:
    matches = _lint(synthesized)
    templates = {str(synthesized(name).template_path): synthesized(name).json for name in ("dev", "prod", "variant")}

    def kind(match: dict[str, Any]) -> tuple[str, str]:
        path = match["Location"]["Path"]
        resources = templates[match["Filename"]]["Resources"]
        resource_type = resources[path[1]]["Type"] if len(path) > 1 and path[0] == "Resources" else ""
        return match["Rule"]["Id"], resource_type

    errors = [m for m in matches if m["Level"] == "Error"]
    unexplained = [m for m in matches if m["Level"] == "Warning" and kind(m) not in EXPLAINED_WARNINGS]
    assert errors == []
    assert unexplained == []
