"""NAM001 (resource names), NAM002 (outputs/variables) and NAM003 (SSM parameter paths)."""

from __future__ import annotations

import pytest

from policies.model import Outcome
from policies.rules.nam001_resource_names import RULE as NAM001
from policies.rules.nam002_output_variable_names import RULE as NAM002
from policies.rules.nam003_ssm_parameter_paths import RULE as NAM003

C, N, NA = Outcome.COMPLIANT, Outcome.NON_COMPLIANT, Outcome.NOT_APPLICABLE


@pytest.mark.parametrize(("case", "rtype", "body", "expected"), [
    ("kebab with env prefix", "aws_sns_topic", {"name": "prod-alerts"}, C),
    ("bucket attribute", "aws_s3_bucket", {"bucket": "prod-cloudtrail-logs"}, C),
    ("expression name", "aws_sns_topic", {"name": "${var.name}"}, C),
    ("name_prefix may end with a hyphen", "aws_lb_target_group", {"name_prefix": "prod-"}, C),
    ("missing env prefix", "aws_sns_topic", {"name": "alerts"}, N),
    ("other environment", "aws_sns_topic", {"name": "dev-alerts"}, N),
    ("snake_case", "aws_iam_role", {"name": "prod_atlantis_task"}, N),
    ("capitals", "aws_lambda_function", {"function_name": "prod-SecretRotation"}, N),
    ("ecs task family", "aws_ecs_task_definition", {"family": "prod-atlantis"}, C),
    ("ecs task family wrong", "aws_ecs_task_definition", {"family": "atlantis"}, N),
    ("db parameter group family is an engine", "aws_db_parameter_group",
     {"name": "prod-mysql", "family": "mysql8.0"}, C),
    ("alarm name", "aws_cloudwatch_metric_alarm", {"alarm_name": "prod-rds-cpu-high"}, C),
    ("log group under /aws (AWS-imposed)", "aws_cloudwatch_log_group",
     {"name": "/aws/route53/connectly.io"}, C),
    ("log group under /<env>", "aws_cloudwatch_log_group", {"name": "/prod/atlantis"}, C),
    ("log group path of another env", "aws_cloudwatch_log_group", {"name": "/dev/atlantis"}, N),
    ("log group not a path", "aws_cloudwatch_log_group", {"name": "prod-atlantis"}, C),
    ("log group path with capitals", "aws_cloudwatch_log_group", {"name": "/prod/Atlantis"}, N),
    ("secret as a path", "aws_secretsmanager_secret", {"name": "prod/atlantis/github-token"}, C),
    ("secret path without env", "aws_secretsmanager_secret", {"name": "atlantis/github-token"}, N),
    ("kms alias", "aws_kms_alias", {"name": "alias/prod-s3"}, C),
    ("kms alias without prefix", "aws_kms_alias", {"name": "alias/s3"}, N),
    ("glue database snake_case", "aws_glue_catalog_database", {"name": "prod_cloudtrail"}, C),
    ("glue database kebab", "aws_glue_catalog_database", {"name": "prod-cloudtrail"}, N),
    ("glue table snake_case", "aws_glue_catalog_table", {"name": "cloudtrail_logs"}, C),
    ("glue table kebab", "aws_glue_catalog_table", {"name": "cloudtrail-logs"}, N),
    ("fifo queue suffix", "aws_sqs_queue", {"name": "prod-events.fifo"}, C),
    ("reference cluster name exception", "aws_ecs_cluster", {"name": "atlantis-prod"}, C),
    ("other cluster name", "aws_ecs_cluster", {"name": "atlantis-dev"}, N),
    ("route53 zone is a DNS name", "aws_route53_zone", {"name": "connectly.io"}, NA),
    ("SSM parameter left to NAM003", "aws_ssm_parameter", {"name": "/prod/x/y"}, NA),
    ("no name attribute", "aws_vpc", {"cidr_block": "10.0.0.0/16"}, NA),
])
def test_nam001(pol, case, rtype, body, expected):
    assert pol.outcome_of(NAM001, pol.doc({rtype: {"r": body}}), f"{rtype}.r") is expected, case


def test_nam001_prefix_comes_from_the_environment_tag(pol):
    tags = {**pol.tags, "Environment": "staging"}
    doc = pol.doc({"aws_sns_topic": {"a": {"name": "staging-alerts"}, "b": {"name": "prod-alerts"}}},
                  providers=[{"default_tags": [{"tags": tags}]}])
    found = pol.outcomes(NAM001, doc)
    assert found["aws_sns_topic.a"][0] is C
    assert found["aws_sns_topic.b"] == (N, "name 'prod-alerts' does not start with staging-")


def test_nam001_data_sources_are_not_checked(pol):
    doc = pol.doc(data={"aws_iam_role": {"r": {"name": "SomeoneElsesRole"}}})
    assert pol.outcomes(NAM001, doc) == {}


@pytest.mark.parametrize(("case", "kind", "name", "expected"), [
    ("output snake_case", "output", "vpc_id", C),
    ("output list name", "output", "private_subnet_ids", C),
    ("output kebab", "output", "vpc-id", N),
    ("output camelCase", "output", "vpcId", N),
    ("variable snake_case", "variable", "environment", C),
    ("variable with capitals", "variable", "Environment", N),
])
def test_nam002(pol, case, kind, name, expected):
    doc = pol.doc(**{kind: {name: {"value": "x"} if kind == "output" else {"type": "string"}}})
    assert pol.outcome_of(NAM002, doc, f"{kind}.{name}") is expected, case


def test_nam002_not_applicable_without_outputs(pol):
    assert pol.outcomes(NAM002, pol.doc({"aws_vpc": {"v": {}}})) == {}


@pytest.mark.parametrize(("case", "stack", "name", "expected"), [
    ("contract path", "network", "/prod/network/vpc-id", C),
    ("expression", "network", "${var.p}", NA),
    ("other stack's path", "network", "/prod/kms/s3-key-arn", N),
    ("other environment", "network", "/dev/network/vpc-id", N),
    ("snake_case leaf", "network", "/prod/network/vpc_id", N),
    ("too deep", "network", "/prod/network/vpc/id", N),
    ("no leading slash", "network", "prod/network/vpc-id", N),
])
def test_nam003(pol, case, stack, name, expected):
    doc = pol.doc({"aws_ssm_parameter": {"p": {"name": name, "type": "String"}}})
    assert pol.outcome_of(NAM003, doc, "aws_ssm_parameter.p", stack=stack) is expected, case


def test_nam003_not_applicable_to_data_sources(pol):
    doc = pol.doc(data={"aws_ssm_parameter": {"p": {"name": "/aws/service/ami"}}})
    assert pol.outcomes(NAM003, doc) == {}
