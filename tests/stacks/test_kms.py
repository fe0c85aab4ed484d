"""kms stack: nine keys with rotation, a 30-day window, aliases, explicit
policies for exactly their consumers, and their ARNs/aliases in SSM."""

from __future__ import annotations

import json

import pytest

from tests.stacks.synth_json import at_path, by_name, conditions, policy_at, published, statements

PURPOSES = ("s3", "rds", "secrets", "logs", "sns", "ecr", "efs", "cloudtrail", "monitoring")
VIA_SERVICE = {
    "s3": ["s3.ap-northeast-2.amazonaws.com"],
    "rds": ["rds.ap-northeast-2.amazonaws.com"],
    "secrets": ["secretsmanager.ap-northeast-2.amazonaws.com"],
    "ecr": ["ecr.ap-northeast-2.amazonaws.com"],
    "efs": ["elasticfilesystem.ap-northeast-2.amazonaws.com"],
    "monitoring": ["aps.ap-northeast-2.amazonaws.com", "grafana.ap-northeast-2.amazonaws.com"],
    "cloudtrail": ["s3.ap-northeast-2.amazonaws.com"],
}


@pytest.fixture(scope="module")
def kms(stack_json):
    return stack_json("kms")


def key(kms, purpose):
    return at_path(kms, "resource", "aws_kms_key", f"kms/{purpose}-key/key")


def key_policy(kms, purpose):
    """The statements of the key policy of the `purpose` key, by sid."""
    return statements(policy_at(kms, f"kms/{purpose}-key/policy"))


def test_nine_keys_with_rotation_window_and_protection(kms):
    keys = kms["resource"]["aws_kms_key"]
    assert len(keys) == 9
    for body in keys.values():
        assert body["enable_key_rotation"] is True
        assert body["deletion_window_in_days"] == 30
        assert body["lifecycle"]["prevent_destroy"] is True
        assert body["policy"].startswith("${data.aws_iam_policy_document.")


def test_only_the_logs_key_is_multi_region(kms):
    regions = {p: key(kms, p)["multi_region"] for p in PURPOSES}
    assert regions == {p: p == "logs" for p in PURPOSES}


def test_aliases(kms):
    assert set(by_name(kms, "aws_kms_alias")) == {f"alias/prod-{p}" for p in PURPOSES}


def test_ssm_parameters(kms):
    params = published(kms)
    assert len(params) == 18
    for purpose in PURPOSES:
        assert params[f"/prod/kms/{purpose}-key-arn"].endswith(".arn}")
        assert params[f"/prod/kms/{purpose}-key-alias"] == f"alias/prod-{purpose}"


@pytest.mark.parametrize("purpose", sorted(VIA_SERVICE))
def test_account_principals_only_through_their_service(kms, purpose):
    use = key_policy(kms, purpose)["UseThroughService"]
    assert use["principals"][0]["type"] == "AWS"
    assert use["principals"][0]["identifiers"][0].endswith(":root")
    cond = conditions(use)
    assert cond[("StringEquals", "kms:ViaService")] == VIA_SERVICE[purpose]
    assert ("StringEquals", "kms:CallerAccount") in cond
    grant = key_policy(kms, purpose)["GrantThroughService"]
    assert grant["actions"] == ["kms:CreateGrant"]
    assert conditions(grant)[("Bool", "kms:GrantIsForAWSResource")] == ["true"]


def test_logs_key_is_limited_to_log_groups_of_the_account(kms):
    stmts = key_policy(kms, "logs")
    service = stmts["ServiceUse"]
    assert service["principals"] == [{"type": "Service",
                                      "identifiers": ["logs.ap-northeast-2.amazonaws.com"]}]
    assert service["actions"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*",
                                  "kms:ReEncrypt*"]
    (arn,) = conditions(service)[("ArnLike", "kms:EncryptionContext:aws:logs:arn")]
    assert ":logs:ap-northeast-2:" in arn and arn.endswith(":log-group:*")
    # DescribeKey requests carry no encryption context, so it has its own
    # statement, without that condition (it returns key metadata only).
    describe = stmts["ServiceUseDescribeKey"]
    assert describe["principals"] == service["principals"]
    assert describe["actions"] == ["kms:DescribeKey"]
    assert "condition" not in describe


def test_sns_key_serves_sns_and_alarm_and_event_publishers(kms):
    service = key_policy(kms, "sns")["ServiceUse"]
    assert service["principals"][0]["identifiers"] == [
        "cloudwatch.amazonaws.com", "events.amazonaws.com", "sns.amazonaws.com"]
    assert ("StringEquals", "aws:SourceAccount") in conditions(service)


def test_cloudtrail_key_follows_the_cloudtrail_documentation(kms):
    stmts = key_policy(kms, "cloudtrail")
    encrypt = stmts["CloudTrailEncryptLogs"]
    assert encrypt["principals"][0]["identifiers"] == ["cloudtrail.amazonaws.com"]
    assert encrypt["actions"] == ["kms:GenerateDataKey*"]
    cond = conditions(encrypt)
    assert ("StringLike", "aws:SourceArn") in cond
    assert ("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn") in cond
    assert conditions(stmts["CloudTrailDescribeKey"]).keys() == {("StringLike", "aws:SourceArn")}
    decrypt = stmts["AccountDecryptTrailLogs"]
    assert decrypt["actions"] == ["kms:Decrypt", "kms:ReEncryptFrom"]
    assert ("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn") in conditions(decrypt)


def test_no_key_policy_names_the_public(kms):
    text = json.dumps(kms["data"]["aws_iam_policy_document"])
    assert '"identifiers": ["*"]' not in text


def test_state_backend(kms):
    assert kms["terraform"]["backend"]["s3"]["key"] == "kms/terraform.tfstate"
