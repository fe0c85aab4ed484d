"""bootstrap stack: the state key, bucket and lock table, the GitHub OIDC provider,
the Atlantis roles, the S3 backend every stack uses, the account baseline and AWS
Backup (the drift workflow's role: test_drift_role.py)."""

from __future__ import annotations

import pytest

from environments import load_environment
from stacks.bootstrap import (
    BACKUP_PLAN_CHANGES,
    BACKUP_VAULT_CHANGES,
    LOCK_TABLE_CHANGES,
    RECOVERY_POINT_CHANGES,
    ROLE_CHANGES,
    STATE_BUCKET_CHANGES,
    STATE_KEY_CHANGES,
    TRAIL_CHANGES,
)
from stacks.registry import STACK_NAMES
from tests.stacks.synth_json import (
    address,
    at_path,
    attachments,
    conditions,
    one,
    policy_at,
    published,
    ref,
    resources,
    statements,
)

BACKUP = load_environment("prod").backup


@pytest.fixture(scope="module")
def boot(stack_json):
    return stack_json("bootstrap")


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_stack_keeps_its_state_in_the_state_bucket(stack_json, stack):
    assert stack_json(stack)["terraform"]["backend"] == {"s3": {
        "bucket": "prod-connectly-tfstate",
        "key": f"{stack}/terraform.tfstate",
        "region": "ap-northeast-2",
        "encrypt": True,
        "kms_key_id": "alias/prod-tfstate",
        "dynamodb_table": "prod-connectly-tfstate-lock",
    }}


def test_state_key(boot):
    key = at_path(boot, "resource", "aws_kms_key", "bootstrap/state-key/key")
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30
    assert key["lifecycle"]["prevent_destroy"] is True
    assert at_path(boot, "resource", "aws_kms_alias", "bootstrap/state-key/alias")["name"] == (
        "alias/prod-tfstate")
    policy = policy_at(boot, "bootstrap/state-key/policy")
    use = statements(policy)["UseThroughService"]
    assert conditions(use)[("StringEquals", "kms:ViaService")] == [
        "s3.ap-northeast-2.amazonaws.com", "dynamodb.ap-northeast-2.amazonaws.com"]


def test_state_bucket_is_hardened(boot):
    bucket = one(boot, "aws_s3_bucket")
    assert bucket["bucket"] == "prod-connectly-tfstate"
    assert bucket["lifecycle"]["prevent_destroy"] is True
    assert "force_destroy" not in bucket
    assert one(boot, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    (rule,) = one(boot, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["bucket_key_enabled"] is True
    sse = rule["apply_server_side_encryption_by_default"]
    assert sse["sse_algorithm"] == "aws:kms"
    assert sse["kms_master_key_id"].startswith("${aws_kms_key.state-key")
    block = one(boot, "aws_s3_bucket_public_access_block")
    assert all(block[k] is True for k in ("block_public_acls", "block_public_policy",
                                          "ignore_public_acls", "restrict_public_buckets"))
    ownership = one(boot, "aws_s3_bucket_ownership_controls")
    assert ownership["rule"]["object_ownership"] == "BucketOwnerEnforced"
    (lifecycle,) = one(boot, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert lifecycle["noncurrent_version_expiration"][0]["noncurrent_days"] > 0
    policy = policy_at(boot, "bootstrap/state-bucket/policy-document")
    deny = policy["statement"][0]
    assert deny["effect"] == "Deny"
    assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport",
                                  "values": ["false"]}]


def test_lock_table(boot):
    table = one(boot, "aws_dynamodb_table")
    assert table["name"] == "prod-connectly-tfstate-lock"
    assert table["hash_key"] == "LockID"
    assert table["attribute"] == [{"name": "LockID", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["server_side_encryption"]["enabled"] is True
    assert table["server_side_encryption"]["kms_key_arn"].startswith("${aws_kms_key.state-key")
    assert table["point_in_time_recovery"] == {"enabled": True}
    assert table["deletion_protection_enabled"] is True
    assert table["lifecycle"]["prevent_destroy"] is True


def test_github_oidc_provider(boot):
    provider = one(boot, "aws_iam_openid_connect_provider")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert len(provider["thumbprint_list"]) == 2


ACCOUNT = "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}"


PROD_IAM = "arn:${data.aws_partition.partition.partition}:iam::111111111111"


@pytest.mark.parametrize("environment", ["prod", "staging"])
@pytest.mark.parametrize("role", ["atlantis-plan-role", "atlantis-apply-role"])
def test_atlantis_roles_trust_only_the_servers_task_role_without_needing_it(
        env_stack_json, environment, role):
    trust = policy_at(env_stack_json(environment, "bootstrap"), f"bootstrap/{role}/trust-policy")
    (statement,) = trust["statement"]
    assert statement["actions"] == ["sts:AssumeRole"]
    # The account root of the server's account (prod's, for staging too: prod's server
    # plans staging), narrowed to its task role: IAM accepts the trust before the
    # atlantis stack has created that role.
    assert statement["principals"] == [{"type": "AWS", "identifiers": [f"{PROD_IAM}:root"]}]
    assert statement["condition"] == [{"test": "ArnEquals", "variable": "aws:PrincipalArn",
                                       "values": [f"{PROD_IAM}:role/prod-atlantis-task"]}]


def test_plan_role_reads_and_locks_only(boot):
    [attachment] = attachments(boot, "prod-atlantis-plan")
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    policy = policy_at(boot, "bootstrap/atlantis-plan-role/policy-terraform-state-document")
    found = statements(policy)
    assert set(found) == {"LockState", "DecryptState"}
    assert found["LockState"]["resources"][0].startswith("${aws_dynamodb_table.lock-table")
    assert found["DecryptState"]["actions"] == ["kms:Decrypt", "kms:DescribeKey"]
    writes = [a for s in found.values() for a in s["actions"]
              if a.split(":")[1].startswith(("Put", "Delete")) and not a.startswith("dynamodb:")]
    assert writes == []


def test_plan_role_gets_only_reads_that_read_only_access_lacks(boot):
    policy = policy_at(boot, "bootstrap/atlantis-plan-role/policy-reads-beyond-read-only-document")
    actions = [a for s in policy["statement"] for a in s["actions"]]
    assert actions == ["glue:GetPartitionIndexes"]
    assert all(a.split(":")[1].startswith(("Get", "List", "Describe")) for a in actions)
    [statement] = policy["statement"]
    assert all(r.startswith("arn:${data.aws_partition.partition.partition}:glue:")
               for r in statement["resources"])


def test_apply_role_cannot_widen_itself_or_touch_the_state_and_trail(boot):
    [attachment] = attachments(boot, "prod-atlantis-apply")
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert set(attachment["//"]["waivers"]) == {"SEC002", "CKV_AWS_274"}
    policy = policy_at(boot, "bootstrap/atlantis-apply-role/policy-guard-rails-document")
    denies = statements(policy)
    assert None not in denies, "every guard rail has a sid"
    assert all(s["effect"] == "Deny" for s in denies.values())
    assert denies["NoChangeToTheAtlantisRoles"]["resources"] == [
        f"{ACCOUNT}:role/prod-atlantis-plan", f"{ACCOUNT}:role/prod-atlantis-apply"]
    for sid, actions, target in (
            ("NoChangeToTheAtlantisRoles", ROLE_CHANGES, None),
            ("NoWeakerStateBucket", STATE_BUCKET_CHANGES, "${aws_s3_bucket.state-bucket"),
            ("NoWeakerLockTable", LOCK_TABLE_CHANGES, "${aws_dynamodb_table.lock-table"),
            ("NoWeakerStateKey", STATE_KEY_CHANGES, "${aws_kms_key.state-key"),
            ("NoTrailStopped", TRAIL_CHANGES, None),
            ("NoBackupVaultUnlocked", BACKUP_VAULT_CHANGES, "${aws_backup_vault.backup-vault."),
            ("NoBackupDeleted", RECOVERY_POINT_CHANGES, "*"),
            ("NoBackupPlanDeleted", BACKUP_PLAN_CHANGES, "${aws_backup_plan.backup-plan."),
            ("NoWeakerBackupKeys", STATE_KEY_CHANGES, "${aws_kms_key.backup-key_")):
        assert set(denies[sid]["actions"]) == set(actions), sid
        if target:
            assert denies[sid]["resources"][0].startswith(target), sid
    assert {"iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:AttachRolePolicy"} <= set(
        ROLE_CHANGES)
    assert {"s3:DeleteBucket", "s3:PutBucketPolicy"} <= set(STATE_BUCKET_CHANGES)


def test_apply_role_guards_the_trail_the_cloudtrail_stack_creates(boot, stack_json):
    trail = one(stack_json("cloudtrail"), "aws_cloudtrail")["name"]
    policy = policy_at(boot, "bootstrap/atlantis-apply-role/policy-guard-rails-document")
    guard = statements(policy)["NoTrailStopped"]
    assert guard["resources"][0].endswith(f":trail/{trail}")


def test_ssm_parameters(boot):
    assert set(published(boot)) == {f"/prod/bootstrap/{n}" for n in (
        "state-bucket-name", "lock-table-name", "state-key-arn", "github-actions-role-arn",
        "atlantis-plan-role-arn", "atlantis-apply-role-arn")}


# --- the account baseline: CIS controls that exist once per account ----------
ACCOUNT_WIDE = ("aws_iam_account_password_policy", "aws_ecr_registry_scanning_configuration")


def test_password_policy_meets_cis_1_8_and_1_9(boot):
    policy = one(boot, "aws_iam_account_password_policy")
    assert policy["minimum_password_length"] >= 14
    assert policy["password_reuse_prevention"] == 24
    assert 0 < policy["max_password_age"] <= 90
    assert all(policy[k] is True for k in (
        "require_uppercase_characters", "require_lowercase_characters", "require_numbers",
        "require_symbols", "allow_users_to_change_password"))
    assert policy["hard_expiry"] is False


def test_support_role_has_aws_support_access_and_needs_mfa(boot):
    [attachment] = attachments(boot, "prod-support")
    assert attachment["policy_arn"] == (
        "arn:${data.aws_partition.partition.partition}:iam::aws:policy/AWSSupportAccess")
    (statement,) = policy_at(boot, "bootstrap/support-role/trust-policy")["statement"]
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement["principals"] == [{"type": "AWS", "identifiers": [f"{ACCOUNT}:root"]}]
    assert conditions(statement) == {
        ("ArnEquals", "aws:PrincipalArn"): [f"{ACCOUNT}:user/*", f"{ACCOUNT}:role/*"],
        ("Bool", "aws:MultiFactorAuthPresent"): ["true"],
    }
    # Nothing beyond AWSSupportAccess: no inline policy.
    assert not [p for p in boot["resource"]["aws_iam_role_policy"].values()
                if p["name"].startswith("prod-support-")]


def test_ecr_registry_scans_every_image_on_push(boot):
    scanning = one(boot, "aws_ecr_registry_scanning_configuration")
    assert scanning["scan_type"] == "BASIC"
    assert scanning["rule"] == [{"scan_frequency": "SCAN_ON_PUSH", "repository_filter": [
        {"filter": "*", "filter_type": "WILDCARD"}]}]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_account_wide_singletons_live_only_in_bootstrap(stack_json, stack):
    found = stack_json(stack)["resource"]
    expected = 1 if stack == "bootstrap" else 0
    for kind in ACCOUNT_WIDE:
        assert len(found.get(kind, {})) == expected, (stack, kind)
    support = [a for a in found.get("aws_iam_role_policy_attachment", {}).values()
               if a["policy_arn"].endswith(":policy/AWSSupportAccess")]
    assert len(support) == expected, stack


# --- AWS Backup: locked vaults at home and in the copy Region, the daily plan ----------
HOME, COPY = "bootstrap/backup-vault", "bootstrap/backup-copy-vault"


def region_of(stack, body) -> str:
    """The Region of the aws provider a block uses (its `provider`, or the default)."""
    alias = body.get("provider", "aws").partition(".")[2] or None
    return {p.get("alias"): p["region"] for p in stack["provider"]["aws"]}[alias]


def key_address(stack, path) -> str:
    return "aws_kms_key." + next(name for name, body in resources(stack, "aws_kms_key").items()
                                 if body["//"]["metadata"]["path"] == path)


def test_backup_keys_let_aws_backup_use_them_in_their_region(boot):
    for construct, region, alias, services in (
            ("backup-key", "ap-northeast-2", "alias/prod-backup",
             ["backup.ap-northeast-2.amazonaws.com"]),
            ("backup-copy-key", BACKUP.copy_region, "alias/prod-backup-copy",
             [f"backup.{BACKUP.copy_region}.amazonaws.com",
              f"rds.{BACKUP.copy_region}.amazonaws.com"])):
        key = at_path(boot, "resource", "aws_kms_key", f"bootstrap/{construct}/key")
        assert region_of(boot, key) == region, construct
        assert key["enable_key_rotation"] is True and key["lifecycle"]["prevent_destroy"] is True
        alias_body = at_path(boot, "resource", "aws_kms_alias", f"bootstrap/{construct}/alias")
        assert (alias_body["name"], region_of(boot, alias_body)) == (alias, region)
        policy = statements(policy_at(boot, f"bootstrap/{construct}/policy"))
        assert set(policy) == {"AccountAdministration", "UseThroughService",
                               "GrantThroughService"}
        for sid in ("UseThroughService", "GrantThroughService"):
            assert conditions(policy[sid])[("StringEquals", "kms:ViaService")] == services
        assert conditions(policy["GrantThroughService"])[
            ("Bool", "kms:GrantIsForAWSResource")] == ["true"]


def test_backup_vaults_use_their_own_keys_and_compliance_locks(boot):
    copy_region = BACKUP.copy_region
    for path, name, key, region, kept in (
            (HOME, "prod-backup", "bootstrap/backup-key/key", "ap-northeast-2",
             BACKUP.retention_days),
            (COPY, "prod-backup-copy", "bootstrap/backup-copy-key/key", copy_region,
             BACKUP.copy_retention_days)):
        vault = at_path(boot, "resource", "aws_backup_vault", path)
        assert vault["name"] == name
        assert vault["kms_key_arn"] == ref(key_address(boot, key), "arn")
        assert region_of(boot, vault) == region
        assert vault["lifecycle"]["prevent_destroy"] is True
        assert "force_destroy" not in vault
        lock = at_path(boot, "resource", "aws_backup_vault_lock_configuration", f"{path}-lock")
        assert lock["backup_vault_name"] == ref(f"aws_backup_vault.{path.split('/')[1]}", "name")
        assert region_of(boot, lock) == region
        # Compliance mode: a grace time, after which nobody lifts it.
        assert lock["changeable_for_days"] == BACKUP.vault_lock_grace_days >= 3
        # The plan's jobs into this vault fit its lock.
        assert lock["min_retention_days"] == BACKUP.vault_lock_min_days <= kept
        assert "max_retention_days" not in lock
        assert lock["lifecycle"]["prevent_destroy"] is True
    assert copy_region != "ap-northeast-2"


def test_backup_plan_runs_daily_and_copies_to_the_other_region(boot):
    plan = one(boot, "aws_backup_plan")
    assert plan["name"] == "prod-backup"
    [rule] = plan["rule"]
    assert rule["schedule"] == BACKUP.schedule == "cron(0 17 * * ? *)"
    assert rule["target_vault_name"] == ref("aws_backup_vault.backup-vault", "name")
    assert rule["lifecycle"] == {"delete_after": BACKUP.retention_days}
    assert 60 <= rule["start_window"] < rule["completion_window"]
    assert "enable_continuous_backup" not in rule
    [copy] = rule["copy_action"]
    assert copy == {"destination_vault_arn": ref("aws_backup_vault.backup-copy-vault", "arn"),
                    "lifecycle": {"delete_after": BACKUP.copy_retention_days}}
    destination = resources(boot, "aws_backup_vault")["backup-copy-vault"]
    assert region_of(boot, destination) != region_of(boot, plan)


PARTITION_ACCOUNT = ("${data.aws_partition.partition.partition}",
                     "${data.aws_caller_identity.account.account_id}")


def test_backup_selection_picks_this_environments_databases_file_systems_and_lock_table(boot):
    selection = one(boot, "aws_backup_selection")
    partition, account = PARTITION_ACCOUNT
    assert selection["plan_id"] == ref("aws_backup_plan.backup-plan")
    assert selection["iam_role_arn"] == ref(address(boot, "aws_iam_role", name="prod-backup"),
                                            "arn")
    assert selection["resources"] == [
        f"arn:{partition}:rds:ap-northeast-2:{account}:db:*",
        f"arn:{partition}:elasticfilesystem:ap-northeast-2:{account}:file-system/*",
        ref("aws_dynamodb_table.lock-table", "arn"),
    ]
    # AND-ed with the resources: only what carries this environment's tag.
    assert selection["condition"] == [{"string_equals": [
        {"key": "aws:ResourceTag/Environment", "value": "prod"}]}]
    assert "selection_tag" not in selection and "not_resources" not in selection


@pytest.mark.parametrize(("stack", "kind"), [("rds", "aws_db_instance"),
                                             ("atlantis", "aws_efs_file_system")])
def test_the_data_stacks_resources_match_the_selection(boot, stack_json, stack, kind):
    """The selection names no resource of a later stack: the RDS instance and the EFS
    file system it must back up live in its Region and carry its tag value."""
    doc = stack_json(stack)
    [condition] = one(boot, "aws_backup_selection")["condition"][0]["string_equals"]
    tag = condition["key"].removeprefix("aws:ResourceTag/")
    for body in resources(doc, kind).values():
        assert region_of(doc, body) == region_of(boot, one(boot, "aws_backup_selection"))
        default_tags = {p.get("alias"): p["default_tags"][0]["tags"]
                        for p in doc["provider"]["aws"]}[None]
        assert {**default_tags, **body.get("tags", {})}[tag] == condition["value"]


def test_backup_role_is_assumed_by_aws_backup_with_its_managed_policies(boot):
    (statement,) = policy_at(boot, "bootstrap/backup-role/trust-policy")["statement"]
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement["principals"] == [{"type": "Service",
                                        "identifiers": ["backup.amazonaws.com"]}]
    partition, _ = PARTITION_ACCOUNT
    assert sorted(a["policy_arn"] for a in attachments(boot, "prod-backup")) == [
        f"arn:{partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        f"arn:{partition}:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"]
    assert not [p for p in boot["resource"]["aws_iam_role_policy"].values()
                if p["name"].startswith("prod-backup-")]


def test_apply_role_guards_the_backups_and_is_written_after_the_locks(boot):
    denies = statements(policy_at(
        boot, "bootstrap/atlantis-apply-role/policy-guard-rails-document"))
    assert denies["NoBackupVaultUnlocked"]["resources"] == [
        ref("aws_backup_vault.backup-vault", "arn"), ref("aws_backup_vault.backup-copy-vault", "arn")]
    assert denies["NoBackupDeleted"]["resources"] == ["*"]
    assert denies["NoBackupPlanDeleted"]["resources"] == [ref("aws_backup_plan.backup-plan", "arn")]
    assert denies["NoWeakerBackupKeys"]["resources"] == [
        ref(key_address(boot, "bootstrap/backup-key/key"), "arn"),
        ref(key_address(boot, "bootstrap/backup-copy-key/key"), "arn")]
    assert {"backup:DeleteBackupVaultLockConfiguration", "backup:DeleteBackupVault"} <= set(
        BACKUP_VAULT_CHANGES)
    assert {"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"} <= set(
        RECOVERY_POINT_CHANGES)
    guard_rails = at_path(boot, "resource", "aws_iam_role_policy",
                          "bootstrap/atlantis-apply-role/policy-guard-rails")
    assert guard_rails["depends_on"] == [
        "aws_backup_vault_lock_configuration.backup-vault-lock",
        "aws_backup_vault_lock_configuration.backup-copy-vault-lock"]
