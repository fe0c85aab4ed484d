"""TAG001 (required tags after the default_tags merge) and TAG002 (tag value formats)."""

from __future__ import annotations

import pytest

from policies.model import Outcome
from policies.rules.tag001_required_tags import RULE as TAG001
from policies.rules.tag002_tag_values import RULE as TAG002

C, N, NA = Outcome.COMPLIANT, Outcome.NON_COMPLIANT, Outcome.NOT_APPLICABLE
ALIASED = {"alias": "us_east_1", "region": "us-east-1"}


@pytest.mark.parametrize(("case", "resources", "providers", "address", "expected"), [
    ("default tags cover everything", {"aws_vpc": {"v": {"cidr_block": "10.0.0.0/16"}}},
     None, "aws_vpc.v", C),
    ("resource adds its own tags", {"aws_vpc": {"v": {"tags": {"Team": "platform-team"}}}},
     "team-missing", "aws_vpc.v", C),
    ("a required tag missing", {"aws_vpc": {"v": {}}}, "team-missing", "aws_vpc.v", N),
    ("empty tag value", {"aws_vpc": {"v": {"tags": {"Team": ""}}}}, None, "aws_vpc.v", N),
    ("aliased provider without default tags",
     {"aws_vpc": {"v": {"provider": "aws.us_east_1"}}}, "with-alias", "aws_vpc.v", N),
    ("tags as one expression", {"aws_vpc": {"v": {"tags": "${var.tags}"}}}, None, "aws_vpc.v", N),
    ("type without tags in the schema",
     {"aws_s3_bucket_policy": {"p": {"bucket": "x", "policy": "{}"}}}, "team-missing",
     "aws_s3_bucket_policy.p", NA),
])
def test_tag001(pol, case, resources, providers, address, expected):
    tags = dict(pol.tags)
    if providers == "team-missing":
        del tags["Team"]
    configs = [{"region": "ap-northeast-2", "default_tags": [{"tags": tags}]}]
    if providers == "with-alias":
        configs.append(ALIASED)
    assert pol.outcome_of(TAG001, pol.doc(resources, providers=configs), address) is expected, case


def test_tag001_names_the_missing_tags_and_the_provider(pol):
    doc = pol.doc({"aws_vpc": {"v": {"provider": "aws.us_east_1"}}},
                  providers=[{"default_tags": [{"tags": pol.tags}]}, ALIASED])
    _, message = pol.outcomes(TAG001, doc)["aws_vpc.v"]
    assert "Environment" in message and "ManagedBy" in message
    assert "aws.us_east_1" in message


@pytest.mark.parametrize(("case", "tag", "value", "expected"), [
    ("kebab value", "Team", "platform-team", C),
    ("Name kebab", "Name", "prod-vpc", C),
    ("expression value", "Name", "${var.name}", C),
    ("owner e-mail", "Owner", "ops@example.com", C),
    ("space and capitals", "Team", "Platform Team", N),
    ("Name not kebab", "Name", "Prod_VPC", N),
    ("owner not an e-mail", "Owner", "platform-team", N),
    ("number value", "CostCenter", 42, N),
])
def test_tag002_resource_tags(pol, case, tag, value, expected):
    doc = pol.doc({"aws_vpc": {"v": {"tags": {tag: value}}}})
    assert pol.outcome_of(TAG002, doc, "aws_vpc.v") is expected, case


def test_tag002_checks_default_tags_once_on_the_provider(pol):
    tags = {**pol.tags, "Team": "Platform Team"}
    doc = pol.doc({"aws_vpc": {"v": {}}},
                  providers=[{"default_tags": [{"tags": tags}]}, {**ALIASED, "default_tags": [
                      {"tags": pol.tags}]}])
    found = pol.outcomes(TAG002, doc)
    assert found["provider.aws"][0] is N and "'Platform Team'" in found["provider.aws"][1]
    assert found["provider.aws.us_east_1"][0] is C
    assert "aws_vpc.v" not in found  # no own tags: not applicable


def test_tag002_not_applicable_without_tags(pol):
    doc = pol.doc({"aws_s3_bucket_policy": {"p": {"bucket": "x"}}})
    assert pol.outcome_of(TAG002, doc, "aws_s3_bucket_policy.p") is NA
