"""Terraform state for every stack: the state key, bucket and lock table, the
read-only role the drift workflow assumes through GitHub's OIDC provider, and the
roles Atlantis plans and applies with.

The Atlantis roles live here, in the first stack, because every other stack's
plan already needs them (including the atlantis stack, whose task role is the
one principal they trust), and because the state they guard is defined here.

The account-wide CIS baseline (password policy, support role, ECR registry
scanning) lives here too, beside the account-wide OIDC provider: see
`_account_baseline`. So does the environment's AWS Backup (`_backup`): locked
vaults at home and in a second Region, and the plan that fills them."""

from __future__ import annotations

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_selection import (
    BackupSelection,
    BackupSelectionCondition,
    BackupSelectionConditionStringEquals,
)
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_lock_configuration import (
    BackupVaultLockConfiguration,
)
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
from environments.tag_keys import ENVIRONMENT_TAG_KEY
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
# What would delete a backup vault, or lift or weaken its lock: in the lock's
# grace time (and for ever, were it in governance mode) these are the calls that
# undo it; widening the vault's access policy would let another account reach it.
BACKUP_VAULT_CHANGES = (
    "backup:DeleteBackupVault", "backup:DeleteBackupVaultLockConfiguration",
    "backup:PutBackupVaultAccessPolicy", "backup:PutBackupVaultLockConfiguration",
)
# What would delete a backup or shorten its life. After the grace time the
# compliance lock refuses them to everyone; before it, only this deny does.
RECOVERY_POINT_CHANGES = (
    "backup:DeleteRecoveryPoint", "backup:DisassociateRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
)
BACKUP_PLAN_CHANGES = ("backup:DeleteBackupPlan",)
BACKUP_SERVICE = "backup.amazonaws.com"
BACKUP_POLICIES = ("AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores")
"""AWS managed (path `service-role/`): what AWS Backup needs to back up and restore
RDS, EFS and DynamoDB (with advanced DynamoDB backup) and to copy across Regions."""
BACKUP_START_WINDOW_MINUTES = 60
"""A job that has not started an hour after the schedule is reported as missed
(AWS's minimum), rather than overlapping the next day's."""
BACKUP_COMPLETION_WINDOW_MINUTES = 360
"""Six hours to finish: the database, a small EFS file system and the lock table
take minutes; a job still running then is cancelled and reported."""
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
        self._backup()
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

    def _backup(self) -> None:
        """AWS Backup of the environment's data: the RDS instances, the EFS file
        systems and the state lock table, daily into a locked vault of this Region,
        each recovery point copied to a locked vault of `settings.backup.copy_region`.
        RDS automated backups, DynamoDB PITR and the EFS backup policy stay: they
        die with the instance or the Region; these do not.

        Here, not in a later stack, because it protects data as the state bucket and
        lock table do and must not depend on the stacks it protects: the selection
        names their resources by ARN pattern and environment tag, never by an SSM
        contract, so it needs nothing published later in the deploy order."""
        backup = self.settings.backup
        region, copy_region = self.settings.region, backup.copy_region
        copy_provider = self.provider_in(copy_region)
        # EFS and DynamoDB (advanced DynamoDB backup, on by default for accounts
        # without a vault before 2021-11-21, and turned on by a plan's first backup)
        # are fully managed by AWS Backup: it encrypts their recovery points with the
        # vault's key, through backup.<region>. RDS snapshots keep the rds key at
        # home; their cross-Region copy is re-encrypted with the copy vault's key by
        # RDS in that Region, hence rds.<copy region> there. Sources: the AWS Backup
        # Developer Guide, "Encryption for backups in AWS Backup" and "Creating
        # backup copies across AWS Regions" (encryption.html, cross-region-backup.html).
        self.backup_key = KmsKey(self, "backup-key", KmsKeyProps(
            name=self.resource_name("backup"),
            description=f"AWS Backup vault of {region}: recovery points of RDS, EFS and the "
                        "state lock table",
            tags=self.tags,
            via_services=(f"backup.{region}.amazonaws.com",),
        ))
        self.backup_copy_key = KmsKey(self, "backup-copy-key", KmsKeyProps(
            name=self.resource_name("backup-copy"),
            description=f"AWS Backup vault of {copy_region}: copies of the {region} "
                        "recovery points",
            tags=self.tags,
            via_services=(f"backup.{copy_region}.amazonaws.com",
                          f"rds.{copy_region}.amazonaws.com"),
            provider=copy_provider,
        ))
        self.backup_vault, self.backup_vault_lock = self._locked_vault(
            "backup-vault", self.resource_name("backup"), self.backup_key, None)
        self.backup_copy_vault, self.backup_copy_vault_lock = self._locked_vault(
            "backup-copy-vault", self.resource_name("backup-copy"), self.backup_copy_key,
            copy_provider)

        plan_name = self.resource_name("backup")
        self.backup_plan = BackupPlan(
            self, "backup-plan",
            name=plan_name,
            rule=[BackupPlanRule(
                rule_name="daily",
                target_vault_name=self.backup_vault.name,
                schedule=backup.schedule,
                start_window=BACKUP_START_WINDOW_MINUTES,
                completion_window=BACKUP_COMPLETION_WINDOW_MINUTES,
                lifecycle=BackupPlanRuleLifecycle(delete_after=backup.retention_days),
                copy_action=[BackupPlanRuleCopyAction(
                    destination_vault_arn=self.backup_copy_vault.arn,
                    lifecycle=BackupPlanRuleCopyActionLifecycle(
                        delete_after=backup.copy_retention_days),
                )],
            )],
            tags=self.tags.resource_tags(plan_name),
        )
        iam_policy = f"arn:{self.partition}:iam::aws:policy/service-role"
        # Trusted by the service alone: AWS Backup assumes it for the jobs of this
        # account's plans. Its confused-deputy guidance puts aws:SourceAccount/SourceArn
        # in resource policies, and no page says the service sends them when it assumes
        # a selection's role (tests/stacks/test_iam_documents.py SOURCELESS_SERVICES).
        self.backup_role = IamRoleWithPolicies(self, "backup-role", IamRoleWithPoliciesProps(
            name=self.resource_name("backup"),
            description="AWS Backup backs up and restores the environment's RDS, EFS and "
                        "lock table, and copies the recovery points to the second Region",
            tags=self.tags,
            service_principals=(BACKUP_SERVICE,),
            managed_policy_arns=tuple(f"{iam_policy}/{name}" for name in BACKUP_POLICIES),
        ))
        def arn(service: str, resource: str) -> str:
            return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

        # Resources and Condition are AND-ed: a resource must match one of the ARN
        # patterns (OR among them) and carry this environment's tag (AND among the
        # conditions), so a second environment in the account is not backed up here.
        # AWS Backup Developer Guide, "Assign resources with AWS CLI"
        # (assigning-resources-json.html) and API_BackupSelection.html; the provider
        # passes `resources` and `condition` through as they are
        # (hashicorp/terraform-provider-aws website/docs/r/backup_selection.html.markdown,
        # "Selecting Backups By Conditions"). RDS and EFS are named by type, the lock
        # table by its own ARN: the state bucket's other tables are not ours to copy.
        self.backup_selection = BackupSelection(
            self, "backup-selection",
            name=self.resource_name("backup"),
            plan_id=self.backup_plan.id,
            iam_role_arn=self.backup_role.arn,
            resources=[arn("rds", "db:*"), arn("elasticfilesystem", "file-system/*"),
                       self.lock_table.arn],
            condition=[BackupSelectionCondition(string_equals=[
                BackupSelectionConditionStringEquals(
                    key=f"aws:ResourceTag/{ENVIRONMENT_TAG_KEY}", value=self.tags.environment),
            ])],
        )

    def _locked_vault(self, id: str, name: str, key: KmsKey, provider: TerraformProvider | None
                      ) -> tuple[BackupVault, BackupVaultLockConfiguration]:
        """A vault encrypted with `key` and its vault lock in compliance mode.

        Compliance, not governance, for the reason the trail bucket's Object Lock
        is: a governance lock is lifted by any principal allowed
        DeleteBackupVaultLockConfiguration, i.e. by exactly the administrators a
        backup must outlive (a compromised admin, a mistaken apply). After
        `vault_lock_grace_days` nobody, root and AWS included, deletes a recovery
        point before it expires, shortens its life, or removes the lock; a vault
        holding recovery points can then no longer be deleted. The minimum is
        `vault_lock_min_days`, which the plan's retentions may not undercut
        (validated), and not the retentions themselves: every argument of a lock
        forces a new one, so a lock tied to the retention would make lengthening
        it impossible. No maximum: no rule asks us to destroy backups by a date."""
        vault = BackupVault(
            self, id,
            name=name,
            kms_key_arn=key.arn,
            tags=self.tags.resource_tags(name),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            provider=provider,
        )
        lock = BackupVaultLockConfiguration(
            self, f"{id}-lock",
            backup_vault_name=vault.name,
            changeable_for_days=self.settings.backup.vault_lock_grace_days,
            min_retention_days=self.settings.backup.vault_lock_min_days,
            # Destroying it in the grace time lifts the lock.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
            provider=provider,
        )
        return vault, lock

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
        # The task role of the Atlantis server that plans and applies this
        # environment: its own, or (staging) another environment's, in that
        # environment's account. The account's root narrowed by aws:PrincipalArn,
        # so IAM accepts the trust before that role exists.
        host = self.context.atlantis_host
        host_iam = f"arn:{partition}:iam::{host.account_id}"
        trust = AccountTrust(account_root=f"{host_iam}:root",
                             principal_arns=(f"{host_iam}:role/{task_role_name(host.name)}",))
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
                        "roles, the state, the trail or the backups",
            tags=self.tags,
            account=trust,
            managed_policy_arns=(ADMIN_POLICY,),
            allow_admin_reason=(
                "the stacks create resources of every kind, IAM roles included; the explicit "
                "denies below keep its own roles, the Terraform state, the trail and the "
                "backups out of reach"),
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
                PolicyStatement(sid="NoBackupVaultUnlocked", effect="Deny",
                                actions=BACKUP_VAULT_CHANGES,
                                resources=(self.backup_vault.arn, self.backup_copy_vault.arn)),
                # Every recovery point: an RDS one is named by an RDS snapshot ARN, not
                # a backup ARN, so no one pattern covers them, and Atlantis has no
                # backup of any kind to delete.
                PolicyStatement(sid="NoBackupDeleted", effect="Deny",
                                actions=RECOVERY_POINT_CHANGES, resources=("*",)),
                # The plan, not the selection: every argument of a selection forces a
                # new one, so changing what is backed up replaces it (a delete).
                PolicyStatement(sid="NoBackupPlanDeleted", effect="Deny",
                                actions=BACKUP_PLAN_CHANGES,
                                resources=(self.backup_plan.arn,)),
                # A vault's recovery points are no longer readable without its key.
                PolicyStatement(sid="NoWeakerBackupKeys", effect="Deny",
                                actions=STATE_KEY_CHANGES,
                                resources=(self.backup_key.arn, self.backup_copy_key.arn)),
            )},
        ))
        # An apply that adds the vault locks and these denies at once must set the
        # locks first: the denies refuse PutBackupVaultLockConfiguration.
        apply.policies["guard-rails"].depends_on = [
            f"{lock.terraform_resource_type}.{lock.friendly_unique_id}"
            for lock in (self.backup_vault_lock, self.backup_copy_vault_lock)]
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
