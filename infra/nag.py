"""cdk-nag suppressions, written where the resource is made.

cdk-nag is a test tool (requirements-dev.txt), so the app does not import it: a suppression is the CloudFormation
metadata cdk-nag documents for that purpose (``cdk_nag.rules_to_suppress``), which its checks read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnResource
from constructs import IConstruct


def suppress(construct: IConstruct, rule_id: str, reason: str, applies_to: Sequence[str] = ()) -> None:
    """Suppress ``rule_id`` on the construct's CloudFormation resource, for one reason (and only for the findings
    listed in ``applies_to``, when given)."""
    resource = construct.node.default_child or construct
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource to carry a suppression")
    rule: dict[str, Any] = {"reason": reason, "id": rule_id}
    if applies_to:
        rule["applies_to"] = list(applies_to)
    metadata = resource.get_metadata("cdk_nag") or {}
    resource.add_metadata("cdk_nag", {"rules_to_suppress": [*metadata.get("rules_to_suppress", []), rule]})
