"""The WAF web ACL: on in prod by config, a rate limit per client IP and AWS's IP reputation list."""

from __future__ import annotations

from tests.infra.conftest import Synthesized


def test_prod_puts_a_regional_web_acl_in_front_of_the_api(prod: Synthesized) -> None:
    assert prod.config.web_acl is not None
    (acl_id, acl) = prod.one("AWS::WAFv2::WebACL")
    (_, association) = prod.one("AWS::WAFv2::WebACLAssociation")
    api_id = prod.one("AWS::AppSync::GraphQLApi")[0]
    properties = acl["Properties"]
    rules = {rule["Name"]: rule for rule in properties["Rules"]}

    assert (properties["Scope"], properties["DefaultAction"]) == ("REGIONAL", {"Allow": {}})
    assert rules["RateLimitPerIp"]["Action"] == {"Block": {}}
    assert rules["RateLimitPerIp"]["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 300,
        "Limit": prod.config.web_acl.requests_per_ip_per_5_minutes,
    }
    assert rules["AwsIpReputation"]["Statement"]["ManagedRuleGroupStatement"] == {
        "Name": "AWSManagedRulesAmazonIpReputationList",
        "VendorName": "AWS",
    }
    assert rules["AwsIpReputation"]["OverrideAction"] == {"None": {}}  # the group's own block actions apply
    assert association["Properties"] == {
        "ResourceArn": {"Fn::GetAtt": [api_id, "Arn"]},
        "WebACLArn": {"Fn::GetAtt": [acl_id, "Arn"]},
    }


def test_dev_has_no_web_acl_and_no_fixed_waf_cost(dev: Synthesized) -> None:
    assert dev.config.web_acl is None
    dev.template.resource_count_is("AWS::WAFv2::WebACL", 0)
    dev.template.resource_count_is("AWS::WAFv2::WebACLAssociation", 0)
