"""KmsKey: rotation, 30-day window, explicit key policy, alias, protection."""

from __future__ import annotations

import json

import pytest
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.errors import ConfigError
from constructs_lib.kms_key import (
    ENCRYPTION_CONTEXT_ACTIONS,
    USE_ACTIONS,
    KmsKey,
    KmsKeyProps,
    condition_applies,
    service_use_statements,
)
from constructs_lib.policy_document import Condition, PolicyStatement, Principal
from constructs_lib.refs import KeyRef, RoleRef
from tests.stacks.synth_json import statements
from tests.unit.synth_helpers import (
    assert_data_source,
    assert_resource,
    governance_findings,
    matchable,
    one_under,
)

ROLE = RoleRef(arn="arn:aws:iam::123456789012:role/prod-reader", name="prod-reader")
VIA = ("s3.ap-northeast-2.amazonaws.com", "dynamodb.ap-northeast-2.amazonaws.com")
EXTRA = PolicyStatement(sid="Extra", principals=(Principal(type="AWS", identifiers=(ROLE.arn,)),),
                        actions=("kms:Decrypt",), resources=("*",))
SOURCE_ACCOUNT = Condition(test="StringEquals", variable="aws:SourceAccount",
                           values=("123456789012",))
LOG_GROUPS = Condition(test="ArnLike", variable="kms:EncryptionContext:aws:logs:arn",
                       values=("arn:aws:logs:ap-northeast-2:123456789012:log-group:*",))


def props(tags, **overrides) -> KmsKeyProps:
    values = {
        "name": "prod-logs",
        "description": "Encrypts the central log groups",
        "tags": tags,
        "service_principals": ("logs.ap-northeast-2.amazonaws.com",),
        "service_conditions": (SOURCE_ACCOUNT,),
        "grant_roles": (ROLE,),
    }
    values.update(overrides)
    return KmsKeyProps(**values)


@pytest.fixture(scope="module")
def synthesized(make_stack, synth, tags):
    stack = make_stack()
    key = KmsKey(stack, "logs-key", props(tags))
    KmsKey(stack, "scratch-key", props(
        tags, name="prod-scratch", service_principals=(), service_conditions=(), grant_roles=(),
        multi_region=True, allow_destroy_reason="scratch key for short-lived experiments"))
    KmsKey(stack, "state-key", props(
        tags, name="prod-state", service_principals=(), service_conditions=(), grant_roles=(),
        extra_statements=(EXTRA,), via_services=VIA))
    KmsKey(stack, "context-key", props(
        tags, name="prod-context", service_conditions=(LOG_GROUPS, SOURCE_ACCOUNT),
        grant_roles=()))
    return key, synth(stack), matchable(stack)


def key_policy(doc, key):
    """The statements of the policy document of the KmsKey construct `key`, by sid."""
    return statements(one_under(doc, "aws_iam_policy_document", key, section="data"))


def test_key_rotation_window_and_protection(synthesized, tags):
    _, doc, received = synthesized
    # The Name tag tells the keys apart (other tags may follow: compared below).
    assert_resource(received, "aws_kms_key", {
        "tags": {"Name": "prod-logs"}, "enable_key_rotation": True,
        "deletion_window_in_days": 30, "multi_region": False,
        "lifecycle": {"prevent_destroy": True}})
    key = one_under(doc, "aws_kms_key", "logs-key")
    assert key["policy"].startswith("${data.aws_iam_policy_document.")
    assert key["tags"] == tags.resource_tags("prod-logs")


def test_alias_and_ref(synthesized):
    construct, doc, received = synthesized
    assert_resource(received, "aws_kms_alias", {"name": "alias/prod-logs"})
    alias = one_under(doc, "aws_kms_alias", "logs-key")
    assert alias["name"] == "alias/prod-logs"
    assert alias["target_key_id"].endswith(".key_id}")
    assert isinstance(construct.ref, KeyRef)
    assert construct.ref.alias == "alias/prod-logs"


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props (no services or roles granted use), the key
    leaves no governance finding."""
    KmsKey(stack, "logs-key", props(tags, service_principals=(), service_conditions=(),
                                    grant_roles=()))
    assert governance_findings(stack) == []


def test_policy_names_root_services_and_roles_only(synthesized):
    _, doc, _ = synthesized
    found = key_policy(doc, "logs-key")
    assert set(found) == {"AccountAdministration", "ServiceUse", "RoleUse"}
    root = found["AccountAdministration"]["principals"][0]
    assert root["type"] == "AWS"
    assert root["identifiers"][0].startswith("arn:${data.aws_partition.")
    assert root["identifiers"][0].endswith(":root")
    service = found["ServiceUse"]
    assert service["principals"] == [{"type": "Service",
                                      "identifiers": ["logs.ap-northeast-2.amazonaws.com"]}]
    assert "kms:Decrypt" in service["actions"] and "kms:GenerateDataKey*" in service["actions"]
    assert service["condition"][0]["variable"] == "aws:SourceAccount"
    assert found["RoleUse"]["principals"][0]["identifiers"] == [ROLE.arn]
    assert "*" not in json.dumps([s["principals"] for s in found.values()])


def test_destroy_waiver_and_multi_region(synthesized):
    _, doc, received = synthesized
    assert_resource(received, "aws_kms_key", {
        "tags": {"Name": "prod-scratch"}, "multi_region": True,
        "lifecycle": {"prevent_destroy": False}})
    key = one_under(doc, "aws_kms_key", "scratch-key")
    assert key["tags"]["Name"] == "prod-scratch"
    # Waivers live in the `//` block, which Testing.synth drops.
    assert key["//"]["waivers"]["PRO001"] == "scratch key for short-lived experiments"
    assert set(key_policy(doc, "scratch-key")) == {"AccountAdministration"}


def test_via_services_allow_account_use_and_resource_grants_through_them(synthesized):
    _, doc, received = synthesized
    # Only the state key has the Extra statement: these four, in this order.
    assert_data_source(received, "aws_iam_policy_document", {"statement": [
        {"sid": "AccountAdministration"}, {"sid": "Extra"}, {"sid": "UseThroughService"},
        {"sid": "GrantThroughService"}]})
    found = key_policy(doc, "state-key")
    assert list(found) == [
        "AccountAdministration", "Extra", "UseThroughService", "GrantThroughService"]
    root = found["AccountAdministration"]["principals"]
    use, grant = found["UseThroughService"], found["GrantThroughService"]
    account = "${data.aws_caller_identity.state-key_account_"
    for statement in (use, grant):
        assert statement["principals"] == root
        assert statement["resources"] == ["*"]
        in_account, through = statement["condition"][:2]
        assert in_account["variable"] == "kms:CallerAccount"
        assert in_account["values"][0].startswith(account)
        assert through == {"test": "StringEquals", "variable": "kms:ViaService",
                           "values": list(VIA)}
    assert use["actions"] == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
                              "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    assert len(use["condition"]) == 2
    assert grant["actions"] == ["kms:CreateGrant"]
    assert grant["condition"][2] == {"test": "Bool", "variable": "kms:GrantIsForAWSResource",
                                     "values": ["true"]}


def test_encryption_context_conditions_leave_describe_key_out(synthesized):
    _, doc, _ = synthesized
    found = key_policy(doc, "context-key")
    assert set(found) == {"AccountAdministration", "ServiceUse", "ServiceUseDescribeKey"}
    use, describe = found["ServiceUse"], found["ServiceUseDescribeKey"]
    # DescribeKey requests carry no encryption context: under that condition it
    # could never be allowed, so it keeps only the global condition.
    assert use["actions"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*",
                              "kms:ReEncrypt*"]
    assert [c["variable"] for c in use["condition"]] == [
        "kms:EncryptionContext:aws:logs:arn", "aws:SourceAccount"]
    assert describe["actions"] == ["kms:DescribeKey"]
    assert describe["principals"] == use["principals"]
    assert [c["variable"] for c in describe["condition"]] == ["aws:SourceAccount"]


def test_service_use_statements_split_only_when_a_condition_does_not_apply():
    (plain,) = service_use_statements("Use", ("sns.amazonaws.com",), (SOURCE_ACCOUNT,))
    assert plain.actions == USE_ACTIONS and plain.conditions == (SOURCE_ACCOUNT,)
    use, describe = service_use_statements("Use", ("logs.us-east-1.amazonaws.com",),
                                           (LOG_GROUPS,))
    assert (use.sid, use.conditions) == ("Use", (LOG_GROUPS,))
    assert "kms:DescribeKey" not in use.actions
    assert (describe.sid, describe.actions, describe.conditions) == (
        "UseDescribeKey", ("kms:DescribeKey",), ())


@pytest.mark.parametrize("action, applies", [
    ("kms:Decrypt", True), ("kms:GenerateDataKey*", True), ("kms:ReEncryptFrom", True),
    ("kms:CreateGrant", True), ("KMS:encrypt", True),
    ("kms:DescribeKey", False), ("kms:*", False), ("kms:Describe*", False), ("s3:GetObject", False),
])
def test_encryption_context_keys_apply_only_to_their_actions(action, applies):
    assert condition_applies("kms:EncryptionContext:aws:logs:arn", action) is applies
    assert condition_applies("kms:EncryptionContextKeys", action) is applies
    # Global keys are in every request.
    assert condition_applies("aws:SourceAccount", action) is True


def test_encryption_context_actions_are_the_documented_ones():
    # conditions-kms.html, kms:EncryptionContext:context-key "API operations".
    operations = {"CreateGrant", "Encrypt", "Decrypt", "GenerateDataKey", "GenerateDataKeyPair",
                  "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext",
                  "ReEncryptFrom", "ReEncryptTo", "RetireGrant"}
    assert {a for a in ENCRYPTION_CONTEXT_ACTIONS if "*" not in a} == {
        f"kms:{o}" for o in operations}


def test_rejects_extra_statements_with_a_condition_an_action_never_carries(stack, tags):
    describe = PolicyStatement(sid="Describe", principals=EXTRA.principals,
                               actions=("kms:Decrypt", "kms:DescribeKey"), resources=("*",),
                               conditions=(LOG_GROUPS,))
    with pytest.raises(ConfigError) as err:
        KmsKey(stack, "bad", props(tags, extra_statements=(describe,)))
    message = str(err.value)
    assert ("extra_statements[0].conditions is 'kms:EncryptionContext:aws:logs:arn'; "
            "requests for kms:DescribeKey never carry this condition key") in message
    assert "kms:Decrypt" not in message


@pytest.mark.parametrize("field, value, shown, allowed", [
    ("via_services", ("s3.amazonaws.com",), "'s3.amazonaws.com'",
     "regional endpoints like 's3.<region>.amazonaws.com'"),
    ("via_services", ("s3.ap-northeast-2.amazonaws.com",) * 2,
     "('s3.ap-northeast-2.amazonaws.com', 's3.ap-northeast-2.amazonaws.com')",
     "each service may be listed once"),
    ("name", "logs", "'logs'", "starting with 'prod-'"),
    ("description", " ", "' '", "non-empty description"),
    ("service_principals", ("logs",), "'logs'", "service principals like"),
    ("enable_key_rotation", False, "False", "rule ENC002"),
    ("deletion_window_in_days", 7, "7", "allowed is 30"),
    ("allow_destroy_reason", "short", "'short'", "at least 10 characters"),
    ("grant_roles", (RoleRef(arn="*", name="any"),), "'*'", "wildcard principals"),
])
def test_rejects_bad_props(stack, tags, field, value, shown, allowed):
    with pytest.raises(ConfigError) as err:
        KmsKey(stack, "bad", props(tags, **{field: value}))
    assert f"unit/bad: {field} is {shown}; " in str(err.value)
    assert allowed in str(err.value)
    # Validation runs before anything is created.
    assert stack.node.try_find_child("bad").node.children == []


def test_provider_places_key_alias_and_lookups_in_its_region(stack, tags, synth):
    """With `provider`, the key, its alias and the construct's own data sources use
    that (aliased) provider; the policy document needs none (Terraform renders it)."""
    tokyo = AwsProvider(stack, "aws-tokyo", alias="tokyo", region="ap-northeast-1")
    KmsKey(stack, "copy-key", props(
        tags, name="prod-copy", service_principals=(), service_conditions=(), grant_roles=(),
        via_services=("backup.ap-northeast-1.amazonaws.com",), provider=tokyo))
    KmsKey(stack, "home-key", props(tags, name="prod-home"))
    doc = synth(stack)
    for kind, section in (("aws_kms_key", "resource"), ("aws_kms_alias", "resource"),
                          ("aws_caller_identity", "data"), ("aws_partition", "data")):
        assert one_under(doc, kind, "copy-key", section=section)["provider"] == "aws.tokyo"
        assert "provider" not in one_under(doc, kind, "home-key", section=section)
    via = key_policy(doc, "copy-key")["UseThroughService"]
    assert via["condition"][1]["values"] == ["backup.ap-northeast-1.amazonaws.com"]


def test_rejects_a_provider_that_is_not_one(stack, tags):
    with pytest.raises(ConfigError, match=r"provider is 'aws.tokyo'; allowed is a "
                                          r"TerraformProvider or None"):
        KmsKey(stack, "bad", props(tags, provider="aws.tokyo"))


def test_rejects_wildcard_principal_in_extra_statements(stack, tags):
    public = PolicyStatement(sid="Everyone", principals=(Principal(type="AWS", identifiers=("*",)),),
                             actions=("kms:Decrypt",), resources=("*",))
    with pytest.raises(ConfigError, match=r"extra_statements\[0\]\.principals.*'\*'"):
        KmsKey(stack, "bad", props(tags, extra_statements=(public,)))


def test_collects_all_problems_at_once(stack, tags):
    with pytest.raises(ConfigError) as err:
        KmsKey(stack, "bad", props(tags, name="Bad_Name", deletion_window_in_days=10))
    assert len(err.value.problems) == 2
