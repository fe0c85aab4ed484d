"""S3Bucket: every hardening property, the merged bucket policy, grants, errors."""

from __future__ import annotations

import re

import pytest

from constructs_lib.errors import ConfigError
from constructs_lib.policy_document import PolicyStatement, Principal
from constructs_lib.refs import KeyRef, RoleRef
from constructs_lib.s3_bucket import AccessLogging, ObjectLock, S3Bucket, S3BucketProps
from tests.unit.synth_helpers import governance_findings

KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/abcd", alias="alias/prod-s3")
ROLE = RoleRef(arn="arn:aws:iam::123456789012:role/prod-reader", name="prod-reader")
CLOUDTRAIL_ACL = PolicyStatement(
    sid="CloudTrailAclCheck",
    principals=(Principal(type="Service", identifiers=("cloudtrail.amazonaws.com",)),),
    actions=("s3:GetBucketAcl",),
    resources=("arn:aws:s3:::prod-trail",),
)


def props(tags, **overrides) -> S3BucketProps:
    values = {"name": "prod-trail", "tags": tags, "kms_key": KEY}
    values.update(overrides)
    return S3BucketProps(**values)


@pytest.fixture(scope="module")
def doc(make_stack, synth, tags):
    stack = make_stack()
    bucket = S3Bucket(stack, "trail", props(tags, extra_policy_statements=(CLOUDTRAIL_ACL,),
                                            access_logging=AccessLogging(
                                                target_bucket="prod-access-logs",
                                                target_prefix="trail/"),
                                            object_lock=ObjectLock(mode="COMPLIANCE", days=365)))
    bucket.grant_read(ROLE, id="reader")
    bucket.grant_write(ROLE, id="reader")
    S3Bucket(stack, "scratch", props(tags, name="prod-scratch", expiration_days=30,
                                     noncurrent_version_expiration_days=7,
                                     allow_destroy_reason="scratch data, recreated by CI"))
    return synth(stack)


def one(doc, kind, type_, part):
    found = [v for k, v in doc[kind][type_].items() if k.startswith(part)]
    assert len(found) == 1, (type_, part, list(doc[kind][type_]))
    return found[0]


def test_bucket_protected_and_tagged(doc, tags):
    bucket = one(doc, "resource", "aws_s3_bucket", "trail")
    assert bucket["bucket"] == "prod-trail"
    assert bucket["lifecycle"]["prevent_destroy"] is True
    assert "force_destroy" not in bucket
    assert bucket["tags"] == tags.resource_tags("prod-trail")


def test_versioning_enabled(doc):
    versioning = one(doc, "resource", "aws_s3_bucket_versioning", "trail")
    assert versioning["versioning_configuration"]["status"] == "Enabled"


def test_sse_kms_with_bucket_key(doc):
    rule = one(doc, "resource", "aws_s3_bucket_server_side_encryption_configuration", "trail")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms", "kms_master_key_id": KEY.arn}
    assert rule["bucket_key_enabled"] is True


def test_all_public_access_blocked_and_owner_enforced(doc):
    block = one(doc, "resource", "aws_s3_bucket_public_access_block", "trail")
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                 "restrict_public_buckets"):
        assert block[flag] is True, flag
    ownership = one(doc, "resource", "aws_s3_bucket_ownership_controls", "trail")
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_policy_denies_insecure_transport_and_keeps_extra_statements(doc):
    policy = one(doc, "resource", "aws_s3_bucket_policy", "trail")
    assert policy["policy"].startswith("${data.aws_iam_policy_document.trail_policy-document")
    statements = {s["sid"]: s for s in one(doc, "data", "aws_iam_policy_document",
                                           "trail_policy-document")["statement"]}
    deny = statements["DenyInsecureTransport"]
    assert deny["effect"] == "Deny"
    assert deny["actions"] == ["s3:*"]
    assert deny["principals"] == [{"type": "AWS", "identifiers": ["*"]}]
    assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport",
                                  "values": ["false"]}]
    assert len(deny["resources"]) == 2 and deny["resources"][1].endswith(".arn}/*")
    assert statements["CloudTrailAclCheck"]["actions"] == ["s3:GetBucketAcl"]


def test_lifecycle_defaults_and_overrides(doc):
    rule = one(doc, "resource", "aws_s3_bucket_lifecycle_configuration", "trail")["rule"][0]
    assert rule["status"] == "Enabled"
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 7}]
    assert "expiration" not in rule
    scratch = one(doc, "resource", "aws_s3_bucket_lifecycle_configuration", "scratch")["rule"][0]
    assert scratch["noncurrent_version_expiration"] == [{"noncurrent_days": 7}]
    assert scratch["expiration"] == [{"days": 30}]


def test_access_logging(doc):
    logging = one(doc, "resource", "aws_s3_bucket_logging", "trail")
    assert logging["target_bucket"] == "prod-access-logs"
    assert logging["target_prefix"] == "trail/"


def test_object_lock_on_the_existing_bucket_after_versioning(doc):
    lock = one(doc, "resource", "aws_s3_bucket_object_lock_configuration", "trail")
    assert lock["rule"] == {"default_retention": {"mode": "COMPLIANCE", "days": 365}}
    assert lock["bucket"].startswith("${aws_s3_bucket.trail_")
    assert any(d.startswith("aws_s3_bucket_versioning.trail_") for d in lock["depends_on"])
    # Never on the bucket itself: object_lock_enabled there forces a new bucket.
    assert "object_lock_enabled" not in one(doc, "resource", "aws_s3_bucket", "trail")
    assert "object_lock_enabled" not in lock or lock["object_lock_enabled"] == "Enabled"


def test_no_object_lock_by_default(doc):
    locks = doc["resource"]["aws_s3_bucket_object_lock_configuration"]
    assert not [name for name in locks if name.startswith("scratch")]


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props, the bucket leaves no governance finding."""
    S3Bucket(stack, "trail", props(tags))
    assert governance_findings(stack) == []


@pytest.mark.parametrize("lock, field, shown, allowed", [
    (ObjectLock(mode="governance", days=30), "object_lock.mode", "'governance'",
     "allowed is one of ('GOVERNANCE', 'COMPLIANCE')"),
    (ObjectLock(mode="GOVERNANCE", days=0), "object_lock.days", "0", "from 1 to 36500"),
    (ObjectLock(mode="COMPLIANCE", days=36501), "object_lock.days", "36501", "from 1 to 36500"),
    (ObjectLock(mode="COMPLIANCE", days=True), "object_lock.days", "True", "whole number"),
    ({"mode": "COMPLIANCE", "days": 1}, "object_lock", "{'mode'", "ObjectLock(mode=, days=)"),
])
def test_rejects_bad_object_lock(stack, tags, lock, field, shown, allowed):
    with pytest.raises(ConfigError) as err:
        S3Bucket(stack, "bad", props(tags, object_lock=lock))
    assert f"unit/bad: {field} is {shown}" in str(err.value)
    assert allowed in str(err.value)


def test_destroy_waiver(doc):
    scratch = one(doc, "resource", "aws_s3_bucket", "scratch")
    assert scratch["lifecycle"]["prevent_destroy"] is False
    assert scratch["//"]["waivers"]["PRO001"] == "scratch data, recreated by CI"
    assert "force_destroy" not in scratch


def test_grants_cover_objects_and_key(doc):
    read = one(doc, "resource", "aws_iam_role_policy", "trail_read-reader_")
    write = one(doc, "resource", "aws_iam_role_policy", "trail_write-reader_")
    assert read["role"] == write["role"] == "prod-reader"
    assert (read["name"], write["name"]) == ("prod-trail-read-reader", "prod-trail-write-reader")
    read_doc = one(doc, "data", "aws_iam_policy_document", "trail_read-reader-document")
    actions = [a for s in read_doc["statement"] for a in s["actions"]]
    assert "s3:GetObject" in actions and "kms:Decrypt" in actions
    assert "s3:PutObject" not in actions
    write_doc = one(doc, "data", "aws_iam_policy_document", "trail_write-reader-document")
    kms = next(s for s in write_doc["statement"] if s["actions"][0].startswith("kms:"))
    assert kms["resources"] == [KEY.arn] and "kms:GenerateDataKey" in kms["actions"]


def test_grant_addresses_depend_on_the_ids_not_the_call_order(make_stack, synth, tags):
    """Numbering grants by call order would re-address every later grant when one goes."""
    def addresses(order):
        stack = make_stack()
        bucket = S3Bucket(stack, "b", props(tags))
        for verb, grant_id in order:
            getattr(bucket, f"grant_{verb}")(ROLE, id=grant_id)
        doc = synth(stack)
        return ({k: v["name"] for k, v in doc["resource"]["aws_iam_role_policy"].items()},
                sorted(doc["data"]["aws_iam_policy_document"]))

    grants = [("read", "audit"), ("write", "ci"), ("read", "ci")]
    assert addresses(grants) == addresses(grants[::-1])
    assert addresses(grants)[0] == addresses(grants[1:])[0] | addresses(grants[:1])[0]


def test_a_grant_id_is_used_once_per_verb(stack, tags):
    bucket = S3Bucket(stack, "b", props(tags))
    bucket.grant_read(ROLE, id="ci")
    bucket.grant_write(ROLE, id="ci")
    with pytest.raises(ConfigError, match=re.escape(
            "unit/b: grant_read id is 'ci'; allowed is a kebab-case id not used by another "
            "grant_read on this construct")):
        bucket.grant_read(ROLE, id="ci")
    with pytest.raises(ConfigError, match=re.escape("unit/b: grant_write id is 'CI'")):
        bucket.grant_write(ROLE, id="CI")


def test_add_policy_statements_after_creation(make_stack, synth, tags):
    stack = make_stack()
    bucket = S3Bucket(stack, "b", props(tags))
    bucket.add_policy_statements(CLOUDTRAIL_ACL)
    (document,) = synth(stack)["data"]["aws_iam_policy_document"].values()
    sids = [s["sid"] for s in document["statement"]]
    assert sids == ["DenyInsecureTransport", "CloudTrailAclCheck"]


@pytest.mark.parametrize("field, value, shown, allowed", [
    ("name", "prod_trail", "'prod_trail'", "kebab-case name starting with 'prod-'"),
    ("name", "trail", "'trail'", "starting with 'prod-'"),
    ("name", "prod-" + "x" * 60, "'prod-" + "x" * 60 + "'", "at most 63 characters"),
    ("name", "prod-my-s3alias", "'prod-my-s3alias'", "S3 reserves the suffixes"),
    ("kms_key", "arn:aws:kms:ap-northeast-2:1:key/x", "'arn:aws:kms:", "allowed is a KeyRef"),
    ("noncurrent_version_expiration_days", 0, "0", "at least 1"),
    ("abort_incomplete_multipart_upload_days", -1, "-1", "at least 1"),
    ("allow_destroy_reason", "why", "'why'", "at least 10 characters"),
])
def test_rejects_bad_props(stack, tags, field, value, shown, allowed):
    with pytest.raises(ConfigError) as err:
        S3Bucket(stack, "bad", props(tags, **{field: value}))
    assert f"unit/bad: {field} is {shown}" in str(err.value)
    assert allowed in str(err.value)
    assert stack.node.try_find_child("bad").node.children == []


def test_rejects_public_allow_statement(stack, tags):
    public = PolicyStatement(sid="Public", principals=(Principal(type="AWS", identifiers=("*",)),),
                             actions=("s3:GetObject",), resources=("arn:aws:s3:::prod-trail/*",))
    with pytest.raises(ConfigError, match=r"unit/bad: extra_policy_statements\[0\]\.principals .*never '\*'"):
        S3Bucket(stack, "bad", props(tags, extra_policy_statements=(public,)))


def test_rejects_logging_into_itself(stack, tags):
    with pytest.raises(ConfigError, match=re.escape(
            "access_logging.target_bucket is 'prod-trail'; a bucket must not log into itself")):
        S3Bucket(stack, "bad", props(tags, access_logging=AccessLogging(
            target_bucket="prod-trail", target_prefix="x/")))
