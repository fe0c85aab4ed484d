"""S3 bucket hardened as the reference's s3-bucket module: versioned, SSE-KMS with
a bucket key, no public access, owner-enforced, TLS-only, with a lifecycle."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket as S3BucketResource
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from constructs_lib import waivers
from constructs_lib.errors import Problems
from constructs_lib.formats import is_unresolved
from constructs_lib.grants import attach_role_policy
from constructs_lib.policy_document import (
    Condition,
    PolicyStatement,
    Principal,
    check_statements,
    policy_document,
    render_statements,
)
from constructs_lib.prop_checks import check_name, check_reason
from constructs_lib.refs import KeyRef, RoleRef
from constructs_lib.tags import RequiredTags

# S3 naming rules beyond kebab-case: 3-63 characters, and suffixes S3 reserves.
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3")
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
OBJECT_LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
MAX_OBJECT_LOCK_DAYS = 36500
"""S3 caps a default retention at 100 years."""


@dataclass(frozen=True, kw_only=True)
class AccessLogging:
    """Where S3 server access logs of the bucket go."""

    target_bucket: str
    """Name of the log bucket (not its ARN)."""
    target_prefix: str
    """Key prefix for this bucket's logs, e.g. `state-bucket/`."""


@dataclass(frozen=True, kw_only=True)
class ObjectLock:
    """S3 Object Lock (WORM) default retention for every new object version.

    Applied with `aws_s3_bucket_object_lock_configuration` only, never with the
    bucket's `object_lock_enabled` (that argument forces a new bucket): since
    2023 S3 enables Object Lock on an existing versioned bucket through
    PutObjectLockConfiguration, so adding this to a bucket that already holds
    objects is an in-place change. It cannot be undone: S3 never turns Object
    Lock off again, and versioning can no longer be suspended. Versions written
    before it keep no retention.
    """

    mode: str
    """`GOVERNANCE` (principals with `s3:BypassGovernanceRetention` may still
    delete or shorten) or `COMPLIANCE` (nobody, root included, can delete a
    version or shorten its retention until it expires)."""
    days: int
    """Default retention of each object version, in days (1-36500)."""


@dataclass(frozen=True, kw_only=True)
class S3BucketProps:
    name: str
    """Bucket name: kebab-case, starting with `<environment>-`, 3-63 characters."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    kms_key: KeyRef
    """Customer-managed key for SSE-KMS (with an S3 bucket key)."""
    extra_policy_statements: tuple[PolicyStatement, ...] = ()
    """Bucket policy statements besides the TLS-only deny (e.g. CloudTrail's
    GetBucketAcl/PutObject). Left empty: the policy only denies non-TLS access.
    Statements can also be added later with `add_policy_statements`."""
    noncurrent_version_expiration_days: int = 90
    """Days until a noncurrent object version is deleted. Left out: 90."""
    abort_incomplete_multipart_upload_days: int = 7
    """Days until an unfinished multipart upload is aborted. Left out: 7."""
    expiration_days: int | None = None
    """Days until current objects expire. Left out: they never expire."""
    access_logging: AccessLogging | None = None
    """Left out: no S3 server access logging (CloudTrail data events are the
    audit trail for object access)."""
    object_lock: ObjectLock | None = None
    """Left out: no Object Lock; versions can be deleted by whoever may delete
    them. Set: every new object version is WORM for `days` in `mode`."""
    allow_destroy_reason: str | None = None
    """Left out: the bucket carries `prevent_destroy`. A reason (≥ 10 characters)
    lifts it and is recorded as waiver PRO001. `force_destroy` is never set."""


class S3Bucket(Construct):
    """A private, versioned, KMS-encrypted bucket with a TLS-only policy.

    `grant_read`/`grant_write` attach an inline policy to a role that covers
    the objects and the KMS key; `read_statements`/`write_statements` give the
    same statements for roles built with `IamRoleWithPolicies` (`add_statements`).
    """

    def __init__(self, scope: Construct, id: str, props: S3BucketProps):
        super().__init__(scope, id)
        _validate(props, self.node.path)
        self.props = props
        self.name = props.name

        self.bucket = S3BucketResource(
            self,
            "bucket",
            bucket=props.name,
            tags=props.tags.resource_tags(props.name),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.allow_destroy_reason is None),
        )
        if props.allow_destroy_reason is not None:
            waivers.record(self.bucket, "PRO001", props.allow_destroy_reason, where=self.node.path)
        bucket_id = self.bucket.id

        self.public_access_block = S3BucketPublicAccessBlock(
            self, "public-access-block", bucket=bucket_id,
            block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True,
        )
        self.ownership_controls = S3BucketOwnershipControls(
            self, "ownership", bucket=bucket_id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        self.versioning = S3BucketVersioningA(
            self, "versioning", bucket=bucket_id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        self.encryption = S3BucketServerSideEncryptionConfigurationA(
            self, "encryption", bucket=bucket_id,
            rule=[S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=(
                    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=props.kms_key.arn)),
                bucket_key_enabled=True,
            )],
        )
        # Lifecycle rules on a versioned bucket need versioning to exist first.
        self.lifecycle_configuration = S3BucketLifecycleConfiguration(
            self, "lifecycle", bucket=bucket_id, rule=[_lifecycle_rule(props)],
            depends_on=[self.versioning],
        )
        self.object_lock: S3BucketObjectLockConfigurationA | None = None
        if props.object_lock is not None:
            # S3 accepts an Object Lock configuration only on a versioned bucket.
            self.object_lock = S3BucketObjectLockConfigurationA(
                self, "object-lock", bucket=bucket_id,
                rule=S3BucketObjectLockConfigurationRuleA(
                    default_retention=S3BucketObjectLockConfigurationRuleDefaultRetentionA(
                        mode=props.object_lock.mode, days=props.object_lock.days)),
                depends_on=[self.versioning],
            )
        if props.access_logging is not None:
            self.logging = S3BucketLoggingA(
                self, "logging", bucket=bucket_id,
                target_bucket=props.access_logging.target_bucket,
                target_prefix=props.access_logging.target_prefix,
            )

        self._statements = [self._deny_insecure_transport(), *props.extra_policy_statements]
        self.policy_document = policy_document(self, "policy-document", self._statements)
        # The public access block must be in place before a policy is attached.
        self.policy = S3BucketPolicy(
            self, "policy", bucket=bucket_id, policy=self.policy_document.json,
            depends_on=[self.public_access_block],
        )

    @property
    def arn(self) -> str:
        return self.bucket.arn

    def add_policy_statements(self, *statements: PolicyStatement) -> None:
        """Append statements to the bucket policy (e.g. ones that name `self.arn`)."""
        problems = Problems(self.node.path)
        check_statements(problems, "add_policy_statements", statements, resource_policy=True)
        problems.raise_if_any()
        self._statements.extend(statements)
        self.policy_document.put_statement(render_statements(self._statements))

    def read_statements(self) -> tuple[PolicyStatement, ...]:
        """Identity-policy statements to list the bucket, read objects and decrypt them."""
        return (
            PolicyStatement(actions=("s3:GetBucketLocation", "s3:ListBucket"),
                            resources=(self.arn,)),
            PolicyStatement(actions=("s3:GetObject", "s3:GetObjectVersion"),
                            resources=(f"{self.arn}/*",)),
            PolicyStatement(actions=("kms:Decrypt",), resources=(self.props.kms_key.arn,)),
        )

    def write_statements(self) -> tuple[PolicyStatement, ...]:
        """Identity-policy statements to write and delete objects, with the KMS
        use that SSE-KMS needs (Decrypt too: multipart uploads read their parts)."""
        return (
            PolicyStatement(actions=("s3:GetBucketLocation", "s3:ListBucket"),
                            resources=(self.arn,)),
            PolicyStatement(actions=("s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"),
                            resources=(f"{self.arn}/*",)),
            PolicyStatement(actions=("kms:Decrypt", "kms:GenerateDataKey"),
                            resources=(self.props.kms_key.arn,)),
        )

    def grant_read(self, role: RoleRef, *, id: str) -> IamRolePolicy:
        """Attach an inline policy `<bucket>-read-<id>` with `read_statements()` to
        `role` (grant shape: constructs_lib/grants.py)."""
        return attach_role_policy(self, method="grant_read", verb="read", id=id, role=role,
                                  name_prefix=self.name, statements=self.read_statements())

    def grant_write(self, role: RoleRef, *, id: str) -> IamRolePolicy:
        """Attach an inline policy `<bucket>-write-<id>` with `write_statements()` to
        `role` (grant shape: constructs_lib/grants.py)."""
        return attach_role_policy(self, method="grant_write", verb="write", id=id, role=role,
                                  name_prefix=self.name, statements=self.write_statements())

    def _deny_insecure_transport(self) -> PolicyStatement:
        return PolicyStatement(
            sid="DenyInsecureTransport",
            effect="Deny",
            principals=(Principal(type="AWS", identifiers=("*",)),),
            actions=("s3:*",),
            resources=(self.bucket.arn, f"{self.bucket.arn}/*"),
            conditions=(Condition(test="Bool", variable="aws:SecureTransport", values=("false",)),),
        )


def _lifecycle_rule(props: S3BucketProps) -> S3BucketLifecycleConfigurationRule:
    return S3BucketLifecycleConfigurationRule(
        id="default",
        status="Enabled",
        # An empty filter: the rule covers every object.
        filter=[S3BucketLifecycleConfigurationRuleFilter()],
        noncurrent_version_expiration=[
            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                noncurrent_days=props.noncurrent_version_expiration_days)],
        abort_incomplete_multipart_upload=[
            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                days_after_initiation=props.abort_incomplete_multipart_upload_days)],
        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=props.expiration_days)]
        if props.expiration_days is not None else None,
    )


def _validate(props: S3BucketProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=63)
    if not is_unresolved(props.name) and isinstance(props.name, str):
        if not BUCKET_NAME.match(props.name):
            problems.add("name", props.name,
                         "S3 allows 3-63 lowercase letters, digits and hyphens")
        elif props.name.endswith(RESERVED_SUFFIXES):
            problems.add("name", props.name, f"S3 reserves the suffixes {RESERVED_SUFFIXES}")
    if not isinstance(props.kms_key, KeyRef):
        problems.add("kms_key", props.kms_key, "allowed is a KeyRef (customer-managed key)")
    check_statements(problems, "extra_policy_statements", props.extra_policy_statements,
                     resource_policy=True)
    for field in ("noncurrent_version_expiration_days", "abort_incomplete_multipart_upload_days",
                  "expiration_days"):
        days = getattr(props, field)
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
            problems.add(field, days, "allowed is a whole number of days, at least 1")
    if props.access_logging is not None:
        target = props.access_logging.target_bucket
        if not is_unresolved(target) and not BUCKET_NAME.match(str(target)):
            problems.add("access_logging.target_bucket", target, "allowed is a bucket name")
        if props.access_logging.target_bucket == props.name:
            problems.add("access_logging.target_bucket", target,
                         "a bucket must not log into itself")
    if props.object_lock is not None:
        lock = props.object_lock
        if not isinstance(lock, ObjectLock):
            problems.add("object_lock", lock, "allowed is an ObjectLock(mode=, days=)")
        else:
            if lock.mode not in OBJECT_LOCK_MODES:
                problems.add("object_lock.mode", lock.mode,
                             f"allowed is one of {OBJECT_LOCK_MODES}")
            if (not isinstance(lock.days, int) or isinstance(lock.days, bool)
                    or not 1 <= lock.days <= MAX_OBJECT_LOCK_DAYS):
                problems.add("object_lock.days", lock.days,
                             f"allowed is a whole number of days from 1 to {MAX_OBJECT_LOCK_DAYS}")
    check_reason(problems, "allow_destroy_reason", props.allow_destroy_reason)
    problems.raise_if_any()
