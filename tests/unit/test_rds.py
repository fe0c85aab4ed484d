"""RdsInstance: hardened MySQL with subnet group, TLS-only parameters, monitoring role, waivers."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput

from constructs_lib.errors import ConfigError
from constructs_lib.rds import RdsInstance, RdsInstanceProps
from constructs_lib.refs import KeyRef, SecurityGroupRef, SubnetsRef
from tests.unit.synth_helpers import assert_resource, governance_findings, matchable, one_under

RDS_KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/rds")
SECRETS_KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/secrets")
PI_KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/monitoring")
SUBNETS = SubnetsRef(ids=["subnet-a", "subnet-c"])
GROUPS = [SecurityGroupRef(id="sg-db")]


def props(tags, **overrides) -> RdsInstanceProps:
    values = {"name": "prod-app-db", "tags": tags, "kms_key": RDS_KEY,
                  "master_user_secret_kms_key": SECRETS_KEY, "subnets": SUBNETS,
                  "security_groups": GROUPS, "parameters": {"slow_query_log": "1"}}
    values.update(overrides)
    return RdsInstanceProps(**values)


@pytest.fixture(scope="module")
def synthesized(make_stack, synth, tags):
    stack = make_stack()
    db = RdsInstance(stack, "db", props(tags))
    RdsInstance(stack, "scratch", props(
        tags, name="prod-scratch-db", performance_insights_kms_key=PI_KEY, parameters={},
        enable_multi_az=False, multi_az_off_reason="single-AZ scratch copy for load tests",
        enable_deletion_protection=False,
        deletion_protection_off_reason="scratch copy is recreated daily from a snapshot",
        allow_destroy_reason="scratch copy is recreated daily from a snapshot"))
    TerraformOutput(stack, "secret_arn", value=db.master_user_secret_arn)
    TerraformOutput(stack, "endpoint", value=db.endpoint)
    return db, synth(stack), matchable(stack)


def test_instance_is_hardened(synthesized, tags):
    _, doc, received = synthesized
    # Scalars and lists of scalars only: the matcher compares them exactly.
    assert_resource(received, "aws_db_instance", {
        "identifier": "prod-app-db", "engine": "mysql", "engine_version": "8.0",
        "instance_class": "db.t3.medium", "storage_type": "gp3", "allocated_storage": 20,
        "max_allocated_storage": 100, "multi_az": True, "storage_encrypted": True,
        "kms_key_id": RDS_KEY.arn, "manage_master_user_password": True,
        "master_user_secret_kms_key_id": SECRETS_KEY.arn, "deletion_protection": True,
        "skip_final_snapshot": False, "final_snapshot_identifier": "prod-app-db-final",
        "backup_retention_period": 7, "performance_insights_enabled": True,
        "performance_insights_kms_key_id": RDS_KEY.arn,
        "performance_insights_retention_period": 7,
        "iam_database_authentication_enabled": True,
        "enabled_cloudwatch_logs_exports": ["audit", "error", "general", "slowquery"],
        "auto_minor_version_upgrade": True, "copy_tags_to_snapshot": True,
        "publicly_accessible": False, "monitoring_interval": 60, "port": 3306,
        "vpc_security_group_ids": ["sg-db"],
    })
    db = one_under(doc, "aws_db_instance", "db")
    assert db["identifier"] == "prod-app-db"
    assert "password" not in db
    # Not RDS's default: Security Hub RDS.25.
    assert db["username"] == "dbmaster"
    assert db["lifecycle"] == {"prevent_destroy": True}
    assert db["monitoring_role_arn"].startswith("${aws_iam_role.db_monitoring-role")
    assert db["db_subnet_group_name"].startswith("${aws_db_subnet_group.")
    assert db["parameter_group_name"].startswith("${aws_db_parameter_group.")
    assert db["tags"] == tags.resource_tags("prod-app-db")
    assert "//" not in db or "waivers" not in db["//"]


def test_subnet_group_and_tls_parameter_group(synthesized):
    _, doc, received = synthesized
    assert_resource(received, "aws_db_subnet_group", {"name": "prod-app-db",
                                                      "subnet_ids": SUBNETS.ids})
    assert one_under(doc, "aws_db_subnet_group", "db")["name"] == "prod-app-db"
    assert_resource(received, "aws_db_parameter_group", {"family": "mysql8.0",
                                                         "name": "prod-app-db-mysql80"})
    group = one_under(doc, "aws_db_parameter_group", "db")
    assert group["name"] == "prod-app-db-mysql80"
    # The whole list: the matcher would accept parameters with extra keys.
    assert group["parameter"] == [
        {"name": "require_secure_transport", "value": "ON", "apply_method": "immediate"},
        {"name": "slow_query_log", "value": "1", "apply_method": "pending-reboot"},
    ]


def test_enhanced_monitoring_role(synthesized):
    _, doc, _ = synthesized
    role = one_under(doc, "aws_iam_role", "db")
    assert role["name"] == "prod-app-db-monitoring"
    trust = one_under(doc, "aws_iam_policy_document", "db", section="data")
    account = "${data.aws_caller_identity.db_account_"
    (statement,) = trust["statement"]
    assert statement["actions"] == ["sts:AssumeRole"]
    assert statement["effect"] == "Allow"
    assert statement["principals"] == [
        {"identifiers": ["monitoring.rds.amazonaws.com"], "type": "Service"}]
    # Only for this instance of this account (confused-deputy protection).
    source_account, source_arn = statement["condition"]
    assert (source_account["test"], source_account["variable"]) == (
        "StringEquals", "aws:SourceAccount")
    assert source_account["values"][0].startswith(account)
    assert (source_arn["test"], source_arn["variable"]) == ("ArnLike", "aws:SourceArn")
    (arn,) = source_arn["values"]
    assert arn.startswith("arn:${data.aws_partition.db_partition_")
    assert ":rds:${data.aws_region.db_region_" in arn
    assert f":{account}" in arn and arn.endswith(".account_id}:db:prod-app-db")
    attachment = one_under(doc, "aws_iam_role_policy_attachment", "db")
    assert attachment["policy_arn"].endswith("service-role/AmazonRDSEnhancedMonitoringRole")


def test_weakening_is_waived_with_reasons(synthesized):
    _, doc, received = synthesized
    assert_resource(received, "aws_db_instance", {
        "identifier": "prod-scratch-db", "multi_az": False, "deletion_protection": False,
        "performance_insights_kms_key_id": PI_KEY.arn})
    db = one_under(doc, "aws_db_instance", "scratch")
    assert db["identifier"] == "prod-scratch-db"
    assert "lifecycle" not in db
    # Waivers live in the `//` block, which Testing.synth drops.
    assert set(db["//"]["waivers"]) == {"PRO001", "CKV_AWS_157", "CKV_AWS_293"}


def test_exposed_attributes(synthesized):
    _, doc, _ = synthesized
    assert doc["output"]["secret_arn"]["value"].endswith(".master_user_secret[0].secret_arn}")
    assert doc["output"]["endpoint"]["value"].endswith(".endpoint}")


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props (no extra parameters), the instance leaves no
    governance finding."""
    RdsInstance(stack, "db", props(tags, parameters={}))
    assert governance_findings(stack) == []


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("name", "app-db", "starting with 'prod-'"),
    ("engine_version", "5.7", "MySQL 8.0 or 8.4"),
    ("backup_retention_period", 3, "7 to 35 days"),
    ("allocated_storage", 10, "20 to 65536"),
    ("max_allocated_storage", 10, "at least allocated_storage"),
    ("monitoring_interval", 0, "allowed are 1, 5"),
    ("master_username", "1admin", "a letter followed"),
    ("master_username", "admin", "any name but RDS's default 'admin'"),
    ("master_username", "Admin", "leave it out for 'dbmaster'"),
    ("parameters", {"require_secure_transport": "OFF"}, "always sets require_secure_transport=ON"),
    ("security_groups", [], "at least one security group"),
    ("allow_destroy_reason", "short", "at least 10 characters"),
])
def test_rejects_bad_props(stack, tags, field, value, fragment):
    with pytest.raises(ConfigError) as error:
        RdsInstance(stack, "bad", props(tags, **{field: value}))
    message = str(error.value)
    shown = value["require_secure_transport"] if isinstance(value, dict) else value
    assert "unit/bad" in message
    assert field in message
    assert repr(shown) in message
    assert fragment in message


@pytest.mark.parametrize(("switch", "reason_field"), [
    ("enable_multi_az", "multi_az_off_reason"),
    ("enable_deletion_protection", "deletion_protection_off_reason"),
])
def test_weakening_without_reason_is_rejected(stack, tags, switch, reason_field):
    with pytest.raises(ConfigError) as error:
        RdsInstance(stack, "bad", props(tags, **{switch: False}))
    message = str(error.value)
    assert "unit/bad" in message
    assert f"{reason_field} is None" in message
