"""SnsTopic: CMK encryption, topic policy for exactly the named publishers, e-mail subscriptions."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput

from constructs_lib import sns
from constructs_lib.errors import ConfigError
from constructs_lib.refs import KeyRef, TopicRef
from constructs_lib.sns import SnsTopic, SnsTopicProps
from tests.unit.synth_helpers import governance_findings

KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/sns")
SERVICES = ("events.amazonaws.com", "cloudwatch.amazonaws.com")


def props(tags, **overrides) -> SnsTopicProps:
    values = {"name": "prod-alerts-critical", "tags": tags, "kms_key": KEY,
                  "publisher_services": SERVICES, "email_subscriptions": ("oncall@example.com",),
                  "account_id": "123456789012"}
    values.update(overrides)
    return SnsTopicProps(**values)


@pytest.fixture(scope="module")
def synthesized(make_stack, synth, tags):
    stack = make_stack()
    topic = SnsTopic(stack, "critical", props(tags, partition="aws"))
    SnsTopic(stack, "quiet", props(tags, name="prod-alerts-info", publisher_services=(),
                                   email_subscriptions=(), account_id=None))
    TerraformOutput(stack, "topic_ref_arn", value=topic.ref.arn)
    return topic, synth(stack)


def _by_name(doc, kind, part):
    matches = [v for k, v in doc[kind].items() if part in k]
    assert len(matches) == 1, list(doc[kind])
    return matches[0]


def _statements(doc, part):
    document = _by_name(doc["data"], "aws_iam_policy_document", part)
    return {s["sid"]: s for s in document["statement"]}


def test_topic_is_encrypted_named_and_tagged(synthesized, tags):
    _, doc = synthesized
    topic = _by_name(doc["resource"], "aws_sns_topic", "critical")
    assert topic["name"] == "prod-alerts-critical"
    assert topic["kms_master_key_id"] == KEY.arn
    assert topic["tags"] == tags.resource_tags("prod-alerts-critical")


def test_policy_allows_exactly_the_publishers_for_this_account(synthesized):
    _, doc = synthesized
    statements = _statements(doc, "critical")
    publish = statements["ServicesPublish"]
    assert publish["effect"] == "Allow"
    assert publish["actions"] == ["sns:Publish"]
    assert publish["principals"] == [{"type": "Service", "identifiers": sorted(SERVICES)}]
    assert publish["condition"] == [{"test": "StringEquals", "variable": "aws:SourceAccount",
                                     "values": ["123456789012"]}]
    owner = statements["OwnerAccountManages"]
    assert owner["principals"] == [
        {"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:root"]}]
    assert "sns:*" not in owner["actions"]
    assert "sns:SetTopicAttributes" in owner["actions"]
    deny = statements["DenyInsecureTransport"]
    assert deny["effect"] == "Deny"
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert deny["condition"][0]["variable"] == "aws:SecureTransport"
    policy = _by_name(doc["resource"], "aws_sns_topic_policy", "critical")
    assert policy["policy"].startswith("${data.aws_iam_policy_document.")
    assert policy["arn"].startswith("${aws_sns_topic.")


def test_no_publishers_means_no_service_statement_and_account_from_data_sources(synthesized):
    """Left out, the account and the partition are read, never assumed to be `aws`."""
    _, doc = synthesized
    statements = _statements(doc, "quiet")
    assert set(statements) == {"OwnerAccountManages", "DenyInsecureTransport"}
    identity = statements["OwnerAccountManages"]["principals"][0]["identifiers"][0]
    assert identity.startswith("arn:${data.aws_partition.quiet_partition_")
    assert ":iam::${data.aws_caller_identity.quiet_account_" in identity
    # The topic given its partition reads none.
    assert [k.split("_")[0] for k in doc["data"]["aws_partition"]] == ["quiet"]


def test_topic_policy_is_validated(stack, tags, monkeypatch):
    """The topic policy goes through check_statements like every policy."""
    monkeypatch.setattr(sns, "OWNER_ACTIONS", ("sns Publish",))
    with pytest.raises(ConfigError) as error:
        SnsTopic(stack, "bad", props(tags))
    assert "unit/bad: topic policy[0].actions is 'sns Publish'" in str(error.value)


def test_email_subscriptions(synthesized):
    _, doc = synthesized
    subscriptions = list(doc["resource"]["aws_sns_topic_subscription"].values())
    assert [(s["protocol"], s["endpoint"]) for s in subscriptions] == [
        ("email", "oncall@example.com")]


def test_refs(synthesized):
    topic, doc = synthesized
    assert isinstance(topic.ref, TopicRef)
    assert doc["output"]["topic_ref_arn"]["value"].startswith("${aws_sns_topic.critical_topic")
    assert doc["output"]["topic_ref_arn"]["value"].endswith(".arn}")


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props (no publishers, subscriptions or account), the
    topic leaves no governance finding."""
    SnsTopic(stack, "critical", props(tags, publisher_services=(), email_subscriptions=(),
                                      account_id=None))
    assert governance_findings(stack) == []


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("name", "alerts-critical", "starting with 'prod-'"),
    ("name", "prod_Alerts", "kebab-case"),
    ("publisher_services", ("events",), "service principals"),
    ("email_subscriptions", ("not-an-email",), "e-mail addresses"),
    ("account_id", "12345", "12-digit"),
    ("partition", "amazon", "AWS partition"),
])
def test_rejects_bad_props(stack, tags, field, value, fragment):
    with pytest.raises(ConfigError) as error:
        SnsTopic(stack, "bad", props(tags, **{field: value}))
    message = str(error.value)
    shown = value[0] if isinstance(value, tuple) else value
    assert "unit/bad" in message
    assert field in message
    assert repr(shown) in message
    assert fragment in message


def test_reports_all_problems_at_once(stack, tags):
    with pytest.raises(ConfigError) as error:
        SnsTopic(stack, "bad", props(tags, name="x", account_id="1"))
    assert len(error.value.problems) == 2
