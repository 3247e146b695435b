"""A WAF web ACL in front of the API: a rate limit per client IP and AWS's IP reputation list."""

from __future__ import annotations

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import WebAclConfig

RATE_LIMIT_RULE = "RateLimitPerIp"
IP_REPUTATION_RULE = "AwsIpReputation"


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


class WebAcl(Construct):
    """Blocks a client IP above its request rate (AppSync has no per-client throttling of its own) and requests from
    addresses on AWS's reputation list (bots, scanners); allows everything else."""

    def __init__(self, scope: Construct, construct_id: str, *, config: WebAclConfig, api_arn: str) -> None:
        super().__init__(scope, construct_id)
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("InventoryApiWebAcl"),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name=RATE_LIMIT_RULE,
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=config.requests_per_ip_per_5_minutes,
                            evaluation_window_sec=300,
                        )
                    ),
                    visibility_config=_visibility(RATE_LIMIT_RULE),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name=IP_REPUTATION_RULE,
                    priority=1,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesAmazonIpReputationList"
                        )
                    ),
                    visibility_config=_visibility(IP_REPUTATION_RULE),
                ),
            ],
        )
        wafv2.CfnWebACLAssociation(self, "Association", resource_arn=api_arn, web_acl_arn=self.web_acl.attr_arn)
