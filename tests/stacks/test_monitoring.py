"""monitoring stack: AMP and AMG with its role, the three alert topics, the
Atlantis alarms, and the EventBridge routing of earlier stacks' alarms."""

from __future__ import annotations

import json

import pytest

from stacks.registry import STACKS, spec_of
from tests.stacks.synth_json import (
    address,
    by_name,
    one,
    policy,
    producers,
    published,
    reads,
    ref,
    resources,
    ssm,
)

MONITORING_KEY = "${data.aws_ssm_parameter.from-kms-monitoring-key-arn.insecure_value}"
LOGS_KEY = "${data.aws_ssm_parameter.from-kms-logs-key-arn.insecure_value}"
SNS_KEY = "${data.aws_ssm_parameter.from-kms-sns-key-arn.insecure_value}"
ACCOUNT = "${data.aws_caller_identity.account.account_id}"
PARTITION = "${data.aws_partition.partition.partition}"
HOME_BUS = f"arn:{PARTITION}:events:ap-northeast-2:{ACCOUNT}:event-bus/default"
PHASE = spec_of("monitoring").phase
EARLIER_STACKS = tuple(s.name for s in STACKS if s.phase.number < PHASE.number)
"""The stacks whose alarms monitoring routes: every stack of an earlier phase, from the
registry (a new stack's alarms are expected routed without editing this test)."""
SAME_PHASE = tuple(s.name for s in STACKS if s.phase == PHASE)
"""monitoring and the stacks deployed beside it (logging, cloudtrail), from the registry."""


@pytest.fixture(scope="module")
def monitoring(stack_json):
    return stack_json("monitoring")


def test_prometheus_workspace_encrypted_and_logging(monitoring):
    workspace = one(monitoring, "aws_prometheus_workspace")
    assert workspace["alias"] == "prod-amp"
    assert workspace["kms_key_arn"] == MONITORING_KEY
    group = by_name(monitoring, "aws_cloudwatch_log_group")["/aws/vendedlogs/prometheus/prod-amp"]
    assert group["kms_key_id"] == LOGS_KEY
    assert group["retention_in_days"] == 365
    log_group = ref(address(monitoring, "aws_cloudwatch_log_group",
                            name="/aws/vendedlogs/prometheus/prod-amp"), "arn")
    assert workspace["logging_configuration"] == {"log_group_arn": f"{log_group}:*"}


def test_grafana_workspace(monitoring):
    grafana = one(monitoring, "aws_grafana_workspace")
    assert grafana["name"] == "prod-grafana"
    assert grafana["account_access_type"] == "CURRENT_ACCOUNT"
    assert grafana["authentication_providers"] == ["AWS_SSO"]
    assert grafana["permission_type"] == "CUSTOMER_MANAGED"
    assert grafana["role_arn"] == ref(address(monitoring, "aws_iam_role", name="prod-grafana"),
                                      "arn")
    assert sorted(grafana["data_sources"]) == ["CLOUDWATCH", "PROMETHEUS"]


def test_grafana_role_trusts_only_grafana_of_this_account(monitoring):
    role = by_name(monitoring, "aws_iam_role")["prod-grafana"]
    (trust,) = policy(monitoring, role["assume_role_policy"])["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["grafana.amazonaws.com"]}]
    assert {"test": "StringEquals", "variable": "aws:SourceAccount",
            "values": [ACCOUNT]} in trust["condition"]


def test_grafana_role_reads_only(monitoring):
    policies = by_name(monitoring, "aws_iam_role_policy")
    statements = [s for name in ("prod-grafana-prometheus-query", "prod-grafana-cloudwatch-read")
                  for s in policy(monitoring, policies[name]["policy"])["statement"]]
    actions = {a for s in statements for a in s["actions"]}
    assert {"aps:QueryMetrics", "cloudwatch:GetMetricData", "logs:StartQuery"} <= actions
    verbs = ("Describe", "Get", "List", "Query", "Start", "Stop")
    assert all(a.split(":")[1].startswith(verbs) for a in actions), actions
    query = next(s for s in statements if "aps:QueryMetrics" in s["actions"])
    workspace = address(monitoring, "aws_prometheus_workspace", alias="prod-amp")
    assert query["resources"] == [ref(workspace, "arn")]
    assert all("*" not in s["actions"] for s in statements)


def test_three_encrypted_topics_publishable_by_cloudwatch_and_eventbridge(monitoring):
    topics = by_name(monitoring, "aws_sns_topic")
    assert sorted(topics) == ["prod-alerts-critical", "prod-alerts-info", "prod-alerts-warning"]
    assert {t["kms_master_key_id"] for t in topics.values()} == {SNS_KEY}
    for topic_policy in resources(monitoring, "aws_sns_topic_policy").values():
        statements = policy(monitoring, topic_policy["policy"])["statement"]
        services = [p for s in statements for p in s.get("principals", [])
                    if p["type"] == "Service"]
        assert services == [{"type": "Service", "identifiers": [
            "cloudwatch.amazonaws.com", "events.amazonaws.com"]}]


def test_only_critical_mails_the_alarm_address(monitoring):
    (subscription,) = resources(monitoring, "aws_sns_topic_subscription").values()
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == "platform@example.com"
    assert subscription["topic_arn"] == ref(
        address(monitoring, "aws_sns_topic", name="prod-alerts-critical"), "arn")


def test_atlantis_alarms_act_on_the_topic_of_their_severity(monitoring):
    alarms = by_name(monitoring, "aws_cloudwatch_metric_alarm", "alarm_name")
    assert {"prod-monitoring-atlantis-alb-5xx-critical",
            "prod-monitoring-atlantis-healthy-hosts-low-critical",
            "prod-monitoring-atlantis-cpu-high-warning",
            "prod-monitoring-atlantis-memory-high-critical"} <= set(alarms)
    for name, alarm in alarms.items():
        severity = name.rsplit("-", 1)[1]
        topic = ref(address(monitoring, "aws_sns_topic", name=f"prod-alerts-{severity}"), "arn")
        assert alarm["alarm_actions"] == [topic]
        assert alarm["actions_enabled"] is True


def test_atlantis_alarm_dimensions_come_from_the_atlantis_stack(monitoring):
    alarms = by_name(monitoring, "aws_cloudwatch_metric_alarm", "alarm_name")
    ssm = "${{data.aws_ssm_parameter.from-atlantis-{}.insecure_value}}"
    alb = alarms["prod-monitoring-atlantis-healthy-hosts-low-critical"]
    assert alb["namespace"] == "AWS/ApplicationELB"
    assert alb["dimensions"] == {"LoadBalancer": ssm.format("alb-arn-suffix"),
                                 "TargetGroup": ssm.format("target-group-arn-suffix")}
    ecs = alarms["prod-monitoring-atlantis-cpu-high-warning"]
    assert ecs["namespace"] == "AWS/ECS"
    assert ecs["dimensions"] == {"ClusterName": ssm.format("ecs-cluster-name"),
                                 "ServiceName": ssm.format("ecs-service-name")}


def test_earlier_alarms_are_routed_by_severity(monitoring):
    rules = {n: r for n, r in by_name(monitoring, "aws_cloudwatch_event_rule").items()
             if "provider" not in r and n.startswith("prod-alarms-")}
    assert sorted(rules) == ["prod-alarms-critical", "prod-alarms-info", "prod-alarms-warning"]
    targets = by_name(monitoring, "aws_cloudwatch_event_target", "rule")
    for severity in ("critical", "warning", "info"):
        name = f"prod-alarms-{severity}"
        pattern = json.loads(rules[name]["event_pattern"])
        assert pattern["source"] == ["aws.cloudwatch"]
        assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
        # Every earlier stack's alarms, never this stack's own (they act directly).
        assert pattern["detail"]["alarmName"] == [
            {"wildcard": f"prod-{stack}-*-{severity}"} for stack in EARLIER_STACKS]
        target = targets[ref(address(monitoring, "aws_cloudwatch_event_rule", name=name), "name")]
        topic = address(monitoring, "aws_sns_topic", name=f"prod-alerts-{severity}")
        assert target["arn"] == ref(topic, "arn")
        assert "<alarm>" in target["input_transformer"]["input_template"]


@pytest.mark.parametrize(("severity", "categories"), [
    ("critical", ["failover", "failure", "low storage"]),
    ("warning", ["maintenance", "notification"]),
])
def test_rds_events_of_the_database_go_to_their_topic(monitoring, severity, categories):
    name = f"prod-rds-events-{severity}"
    rule = by_name(monitoring, "aws_cloudwatch_event_rule")[name]
    assert "provider" not in rule, "RDS events arrive on the home Region's default bus"
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.rds"],
        "detail-type": ["RDS DB Instance Event"],
        # Only our instance, by the identifier the rds stack publishes.
        "detail": {"SourceIdentifier": [ssm("from-rds-db-instance-id")],
                   "EventCategories": categories},
    }
    target = by_name(monitoring, "aws_cloudwatch_event_target", "rule")[
        ref(address(monitoring, "aws_cloudwatch_event_rule", name=name), "name")]
    topic = address(monitoring, "aws_sns_topic", name=f"prod-alerts-{severity}")
    assert target["arn"] == ref(topic, "arn")
    assert target["input_transformer"]["input_paths"]["instance"] == "$.detail.SourceIdentifier"
    assert "<instance>" in target["input_transformer"]["input_template"]


def test_rds_events_name_the_instance_of_the_rds_stack(monitoring, stack_json):
    rds = stack_json("rds")
    instance = address(rds, "aws_db_instance", identifier="prod-mysql")
    assert published(rds)["/prod/rds/db-instance-id"] == ref(instance, "identifier")
    assert "/prod/rds/db-instance-id" in reads(monitoring)
    # rds deploys in an earlier phase: monitoring reads it, never the other way round.
    assert spec_of("rds").phase.number < PHASE.number
    assert "aws_db_event_subscription" not in rds["resource"]
    patterns = [json.loads(r["event_pattern"])
                for r in by_name(monitoring, "aws_cloudwatch_event_rule").values()
                if json.loads(r["event_pattern"])["source"] == ["aws.rds"]]
    routed = [c for p in patterns for c in p["detail"]["EventCategories"]]
    assert sorted(routed) == ["failover", "failure", "low storage", "maintenance",
                              "notification"], "each category goes to one topic"


def test_route53_alarms_are_forwarded_from_us_east_1(monitoring):
    rule = by_name(monitoring, "aws_cloudwatch_event_rule")["prod-alarms-forward"]
    assert rule["provider"] == "aws.us_east_1"
    pattern = json.loads(rule["event_pattern"])
    assert {"prefix": "prod-route53-"} in pattern["detail"]["alarmName"]
    target = next(t for t in resources(monitoring, "aws_cloudwatch_event_target").values()
                  if t.get("provider"))
    assert target["arn"] == HOME_BUS
    role_address = address(monitoring, "aws_iam_role", name="prod-alarms-forward")
    assert target["role_arn"] == ref(role_address, "arn")
    role = by_name(monitoring, "aws_iam_role")["prod-alarms-forward"]
    (trust,) = policy(monitoring, role["assume_role_policy"])["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["events.amazonaws.com"]}]
    inline = by_name(monitoring, "aws_iam_role_policy")["prod-alarms-forward-put-events"]
    (statement,) = policy(monitoring, inline["policy"])["statement"]
    assert statement["actions"] == ["events:PutEvents"] and statement["resources"] == [HOME_BUS]


def test_publishes(monitoring):
    assert {"/prod/monitoring/critical-topic-arn", "/prod/monitoring/warning-topic-arn",
            "/prod/monitoring/info-topic-arn", "/prod/monitoring/prometheus-workspace-id"} <= set(
        published(monitoring))


def test_monitoring_shares_its_phase_with_logging_and_cloudtrail():
    assert set(SAME_PHASE) == {"logging", "monitoring", "cloudtrail"}


@pytest.mark.parametrize("stack", SAME_PHASE)
def test_stacks_of_one_phase_read_nothing_from_each_other(stack_json, stack):
    read_from = producers(stack_json(stack))
    assert read_from.isdisjoint(SAME_PHASE), read_from
    assert all(spec_of(p).phase.number < PHASE.number for p in read_from), read_from


def test_state_backend(monitoring):
    assert monitoring["terraform"]["backend"]["s3"]["key"] == "monitoring/terraform.tfstate"
