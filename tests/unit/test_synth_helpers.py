"""The unit tests' synth helpers fail when they should: cdktf's matchers behind
assert_resource/assert_data_source/assert_no_resource reject a wrong value, a
missing key and a missing type, the construct-path lookups keep to whole
path segments, and governance_findings reports a resource that breaks the rules."""

from __future__ import annotations

import pytest
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from constructs import Construct

from tests.unit.synth_helpers import (
    assert_data_source,
    assert_no_resource,
    assert_resource,
    governance_findings,
    matchable,
    one_under,
    under,
)


@pytest.fixture(scope="module")
def built(make_stack, synth):
    stack = make_stack()
    alb = Construct(stack, "alb")
    SnsTopic(alb, "topic", name="prod-alerts", fifo_topic=False, tags={"Name": "prod-alerts"})
    SnsTopic(Construct(stack, "alb-other"), "topic", name="prod-other")
    SnsTopic(Construct(alb, "https"), "topic", name="prod-https")
    DataAwsIamPolicyDocument(stack, "doc", statement=[{"sid": "One", "actions": ["sns:Publish"]}])
    return synth(stack), matchable(stack)


def test_the_matchers_accept_what_is_there(built):
    _, received = built
    assert_resource(received, "aws_sns_topic", {"name": "prod-alerts", "fifo_topic": False,
                                                "tags": {"Name": "prod-alerts"}})
    assert_data_source(received, "aws_iam_policy_document",
                       {"statement": [{"sid": "One", "actions": ["sns:Publish"]}]})
    assert_no_resource(received, "aws_sqs_queue")


@pytest.mark.parametrize(("kind", "properties"), [
    ("aws_sns_topic", {"name": "prod-missing"}),
    ("aws_sns_topic", {"name": "prod-alerts", "fifo_topic": True}),
    ("aws_sns_topic", {"name": "prod-alerts", "kms_master_key_id": "k"}),
    ("aws_sns_topic", {"tags": {"Name": "prod-other"}}),
    ("aws_sqs_queue", {}),
])
def test_assert_resource_fails_on_a_wrong_value_key_or_type(built, kind, properties):
    _, received = built
    with pytest.raises(AssertionError, match=f"no {kind} with"):
        assert_resource(received, kind, properties)


def test_lists_match_in_length_and_order(built):
    _, received = built
    for statement in ([], [{"sid": "One"}, {"sid": "One"}], [{"actions": []}]):
        with pytest.raises(AssertionError, match="no data source aws_iam_policy_document"):
            assert_data_source(received, "aws_iam_policy_document", {"statement": statement})


def test_assert_no_resource_fails_when_there_is_one(built):
    _, received = built
    with pytest.raises(AssertionError, match="unexpected aws_sns_topic"):
        assert_no_resource(received, "aws_sns_topic")


def test_lookups_keep_to_whole_path_segments(built):
    doc, _ = built
    assert [t["name"] for t in under(doc, "aws_sns_topic", "alb")] == ["prod-alerts", "prod-https"]
    assert one_under(doc, "aws_sns_topic", "alb/https")["name"] == "prod-https"
    assert one_under(doc, "aws_sns_topic", "alb-other")["name"] == "prod-other"
    assert under(doc, "aws_sns_topic", "al") == []
    assert under(doc, "aws_sqs_queue", "alb") == []
    with pytest.raises(AssertionError, match="2 aws_sns_topic under 'alb'"):
        one_under(doc, "aws_sns_topic", "alb")


def test_governance_findings_reports_a_raw_bucket(stack):
    """A bare provider bucket (no encryption configuration, no tags, no policy, no
    prevent_destroy) is what the constructs exist to prevent: the rules say so."""
    S3Bucket(stack, "raw", bucket="prod-raw")
    found = governance_findings(stack)
    rules = {line.split(" ", 1)[0] for line in found}
    assert {"ENC001", "TAG001", "SEC003", "PRO001"} <= rules, found
    assert all(line.split(" ", 2)[1] == "aws_s3_bucket.raw:" for line in found), found
    (enc,) = [line for line in found if line.startswith("ENC001 ")]
    assert "no aws_s3_bucket_server_side_encryption_configuration" in enc
    (tag,) = [line for line in found if line.startswith("TAG001 ")]
    assert "missing tags Environment, Service" in tag
