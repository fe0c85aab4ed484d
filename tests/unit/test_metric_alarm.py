"""MetricAlarm: the `<env>-<stack>-<what>-<severity>` name the routing matches, the
address in its scope, dimensions, actions, provider, errors."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.errors import ConfigError
from constructs_lib.metric_alarm import (
    SEVERITIES,
    AlarmThresholdProps,
    MetricAlarm,
    MetricAlarmProps,
    alarm_name,
    severity_wildcard,
    stack_alarms_prefix,
)
from constructs_lib.refs import TopicRef
from tests.unit.synth_helpers import governance_findings

CPU = AlarmThresholdProps(
    what="cpu-high", severity="critical", namespace="AWS/RDS", metric_name="CPUUtilization",
    dimensions=("DBInstanceIdentifier",), comparison_operator="GreaterThanThreshold",
    threshold=80, statistic="Average", evaluation_periods=3,
    description="CPU above 80 % for 15 minutes.",
)
TOPIC = TopicRef(arn="arn:aws:sns:ap-northeast-2:123456789012:prod-alerts-critical")
VALUES = {"DBInstanceIdentifier": "prod-mysql", "ClusterName": "prod-atlantis"}


def props(tags, **overrides) -> MetricAlarmProps:
    values = {"alarm": CPU, "stack": "rds", "tags": tags, "dimension_values": VALUES}
    values.update(overrides)
    return MetricAlarmProps(**values)


@pytest.fixture(scope="module")
def built(make_stack, synth, tags):
    stack = make_stack()
    us_east_1 = AwsProvider(stack, "aws-us_east_1", alias="us_east_1", region="us-east-1")
    routed = MetricAlarm(stack, "alarm-cpu-high", props(tags))
    MetricAlarm(stack, "alarm-memory-high", props(
        tags, stack="monitoring", actions=(TOPIC,),
        alarm=replace(CPU, what="memory-high", severity="warning", period=60,
                      treat_missing_data="breaching")))
    MetricAlarm(stack, "health", props(
        tags, stack="route53", provider=us_east_1, dimension_values={"HealthCheckId": "abc"},
        alarm=replace(CPU, what="atlantis-health", namespace="AWS/Route53",
                      metric_name="HealthCheckStatus", dimensions=("HealthCheckId",))))
    return routed, synth(stack)["resource"]["aws_cloudwatch_metric_alarm"]


def test_name_is_environment_stack_what_severity(built, tags):
    routed, alarms = built
    alarm = alarms["alarm-cpu-high"]
    assert alarm["alarm_name"] == "prod-rds-cpu-high-critical" == routed.name
    assert alarm["tags"] == tags.resource_tags("prod-rds-cpu-high-critical")
    assert alarms["alarm-memory-high"]["alarm_name"] == "prod-monitoring-memory-high-warning"


def test_routing_patterns_match_the_names_the_construct_gives():
    """The monitoring stack's EventBridge rules use these; one definition for both."""
    name = alarm_name("prod", "rds", "cpu-high", "critical")
    assert name.startswith(stack_alarms_prefix("prod", "rds")) and name.endswith("-critical")
    for severity in SEVERITIES:
        wildcard = re.escape(severity_wildcard("prod", "rds", severity)).replace(r"\*", ".*")
        assert bool(re.fullmatch(wildcard, name)) == (severity == "critical")
    assert not name.startswith(stack_alarms_prefix("prod", "route53"))


def test_the_resource_takes_the_construct_id_in_its_scope(built):
    """Stacks that adopt the construct keep their alarms' addresses and `//` paths."""
    routed, alarms = built
    assert sorted(alarms) == ["alarm-cpu-high", "alarm-memory-high", "health"]
    assert alarms["alarm-cpu-high"]["//"]["metadata"] == {
        "path": "unit/alarm-cpu-high", "uniqueId": "alarm-cpu-high"}
    assert routed.node.path == "unit/alarm-cpu-high"


def test_threshold_and_every_evaluated_period_must_breach(built):
    _, alarms = built
    alarm = alarms["alarm-cpu-high"]
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (
        "AWS/RDS", "CPUUtilization", "Average")
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 80)
    assert (alarm["period"], alarm["evaluation_periods"], alarm["datapoints_to_alarm"]) == (
        300, 3, 3)
    assert alarm["treat_missing_data"] == "notBreaching"
    assert alarm["alarm_description"] == "CPU above 80 % for 15 minutes."
    memory = alarms["alarm-memory-high"]
    assert (memory["period"], memory["treat_missing_data"]) == (60, "breaching")


def test_only_the_named_dimensions_are_used(built):
    _, alarms = built
    assert alarms["alarm-cpu-high"]["dimensions"] == {"DBInstanceIdentifier": "prod-mysql"}
    assert alarms["health"]["dimensions"] == {"HealthCheckId": "abc"}


def test_actions_enabled_and_given_topics_told_on_alarm_and_ok(built):
    _, alarms = built
    routed = alarms["alarm-cpu-high"]
    assert routed["actions_enabled"] is True
    assert "alarm_actions" not in routed and "ok_actions" not in routed
    direct = alarms["alarm-memory-high"]
    assert direct["alarm_actions"] == direct["ok_actions"] == [TOPIC.arn]


def test_provider_places_the_alarm_in_another_region(built):
    _, alarms = built
    assert alarms["health"]["provider"] == "aws.us_east_1"
    assert "provider" not in alarms["alarm-cpu-high"]


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props (and values for the alarm's dimensions), the
    alarm leaves no governance finding."""
    MetricAlarm(stack, "alarm-cpu-high", props(tags))
    assert governance_findings(stack) == []


@pytest.mark.parametrize("overrides, field, shown, allowed", [
    ({"stack": "RDS"}, "stack", "'RDS'", "allowed is the kebab-case name of a stack"),
    ({"alarm": replace(CPU, what="CPU_high")}, "alarm.what", "'CPU_high'",
     "allowed is a kebab-case name such as 'cpu-high'"),
    ({"alarm": replace(CPU, what="x" * 240)}, "alarm.what", "'" + "x" * 240 + "'",
     "the alarm name 'prod-rds-" + "x" * 240 + "-critical' may have at most 255 characters"),
    ({"alarm": replace(CPU, severity="urgent")}, "alarm.severity", "'urgent'",
     "allowed is one of ('critical', 'warning', 'info')"),
    ({"alarm": replace(CPU, namespace=" ")}, "alarm.namespace", "' '",
     "allowed is a non-empty name"),
    ({"alarm": replace(CPU, statistic="Mean")}, "alarm.statistic", "'Mean'",
     "allowed is one of ('Average',"),
    ({"alarm": replace(CPU, comparison_operator="LessThanLowerThreshold")},
     "alarm.comparison_operator", "'LessThanLowerThreshold'",
     "allowed is one of ('GreaterThanOrEqualToThreshold',"),
    ({"alarm": replace(CPU, threshold="80")}, "alarm.threshold", "'80'", "allowed is a number"),
    ({"alarm": replace(CPU, period=90)}, "alarm.period", "90",
     "allowed are (10, 20, 30) or a multiple of 60 seconds"),
    ({"alarm": replace(CPU, evaluation_periods=0)}, "alarm.evaluation_periods", "0",
     "allowed is a whole number of at least 1"),
    ({"alarm": replace(CPU, treat_missing_data="zero")}, "alarm.treat_missing_data", "'zero'",
     "allowed is one of ('breaching',"),
    ({"alarm": "cpu-high"}, "alarm", "'cpu-high'", "allowed is an AlarmThresholdProps"),
    ({"alarm": replace(CPU, dimensions="DBInstanceIdentifier")}, "alarm.dimensions",
     "'DBInstanceIdentifier'", "allowed is a tuple of dimension names"),
    ({"actions": TOPIC}, "actions", repr(TOPIC), "allowed is a tuple of TopicRefs"),
    ({"alarm": replace(CPU, description="")}, "alarm.description", "''",
     "a description that tells the reader what is wrong is required"),
    ({"dimension_values": {"ClusterName": "prod-atlantis"}}, "dimension_values",
     "{'ClusterName': 'prod-atlantis'}",
     "alarm.dimensions also names 'DBInstanceIdentifier', which needs a value here"),
    ({"actions": (TOPIC.arn,)}, "actions", repr(TOPIC.arn),
     "allowed are TopicRefs (e.g. `SnsTopic(...).ref`)"),
])
def test_rejects_bad_props(stack, tags, overrides, field, shown, allowed):
    with pytest.raises(ConfigError) as err:
        MetricAlarm(stack, "bad", props(tags, **overrides))
    assert f"unit/bad: {field} is {shown}; {allowed}" in str(err.value)
    # Nothing is created before the props are checked.
    assert stack.node.try_find_child("bad") is None


def test_reports_every_problem_at_once(stack, tags):
    with pytest.raises(ConfigError) as err:
        MetricAlarm(stack, "bad", props(tags, stack="RDS",
                                        alarm=replace(CPU, severity="urgent", period=0)))
    assert [p.split(" is ")[0] for p in err.value.problems] == [
        "unit/bad: stack", "unit/bad: alarm.severity", "unit/bad: alarm.period"]
