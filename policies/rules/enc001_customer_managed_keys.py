"""ENC001: no AES256 / AWS-managed encryption wherever a customer-managed key can be set."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from policies.model import (
    COMPLIANT,
    NOT_APPLICABLE,
    ResourceView,
    Result,
    Rule,
    StackView,
    from_problems,
    is_token,
    values_at,
)

# `alias/aws/<service>` and its ARN form name an AWS-managed key, not ours.
AWS_MANAGED_KEY = re.compile(r"(^|:)alias/aws/")


@dataclass(frozen=True)
class Need:
    """`path` must name a customer key (allowed is None) or hold one of `allowed`;
    only when `when(body)` is true (None: always)."""

    path: str
    allowed: tuple | None = None
    when: Callable[[dict], bool] | None = None


def _has_env_vars(body: dict) -> bool:
    return any(values_at(body, "environment.variables"))


def _secure_string(body: dict) -> bool:
    return body.get("type") == "SecureString"


def _insights_on(body: dict) -> bool:
    return body.get("performance_insights_enabled") is True


def _set(body: dict, path: str) -> bool:
    return bool(values_at(body, path))


def _when_set(path: str) -> Callable[[dict], bool]:
    return lambda body: _set(body, path)


SSE_DEFAULT = "rule.apply_server_side_encryption_by_default"
ATHENA_RESULTS = "configuration.result_configuration.encryption_configuration"
KMS_SSE = ("aws:kms", "aws:kms:dsse")

# The documented table: resource type -> what makes it use a customer-managed key.
# A resource type not listed here has no CMK setting (or is not used in this project).
TABLE: dict[str, tuple[Need, ...]] = {
    "aws_s3_bucket_server_side_encryption_configuration": (
        Need(f"{SSE_DEFAULT}.sse_algorithm", KMS_SSE),
        Need(f"{SSE_DEFAULT}.kms_master_key_id"),
    ),
    # Legacy inline form; only checked when present (the separate resource is the norm).
    "aws_s3_bucket": (
        Need(f"server_side_encryption_configuration.{SSE_DEFAULT}.sse_algorithm", KMS_SSE,
             when=_when_set("server_side_encryption_configuration")),
        Need(f"server_side_encryption_configuration.{SSE_DEFAULT}.kms_master_key_id",
             when=_when_set("server_side_encryption_configuration")),
    ),
    # Without server_side_encryption DynamoDB uses an AWS-owned key.
    "aws_dynamodb_table": (
        Need("server_side_encryption.enabled", (True,)),
        Need("server_side_encryption.kms_key_arn"),
    ),
    "aws_cloudwatch_log_group": (Need("kms_key_id"),),
    "aws_sns_topic": (Need("kms_master_key_id"),),
    # sqs_managed_sse_enabled is SSE-SQS: an AWS-owned key.
    "aws_sqs_queue": (Need("kms_master_key_id"),),
    "aws_ecr_repository": (
        Need("encryption_configuration.encryption_type", ("KMS",)),
        Need("encryption_configuration.kms_key"),
    ),
    "aws_efs_file_system": (Need("encrypted", (True,)), Need("kms_key_id")),
    "aws_db_instance": (
        Need("storage_encrypted", (True,)),
        Need("kms_key_id"),
        Need("performance_insights_kms_key_id", when=_insights_on),
    ),
    "aws_rds_cluster": (Need("storage_encrypted", (True,)), Need("kms_key_id")),
    "aws_secretsmanager_secret": (Need("kms_key_id"),),
    "aws_athena_workgroup": (
        Need(f"{ATHENA_RESULTS}.encryption_option", ("SSE_KMS", "CSE_KMS")),
        Need(f"{ATHENA_RESULTS}.kms_key_arn"),
    ),
    "aws_athena_database": (
        Need("encryption_configuration.encryption_option", ("SSE_KMS", "CSE_KMS"),
             when=_when_set("encryption_configuration")),
        Need("encryption_configuration.kms_key", when=_when_set("encryption_configuration")),
    ),
    "aws_cloudtrail": (Need("kms_key_id"),),
    "aws_ebs_volume": (Need("encrypted", (True,)), Need("kms_key_id")),
    # Environment variables are encrypted with the AWS-managed lambda key otherwise.
    "aws_lambda_function": (Need("kms_key_arn", when=_has_env_vars),),
    "aws_prometheus_workspace": (Need("kms_key_arn"),),
    # Without key_id a SecureString uses alias/aws/ssm.
    "aws_ssm_parameter": (Need("key_id", when=_secure_string),),
    "aws_kinesis_stream": (Need("encryption_type", ("KMS",)), Need("kms_key_id")),
    "aws_elasticache_replication_group": (
        Need("at_rest_encryption_enabled", (True, "true")), Need("kms_key_id")),
    "aws_backup_vault": (Need("kms_key_arn"),),
}

# Buckets are encrypted by a separate resource that points at them.
SSE_CONFIG_TYPE = "aws_s3_bucket_server_side_encryption_configuration"


def _problems(body: dict, needs: tuple[Need, ...]) -> Iterator[str]:
    for need in needs:
        if need.when is not None and not need.when(body):
            continue
        found = values_at(body, need.path)
        if not found:
            yield f"{need.path} is not set" + (
                "" if need.allowed else " (name a customer-managed KMS key)")
        elif need.allowed is not None:
            bad = [v for v in found if v not in need.allowed and not is_token(v)]
            if bad:
                yield f"{need.path} is {bad[0]!r}, allowed: {', '.join(map(repr, need.allowed))}"
        else:
            for value in found:
                if isinstance(value, str) and AWS_MANAGED_KEY.search(value):
                    yield f"{need.path} is the AWS-managed key {value!r}"
                elif value == "":
                    yield f"{need.path} is empty"


class CustomerManagedKeys(Rule):
    id = "ENC001"
    family = "encryption"
    title = "no AES256 / AWS-managed encryption where a customer key can be set"
    rationale = ("Customer-managed KMS keys give us the key policy, rotation, CloudTrail "
                 "records of every use and the ability to revoke access; AES256 (SSE-S3) and "
                 "AWS-managed keys give none of that.")
    fix = ("pass the stack's KeyRef (from the kms stack) to the construct; for buckets add an "
           "aws_s3_bucket_server_side_encryption_configuration with aws:kms and the key")
    resource_types = frozenset(TABLE)

    def check(self, resource: ResourceView) -> Result:
        needs = TABLE.get(resource.type)
        if needs is None:
            return NOT_APPLICABLE
        return from_problems(list(_problems(resource.body, needs)))

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        encrypted = set()
        for config in stack.of_type(SSE_CONFIG_TYPE):
            encrypted.update(r.address for r in stack.resolve(config.get("bucket")))
            literal = config.get("bucket")
            if isinstance(literal, str) and not is_token(literal):
                encrypted.add(literal)
        for resource in stack.resources:
            if not self.applies_to(resource):
                continue
            result = self.check(resource)
            if (resource.type == "aws_s3_bucket" and result == COMPLIANT
                    and not values_at(resource.body, "server_side_encryption_configuration")
                    and resource.address not in encrypted
                    and resource.get("bucket") not in encrypted):
                result = from_problems([(
                    f"no {SSE_CONFIG_TYPE} in this stack points at the bucket, so S3 "
                    "encrypts it with SSE-S3 (AES256)")])
            yield resource.address, result


RULE = CustomerManagedKeys()
