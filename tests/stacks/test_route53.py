"""route53 stack: the public zone, query logging into an encrypted us-east-1
log group, and the Atlantis health check with its us-east-1 alarm."""

from __future__ import annotations

import pytest

from tests.stacks.synth_json import one, policy_at, published, resources, statements

US_EAST_1 = "aws.us_east_1"


@pytest.fixture(scope="module")
def dns(stack_json):
    return stack_json("route53")


def test_us_east_1_provider_with_the_required_tags(dns):
    providers = {p.get("alias"): p for p in dns["provider"]["aws"]}
    assert providers["us_east_1"]["region"] == "us-east-1"
    assert providers["us_east_1"]["default_tags"] == providers[None]["default_tags"]


def test_public_zone(dns):
    zone = one(dns, "aws_route53_zone")
    assert zone["name"] == "set-of.com"
    assert "vpc" not in zone
    assert zone["lifecycle"]["prevent_destroy"] is True


def test_query_log_group_lives_in_us_east_1_encrypted_with_the_replica_key(dns):
    group = one(dns, "aws_cloudwatch_log_group")
    assert group["name"] == "/aws/route53/set-of.com"
    assert group["provider"] == US_EAST_1
    assert group["kms_key_id"] == "${aws_kms_replica_key.query-log-key.arn}"
    query_log = one(dns, "aws_route53_query_log")
    assert query_log["cloudwatch_log_group_arn"].startswith("${aws_cloudwatch_log_group.")
    assert query_log["depends_on"] == [
        "aws_cloudwatch_log_resource_policy.query-log-writer-policy"]


def test_replica_of_the_multi_region_logs_key(dns):
    replica = one(dns, "aws_kms_replica_key")
    assert replica["provider"] == US_EAST_1
    assert replica["primary_key_arn"] == (
        "${data.aws_ssm_parameter.from-kms-logs-key-arn.insecure_value}")
    assert replica["deletion_window_in_days"] == 30
    assert replica["lifecycle"]["prevent_destroy"] is True
    found = statements(policy_at(dns, "route53/query-log-key-policy"))
    assert set(found) == {"AccountAdministration", "QueryLogGroupUse",
                          "QueryLogGroupUseDescribeKey"}
    use = found["QueryLogGroupUse"]
    assert use["principals"][0]["identifiers"] == ["logs.us-east-1.amazonaws.com"]
    assert use["actions"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*",
                              "kms:ReEncrypt*"]
    (condition,) = use["condition"]
    assert condition["variable"] == "kms:EncryptionContext:aws:logs:arn"
    assert condition["values"][0].endswith(":log-group:/aws/route53/set-of.com")
    # DescribeKey requests carry no encryption context: a statement without it.
    describe = found["QueryLogGroupUseDescribeKey"]
    assert describe["principals"] == use["principals"]
    assert describe["actions"] == ["kms:DescribeKey"]
    assert "condition" not in describe
    assert one(dns, "aws_kms_alias")["provider"] == US_EAST_1


def test_route53_may_write_the_query_logs(dns):
    policy = one(dns, "aws_cloudwatch_log_resource_policy")
    assert policy["provider"] == US_EAST_1
    (statement,) = policy_at(dns, "route53/query-log-writer")["statement"]
    assert statement["principals"] == [
        {"type": "Service", "identifiers": ["route53.amazonaws.com"]}]
    assert statement["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    (resource,) = statement["resources"]
    assert resource.endswith(".arn}:*")
    variables = {c["variable"] for c in statement["condition"]}
    assert variables == {"aws:SourceAccount", "aws:SourceArn"}


def test_atlantis_health_check(dns):
    check = one(dns, "aws_route53_health_check")
    assert (check["type"], check["fqdn"], check["port"], check["resource_path"]) == (
        "HTTPS", "atlantis.set-of.com", 443, "/healthz")
    assert check["failure_threshold"] == 3
    assert check["request_interval"] == 30


def test_health_alarm_in_us_east_1_without_actions(dns):
    alarm = one(dns, "aws_cloudwatch_metric_alarm")
    assert alarm["provider"] == US_EAST_1
    assert alarm["alarm_name"] == "prod-route53-atlantis-health-critical"
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/Route53", "HealthCheckStatus")
    assert alarm["dimensions"] == {
        "HealthCheckId": "${aws_route53_health_check.atlantis-health-check.id}"}
    assert alarm["comparison_operator"] == "LessThanThreshold" and alarm["threshold"] == 1
    assert "alarm_actions" not in alarm


def test_ssm_parameters(dns):
    assert set(published(dns)) == {"/prod/route53/zone-id", "/prod/route53/zone-name",
                                   "/prod/route53/atlantis-health-check-id"}
    for parameter in resources(dns, "aws_ssm_parameter").values():
        assert "provider" not in parameter  # SSM contracts live in the home Region
