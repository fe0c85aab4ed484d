"""EventForwarder: rules in the source Region whose targets put events on the home
Region's default bus through one role; addresses in the scope; errors."""

from __future__ import annotations

import json

import pytest
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.errors import ConfigError
from constructs_lib.event_forwarder import EventForwarder, EventForwarderProps, ForwardRuleProps
from tests.unit.synth_helpers import governance_findings

ACCOUNT = "123456789012"
HOME_BUS = f"arn:aws:events:ap-northeast-2:{ACCOUNT}:event-bus/default"
ALARMS = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
          "detail": {"alarmName": [{"prefix": "prod-route53-"}]}}
SIGN_IN = {"source": ["aws.signin"], "detail": {"eventName": ["ConsoleLogin"]}}


def us_east_1(stack) -> AwsProvider:
    return AwsProvider(stack, "aws-us_east_1", alias="us_east_1", region="us-east-1")


def props(tags, source_provider, **overrides) -> EventForwarderProps:
    values = {"name": "prod-alarms-forward", "tags": tags, "events": "alarm state changes",
              "source_provider": source_provider, "home_region": "ap-northeast-2",
              "account_id": ACCOUNT, "partition": "aws"}
    values.update(overrides)
    return EventForwarderProps(**values)


def rule(**overrides) -> ForwardRuleProps:
    values = {"name": "prod-alarms-forward", "description": "Alarms -> home bus",
              "pattern": ALARMS}
    values.update(overrides)
    return ForwardRuleProps(**values)


@pytest.fixture(scope="module")
def built(make_stack, synth, tags):
    stack = make_stack()
    forwarder = EventForwarder(stack, "alarms-forward", props(tags, us_east_1(stack)))
    forwarder.forward("forward-alarms", rule())
    forwarder.forward("rule-sign-in-forward", rule(name="prod-sign-in-forward",
                                                   description="Sign-ins", pattern=SIGN_IN))
    return forwarder, synth(stack)


def one(doc, kind, type_, prefix):
    (value,) = [v for k, v in doc[kind][type_].items() if k.startswith(prefix)]
    return value


def role_address(doc) -> str:
    (key,) = doc["resource"]["aws_iam_role"]
    return key


def test_rules_in_the_source_region_with_their_pattern(built, tags):
    _, doc = built
    rules = doc["resource"]["aws_cloudwatch_event_rule"]
    assert sorted(rules) == ["forward-alarms", "rule-sign-in-forward"]
    alarms = rules["forward-alarms"]
    assert alarms["provider"] == "aws.us_east_1"
    assert alarms["name"] == "prod-alarms-forward"
    assert alarms["description"] == "Alarms -> home bus"
    assert alarms["event_pattern"] == json.dumps(ALARMS, sort_keys=True)
    assert alarms["tags"] == tags.resource_tags("prod-alarms-forward")
    assert json.loads(rules["rule-sign-in-forward"]["event_pattern"]) == SIGN_IN


def test_each_rule_targets_the_home_bus_through_the_role(built):
    forwarder, doc = built
    targets = doc["resource"]["aws_cloudwatch_event_target"]
    assert sorted(targets) == ["forward-alarms-bus", "rule-sign-in-forward-bus"]
    for rule_id in ("forward-alarms", "rule-sign-in-forward"):
        target = targets[f"{rule_id}-bus"]
        assert target["provider"] == "aws.us_east_1"
        assert target["rule"] == f"${{aws_cloudwatch_event_rule.{rule_id}.name}}"
        assert target["target_id"] == "home-region-bus"
        assert target["arn"] == HOME_BUS == forwarder.home_bus_arn
        assert target["role_arn"] == f"${{aws_iam_role.{role_address(doc)}.arn}}"


def test_role_is_assumed_by_eventbridge_of_this_account_only(built, tags):
    _, doc = built
    role = doc["resource"]["aws_iam_role"][role_address(doc)]
    assert role["name"] == "prod-alarms-forward"
    assert role["description"] == ("Lets EventBridge in us-east-1 forward alarm state changes "
                                   "to the default bus in ap-northeast-2")
    assert role["tags"] == tags.resource_tags("prod-alarms-forward")
    assert "provider" not in role  # IAM is global; the home provider is enough
    (trust,) = one(doc, "data", "aws_iam_policy_document", "alarms-forward-role_trust")["statement"]
    assert trust["actions"] == ["sts:AssumeRole"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    assert trust["condition"] == [{"test": "StringEquals", "variable": "aws:SourceAccount",
                                   "values": [ACCOUNT]}]


def test_role_may_only_put_events_on_the_home_bus(built):
    _, doc = built
    policy = one(doc, "resource", "aws_iam_role_policy", "alarms-forward-role_")
    assert policy["name"] == "prod-alarms-forward-put-events"
    (statement,) = one(doc, "data", "aws_iam_policy_document",
                       "alarms-forward-role_policy-put-events")["statement"]
    assert statement["actions"] == ["events:PutEvents"]
    assert statement["resources"] == [HOME_BUS]


def test_resources_are_addressed_as_if_created_in_the_scope(built):
    """Stacks adopting the construct keep their addresses and `//` paths."""
    _, doc = built
    assert role_address(doc).startswith("alarms-forward-role_")
    role = doc["resource"]["aws_iam_role"][role_address(doc)]
    assert role["//"]["metadata"]["path"] == "unit/alarms-forward-role/role"
    rules = doc["resource"]["aws_cloudwatch_event_rule"]
    assert rules["forward-alarms"]["//"]["metadata"]["path"] == "unit/forward-alarms"


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props, the forwarder leaves no governance finding."""
    EventForwarder(stack, "alarms-forward", props(tags, us_east_1(stack)))
    assert governance_findings(stack) == []


@pytest.mark.parametrize("overrides, field, shown, allowed", [
    ({"name": "alarms-forward"}, "name", "'alarms-forward'",
     "allowed is a kebab-case name starting with 'prod-'"),
    ({"name": "prod-" + "x" * 60}, "name", "'prod-" + "x" * 60 + "'",
     "allowed are at most 64 characters"),
    ({"events": " "}, "events", "' '", "a few words saying what is forwarded"),
    ({"home_region": "Seoul"}, "home_region", "'Seoul'",
     "allowed is a Region such as 'ap-northeast-2'"),
    ({"account_id": "12345"}, "account_id", "'12345'", "allowed is a 12-digit AWS account id"),
    ({"partition": "amazon"}, "partition", "'amazon'",
     "allowed is an AWS partition such as 'aws' or 'aws-cn'"),
    ({"home_region": "us-east-1"}, "source_provider", "'unit/aws-us_east_1'",
     "its Region 'us-east-1' is the home Region; forwarding a default bus to itself would "
     "loop, so build no forwarder there"),
])
def test_rejects_bad_props(stack, tags, overrides, field, shown, allowed):
    with pytest.raises(ConfigError) as err:
        EventForwarder(stack, "bad", props(tags, us_east_1(stack), **overrides))
    assert f"unit/bad: {field} is {shown}; {allowed}" in str(err.value)
    # Nothing is created before the props are checked.
    assert stack.node.try_find_child("bad-role") is None


@pytest.mark.parametrize("overrides, field, shown, allowed", [
    ({"name": "sign-in-forward"}, "name", "'sign-in-forward'",
     "allowed is a kebab-case name starting with 'prod-'"),
    ({"description": ""}, "description", "''", "a description is required"),
    ({"description": "d" * 513}, "description", "'" + "d" * 513 + "'",
     "allowed are at most 512 characters"),
    ({"pattern": {}}, "pattern", "{}", "allowed is a non-empty event pattern mapping"),
])
def test_rejects_bad_rules(stack, tags, overrides, field, shown, allowed):
    forwarder = EventForwarder(stack, "fwd", props(tags, us_east_1(stack)))
    with pytest.raises(ConfigError) as err:
        forwarder.forward("bad-rule", rule(**overrides))
    assert f"unit/bad-rule: {field} is {shown}; {allowed}" in str(err.value)
    assert stack.node.try_find_child("bad-rule") is None
    assert stack.node.try_find_child("bad-rule-bus") is None
