"""ENC001 (customer-managed keys wherever one can be set) and ENC002 (KMS key settings)."""

from __future__ import annotations

import pytest

from policies.model import Outcome
from policies.rules.enc001_customer_managed_keys import RULE as ENC001
from policies.rules.enc001_customer_managed_keys import TABLE
from policies.rules.enc002_kms_key_settings import RULE as ENC002
from policies.schema import kms_key_attributes

C, N, NA = Outcome.COMPLIANT, Outcome.NON_COMPLIANT, Outcome.NOT_APPLICABLE
KEY = "${aws_kms_key.main.arn}"
SSE = "rule.apply_server_side_encryption_by_default"


def sse_config(algorithm, key=None):
    default = {"sse_algorithm": algorithm}
    if key:
        default["kms_master_key_id"] = key
    return {"bucket": "${aws_s3_bucket.b.id}",
            "rule": [{"apply_server_side_encryption_by_default": default,
                      "bucket_key_enabled": True}]}


@pytest.mark.parametrize(("case", "rtype", "body", "expected"), [
    ("bucket SSE with a CMK", "aws_s3_bucket_server_side_encryption_configuration",
     sse_config("aws:kms", KEY), C),
    ("bucket SSE AES256", "aws_s3_bucket_server_side_encryption_configuration",
     sse_config("AES256"), N),
    ("bucket SSE aws:kms without key (AWS-managed)",
     "aws_s3_bucket_server_side_encryption_configuration", sse_config("aws:kms"), N),
    ("bucket SSE with the aws/s3 alias", "aws_s3_bucket_server_side_encryption_configuration",
     sse_config("aws:kms", "alias/aws/s3"), N),
    ("dynamodb with CMK", "aws_dynamodb_table",
     {"server_side_encryption": {"enabled": True, "kms_key_arn": KEY}}, C),
    ("dynamodb AWS-owned key", "aws_dynamodb_table", {"name": "x"}, N),
    ("dynamodb SSE without key", "aws_dynamodb_table", {"server_side_encryption": {"enabled": True}}, N),
    ("log group with key", "aws_cloudwatch_log_group", {"kms_key_id": KEY}, C),
    ("log group without key", "aws_cloudwatch_log_group", {"name": "/prod/x"}, N),
    ("sns with key", "aws_sns_topic", {"kms_master_key_id": KEY}, C),
    ("sns with aws/sns", "aws_sns_topic", {"kms_master_key_id": "alias/aws/sns"}, N),
    ("sqs managed SSE", "aws_sqs_queue", {"sqs_managed_sse_enabled": True}, N),
    ("ecr KMS with key", "aws_ecr_repository",
     {"encryption_configuration": [{"encryption_type": "KMS", "kms_key": KEY}]}, C),
    ("ecr AES256", "aws_ecr_repository",
     {"encryption_configuration": [{"encryption_type": "AES256"}]}, N),
    ("efs encrypted with key", "aws_efs_file_system", {"encrypted": True, "kms_key_id": KEY}, C),
    ("rds with keys", "aws_db_instance",
     {"storage_encrypted": True, "kms_key_id": KEY, "performance_insights_enabled": True,
      "performance_insights_kms_key_id": KEY}, C),
    ("rds insights on the AWS key", "aws_db_instance",
     {"storage_encrypted": True, "kms_key_id": KEY, "performance_insights_enabled": True}, N),
    ("rds unencrypted", "aws_db_instance", {"storage_encrypted": False, "kms_key_id": KEY}, N),
    ("secret with key", "aws_secretsmanager_secret", {"kms_key_id": KEY}, C),
    ("secret default key", "aws_secretsmanager_secret", {"name": "prod/x"}, N),
    ("athena SSE_KMS", "aws_athena_workgroup", {"configuration": {"result_configuration": {
        "encryption_configuration": {"encryption_option": "SSE_KMS", "kms_key_arn": KEY}}}}, C),
    ("athena SSE_S3", "aws_athena_workgroup", {"configuration": {"result_configuration": {
        "encryption_configuration": {"encryption_option": "SSE_S3"}}}}, N),
    ("cloudtrail with key", "aws_cloudtrail", {"kms_key_id": KEY}, C),
    ("cloudtrail without key", "aws_cloudtrail", {"name": "prod-trail"}, N),
    ("lambda env vars with key", "aws_lambda_function",
     {"environment": {"variables": {"A": "b"}}, "kms_key_arn": KEY}, C),
    ("lambda env vars without key", "aws_lambda_function", {"environment": {"variables": {"A": "b"}}}, N),
    ("lambda without env vars", "aws_lambda_function", {"function_name": "prod-f"}, C),
    ("prometheus with key", "aws_prometheus_workspace", {"kms_key_arn": KEY}, C),
    ("prometheus without key", "aws_prometheus_workspace", {"alias": "prod-amp"}, N),
    ("SecureString with key", "aws_ssm_parameter", {"type": "SecureString", "key_id": KEY}, C),
    ("SecureString default key", "aws_ssm_parameter", {"type": "SecureString"}, N),
    ("plain String parameter", "aws_ssm_parameter", {"type": "String"}, C),
    ("type with no key setting", "aws_vpc", {"cidr_block": "10.0.0.0/16"}, NA),
])
def test_enc001(pol, case, rtype, body, expected):
    doc = pol.doc({rtype: {"r": body}})
    assert pol.outcome_of(ENC001, doc, f"{rtype}.r") is expected, case


def test_enc001_bucket_needs_an_sse_configuration(pol):
    bucket = {"aws_s3_bucket": {"b": {"bucket": "prod-b"}, "other": {"bucket": "prod-other"}}}
    with_config = {**bucket, "aws_s3_bucket_server_side_encryption_configuration": {
        "b": sse_config("aws:kms", KEY)}}
    found = pol.outcomes(ENC001, pol.doc(with_config))
    assert found["aws_s3_bucket.b"][0] is C
    assert found["aws_s3_bucket.other"][0] is N
    assert "SSE-S3" in found["aws_s3_bucket.other"][1]


def test_enc001_bucket_matched_by_literal_name(pol):
    config = {**sse_config("aws:kms", KEY), "bucket": "prod-b"}
    doc = pol.doc({"aws_s3_bucket": {"b": {"bucket": "prod-b"}},
                   "aws_s3_bucket_server_side_encryption_configuration": {"c": config}})
    assert pol.outcome_of(ENC001, doc, "aws_s3_bucket.b") is C


def test_enc001_table_names_real_key_attributes():
    # Every top-level key attribute in the table exists in the provider schema.
    schema = kms_key_attributes()
    for rtype, needs in TABLE.items():
        for need in needs:
            if "." not in need.path and "key" in need.path:
                assert need.path in schema.get(rtype, []), (rtype, need.path)


@pytest.mark.parametrize(("case", "body", "expected"), [
    ("rotation and 30 days", {"enable_key_rotation": True, "deletion_window_in_days": 30}, C),
    ("no rotation", {"enable_key_rotation": False, "deletion_window_in_days": 30}, N),
    ("rotation unset", {"deletion_window_in_days": 30}, N),
    ("7-day window", {"enable_key_rotation": True, "deletion_window_in_days": 7}, N),
])
def test_enc002(pol, case, body, expected):
    assert pol.outcome_of(ENC002, pol.doc({"aws_kms_key": {"k": body}}), "aws_kms_key.k") is expected


def test_enc002_not_applicable_to_other_types(pol):
    assert pol.outcome_of(ENC002, pol.doc({"aws_kms_alias": {"a": {}}}), "aws_kms_alias.a") is NA


def test_enc002_message_names_attribute_and_allowed_value(pol):
    doc = pol.doc({"aws_kms_key": {"k": {"enable_key_rotation": True, "deletion_window_in_days": 7}}})
    _, message = pol.outcomes(ENC002, doc)["aws_kms_key.k"]
    assert message == "deletion_window_in_days is 7, allowed: 30"
