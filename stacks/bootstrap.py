"""Terraform state for every stack: the state key, bucket and lock table, the
read-only role the drift workflow assumes through GitHub's OIDC provider, and the
roles Atlantis plans and applies with.

The Atlantis roles live here, in the first stack, because every other stack's
plan already needs them (including the atlantis stack, whose task role is the
one principal they trust), and because the state they guard is defined here.

The account-wide CIS baseline (password policy, support role, ECR registry
scanning) lives here too, beside the account-wide OIDC provider: see
`_account_baseline`."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.ecr_registry_scanning_configuration import (
    EcrRegistryScanningConfiguration,
    EcrRegistryScanningConfigurationRule,
    EcrRegistryScanningConfigurationRuleRepositoryFilter,
)
from cdktf_cdktf_provider_aws.iam_account_password_policy import IamAccountPasswordPolicy
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from constructs import Construct

from constructs_lib.iam_role_policy import (
    AccountTrust,
    FederatedTrust,
    IamRoleWithPolicies,
    IamRoleWithPoliciesProps,
)
from constructs_lib.kms_key import KmsKey, KmsKeyProps
from constructs_lib.policy_document import Condition, PolicyStatement
from constructs_lib.refs import KeyRef
from constructs_lib.s3_bucket import S3Bucket, S3BucketProps
from stacks.atlantis_repo_config import apply_role_name, plan_role_name, task_role_name
from stacks.base import BuildContext, GovernedStack
from stacks.github_oidc import OIDC_HOST, STS_AUDIENCE, drift_subjects
from stacks.spec import StackSpec

# The certificate thumbprints AWS documents for GitHub's OIDC endpoint. IAM
# trusts GitHub through its CA library today; the list is kept so the provider
# also works where that is not (yet) the case.
GITHUB_OIDC_THUMBPRINTS = (
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
    "6938fd4d98bab03faadb97b34396831e3780aea1",
)
READ_ONLY_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
# What would widen the Atlantis roles' own trust or permissions.
ROLE_CHANGES = (
    "iam:AttachRolePolicy", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
)
# What would delete the state, its history or its protection, or the audit trail.
STATE_BUCKET_CHANGES = (
    "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock",
    "s3:PutLifecycleConfiguration",
)
LOCK_TABLE_CHANGES = ("dynamodb:DeleteTable", "dynamodb:UpdateContinuousBackups",
                      "dynamodb:UpdateTable")
STATE_KEY_CHANGES = ("kms:DisableKey", "kms:DisableKeyRotation", "kms:PutKeyPolicy",
                     "kms:ScheduleKeyDeletion")
TRAIL_CHANGES = ("cloudtrail:DeleteTrail", "cloudtrail:StopLogging")
# CIS AWS Foundations 1.8 (length >= 14) and 1.9 (remember 24); the character
# classes and the 90-day age are what checkov's CKV_AWS_9..15 ask for.
PASSWORD_POLICY = {
    "minimum_password_length": 14,
    "password_reuse_prevention": 24,
    "max_password_age": 90,
    "require_uppercase_characters": True,
    "require_lowercase_characters": True,
    "require_numbers": True,
    "require_symbols": True,
    "allow_users_to_change_password": True,
    # An expired password is changed by its owner at the next sign-in, not by an admin.
    "hard_expiry": False,
}
SUPPORT_POLICY = "AWSSupportAccess"


class BootstrapStack(GovernedStack):
    """State key, state bucket, lock table, GitHub OIDC provider, the drift
    workflow's role and the Atlantis roles."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        state = self.settings.state
        region = self.settings.region
        self.state_key = KmsKey(self, "state-key", KmsKeyProps(
            name=state.kms_alias.removeprefix("alias/"),
            description="Terraform state of every stack (S3 objects and the lock table)",
            tags=self.tags,
            # Principals of the account may use the key only through S3 and
            # DynamoDB; DynamoDB also holds it through a grant for the table.
            via_services=(f"s3.{region}.amazonaws.com", f"dynamodb.{region}.amazonaws.com"),
        ))
        key = KeyRef(arn=self.state_key.arn, alias=self.state_key.alias_name)

        self.state_bucket = S3Bucket(self, "state-bucket", S3BucketProps(
            name=state.bucket,
            tags=self.tags,
            kms_key=key,
        ))

        self.lock_table = DynamodbTable(
            self, "lock-table",
            name=state.lock_table,
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            billing_mode="PAY_PER_REQUEST",
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=self.state_key.arn),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=True,
            tags=self.tags.resource_tags(state.lock_table),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )

        self.github_oidc = IamOpenidConnectProvider(
            self, "github-oidc",
            url=f"https://{OIDC_HOST}",
            client_id_list=[STS_AUDIENCE],
            thumbprint_list=list(GITHUB_OIDC_THUMBPRINTS),
            tags=self.tags.resource_tags(self.resource_name("github-actions-oidc")),
        )
        self.partition = DataAwsPartition(self, "partition").partition
        self.account_id = DataAwsCallerIdentity(self, "account").account_id
        self.github_role = self._github_actions_role()
        self.plan_role, self.apply_role = self._atlantis_roles()
        self._account_baseline()

        self.publish("state-bucket-name", self.state_bucket.name,
                     "Bucket holding the Terraform state of every stack")
        self.publish("lock-table-name", self.lock_table.name,
                     "DynamoDB table holding the Terraform state locks")
        self.publish("state-key-arn", self.state_key.arn,
                     "ARN of the KMS key encrypting the Terraform state")
        self.publish("github-actions-role-arn", self.github_role.arn,
                     "Role the drift workflow assumes (GitHub OIDC): reads every resource "
                     "and the state, writes nothing")
        self.publish("atlantis-plan-role-arn", self.plan_role.arn,
                     "Role Atlantis plans with: reads everything, writes only the state lock")
        self.publish("atlantis-apply-role-arn", self.apply_role.arn,
                     "Role Atlantis applies with; it cannot widen itself or delete the state")

    def _account_baseline(self) -> None:
        """CIS controls that exist once per account, not per environment: the
        IAM password policy and the support role (IAM is global), and ECR's
        registry scanning configuration (one per account and Region).

        Account-wide, like the GitHub OIDC provider above: a second environment
        sharing this account must not build them again (the two bootstraps would
        overwrite each other's password policy and scanning rules), so they stay
        here, in the environment that owns the account, and nowhere else."""
        self.password_policy = IamAccountPasswordPolicy(self, "password-policy",
                                                        **PASSWORD_POLICY)
        iam = f"arn:{self.partition}:iam::{self.account_id}"
        # CIS 1.17. People of this account (IAM users, and roles they assumed
        # with MFA) may assume it, and only from a session that signed in with
        # MFA. IAM Identity Center sessions carry no MFA key: such users get
        # AWSSupportAccess through a permission set instead.
        self.support_role = IamRoleWithPolicies(self, "support-role", IamRoleWithPoliciesProps(
            name=self.resource_name("support"),
            description="CIS 1.17: people of this account open and manage AWS Support cases "
                        "during incidents (MFA required)",
            tags=self.tags,
            account=AccountTrust(account_root=f"{iam}:root",
                                 principal_arns=(f"{iam}:user/*", f"{iam}:role/*"),
                                 require_mfa=True),
            managed_policy_arns=(f"arn:{self.partition}:iam::aws:policy/{SUPPORT_POLICY}",),
        ))
        # BASIC scanning (free, AWS-native) of every image pushed to any
        # repository of the registry; it supersedes the repositories' own
        # scan_on_push. ENHANCED (Amazon Inspector, continuous rescans of the
        # OS and language packages) is billed per image and needs Inspector
        # enabled for the account: the upgrade is scan_type="ENHANCED" with
        # scan_frequency="CONTINUOUS_SCAN" once Inspector is.
        self.registry_scanning = EcrRegistryScanningConfiguration(
            self, "ecr-registry-scanning",
            scan_type="BASIC",
            rule=[EcrRegistryScanningConfigurationRule(
                scan_frequency="SCAN_ON_PUSH",
                repository_filter=[EcrRegistryScanningConfigurationRuleRepositoryFilter(
                    filter="*", filter_type="WILDCARD")],
            )],
        )

    def _decrypt_state(self) -> PolicyStatement:
        # ReadOnlyAccess reads the state objects but cannot decrypt them.
        return PolicyStatement(sid="DecryptState", actions=("kms:Decrypt", "kms:DescribeKey"),
                               resources=(self.state_key.arn,))

    def _reads_beyond_read_only(self) -> tuple[PolicyStatement, ...]:
        """Reads the provider makes in a plan that ReadOnlyAccess (v190) lacks:
        aws_glue_catalog_table's read calls GetPartitionIndexes (the cloudtrail
        stack's Athena table). Found by `make pr-flow` under moto's IAM enforcement."""
        glue = f"arn:{self.partition}:glue:{self.settings.region}:{self.account_id}"
        return (PolicyStatement(sid="ReadGlueTablePartitionIndexes",
                                actions=("glue:GetPartitionIndexes",),
                                resources=(f"{glue}:catalog", f"{glue}:database/*",
                                           f"{glue}:table/*/*")),)

    def _atlantis_roles(self) -> tuple[IamRoleWithPolicies, IamRoleWithPolicies]:
        env = self.settings.name
        partition, account = self.partition, self.account_id
        iam = f"arn:{partition}:iam::{account}"
        trust = AccountTrust(account_root=f"{iam}:root",
                             principal_arns=(f"{iam}:role/{task_role_name(env)}",))
        lock = PolicyStatement(
            sid="LockState",
            actions=("dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem",
                     "dynamodb:PutItem"),
            resources=(self.lock_table.arn,))
        plan = IamRoleWithPolicies(self, "atlantis-plan-role", IamRoleWithPoliciesProps(
            name=plan_role_name(env),
            description="Atlantis plans: reads every resource and the state, writes only the lock",
            tags=self.tags,
            account=trust,
            managed_policy_arns=(READ_ONLY_POLICY,),
            inline_policies={"terraform-state": (lock, self._decrypt_state()),
                             "reads-beyond-read-only": self._reads_beyond_read_only()},
        ))
        trail = (f"arn:{partition}:cloudtrail:{self.settings.region}:{account}:trail/"
                 f"{self.resource_name('trail')}")
        apply = IamRoleWithPolicies(self, "atlantis-apply-role", IamRoleWithPoliciesProps(
            name=apply_role_name(env),
            description="Atlantis applies: changes the stacks' resources, never its own "
                        "roles, the state or the trail",
            tags=self.tags,
            account=trust,
            managed_policy_arns=(ADMIN_POLICY,),
            allow_admin_reason=(
                "the stacks create resources of every kind, IAM roles included; the explicit "
                "denies below keep its own roles, the Terraform state and the trail out of reach"),
            inline_policies={"guard-rails": (
                PolicyStatement(sid="NoChangeToTheAtlantisRoles", effect="Deny",
                                actions=ROLE_CHANGES,
                                resources=(f"{iam}:role/{plan_role_name(env)}",
                                           f"{iam}:role/{apply_role_name(env)}")),
                PolicyStatement(sid="NoWeakerStateBucket", effect="Deny",
                                actions=STATE_BUCKET_CHANGES,
                                resources=(self.state_bucket.arn,)),
                PolicyStatement(sid="NoStateHistoryDeleted", effect="Deny",
                                actions=("s3:DeleteObjectVersion",),
                                resources=(f"{self.state_bucket.arn}/*",)),
                PolicyStatement(sid="NoWeakerLockTable", effect="Deny",
                                actions=LOCK_TABLE_CHANGES, resources=(self.lock_table.arn,)),
                PolicyStatement(sid="NoWeakerStateKey", effect="Deny",
                                actions=STATE_KEY_CHANGES, resources=(self.state_key.arn,)),
                PolicyStatement(sid="NoTrailStopped", effect="Deny", actions=TRAIL_CHANGES,
                                resources=(trail,)),
            )},
        ))
        return plan, apply

    def _github_actions_role(self) -> IamRoleWithPolicies:
        """The role the drift workflow (.github/workflows/drift.yml) assumes: it plans
        every stack without the state lock (`-lock=false`) and cannot apply. It reads
        what the Atlantis plan role reads, without the lock writes: ReadOnlyAccess, the
        state key's decrypt and the reads ReadOnlyAccess lacks; no state, lock or other
        write. Its trust is the one customized OIDC subject of a drift.yml run on the
        default branch, started by the schedule or by hand (stacks/github_oidc.py).

        Construct id and name kept from when it was a general CI role with state
        writes: the address must not move."""
        github = self.settings.github
        branch = github.default_branch
        return IamRoleWithPolicies(self, "github-actions-role", IamRoleWithPoliciesProps(
            name=self.resource_name("github-actions"),
            description=f"Drift check of {github.repository} (.github/workflows/drift.yml on "
                        f"{branch}, scheduled or by hand): reads every resource and the "
                        "Terraform state, writes nothing",
            tags=self.tags,
            federated=FederatedTrust(
                provider_arn=self.github_oidc.arn,
                conditions=(
                    Condition(test="StringEquals", variable=f"{OIDC_HOST}:aud",
                              values=(STS_AUDIENCE,)),
                    Condition(test="StringEquals", variable=f"{OIDC_HOST}:sub",
                              values=drift_subjects(github.repository, branch,
                                                    github.immutable_ids)),
                ),
            ),
            managed_policy_arns=(READ_ONLY_POLICY,),
            inline_policies={"terraform-state": (self._decrypt_state(),),
                             "reads-beyond-read-only": self._reads_beyond_read_only()},
        ))
