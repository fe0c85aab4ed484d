"""rds stack: hardened MySQL instance, its security group open to the
application tier only, and alarms routed later by the monitoring stack."""

from __future__ import annotations

import pytest

from tests.stacks.synth_json import by_name, one, policy, published, reads, ssm


@pytest.fixture(scope="module")
def rds(stack_json):
    return stack_json("rds")


def test_instance_is_hardened(rds):
    db = one(rds, "aws_db_instance")
    assert db["identifier"] == "prod-mysql"
    assert db["engine"] == "mysql"
    assert db["engine_version"] == "8.0"
    assert db["instance_class"] == "db.t3.medium"
    assert db["multi_az"] is True
    assert db["storage_encrypted"] is True
    assert db["kms_key_id"] == ssm("from-kms-rds-key-arn")
    assert db["manage_master_user_password"] is True
    assert db["master_user_secret_kms_key_id"] == ssm("from-kms-secrets-key-arn")
    assert db["deletion_protection"] is True
    assert db["skip_final_snapshot"] is False
    assert db["final_snapshot_identifier"] == "prod-mysql-final"
    assert db["backup_retention_period"] >= 7
    assert db["performance_insights_enabled"] is True
    assert db["performance_insights_kms_key_id"] == ssm("from-kms-rds-key-arn")
    assert db["monitoring_interval"] > 0
    assert db["monitoring_role_arn"].startswith("${aws_iam_role.")
    assert set(db["enabled_cloudwatch_logs_exports"]) >= {"error", "slowquery"}
    assert db["publicly_accessible"] is False
    assert db["lifecycle"] == {"prevent_destroy": True}
    assert "password" not in db


def test_master_user_is_not_the_rds_default(rds):
    # Security Hub RDS.25: `admin` is RDS's default for MySQL, the first name tried.
    db = one(rds, "aws_db_instance")
    assert db["username"] == "dbmaster"
    assert db["username"].lower() != "admin"


def test_enhanced_monitoring_role_serves_only_this_instance(rds):
    role = by_name(rds, "aws_iam_role")["prod-mysql-monitoring"]
    (trust,) = policy(rds, role["assume_role_policy"])["statement"]
    assert trust["principals"] == [{"type": "Service",
                                    "identifiers": ["monitoring.rds.amazonaws.com"]}]
    conditions = {c["variable"]: c for c in trust["condition"]}
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    (arn,) = conditions["aws:SourceArn"]["values"]
    assert ":rds:${data.aws_region." in arn and arn.endswith(":db:prod-mysql")


def test_tls_is_required_and_subnets_are_private(rds):
    group = one(rds, "aws_db_parameter_group")
    assert group["family"] == "mysql8.0"
    assert {"name": "require_secure_transport", "value": "ON",
            "apply_method": "immediate"} in group["parameter"]
    subnets = one(rds, "aws_db_subnet_group")
    assert "from-network-private-subnet-ids" in subnets["subnet_ids"]


def test_security_group_admits_only_the_application_tier(rds):
    group = one(rds, "aws_security_group")
    assert group["name"] == "prod-rds"
    db = one(rds, "aws_db_instance")
    assert db["vpc_security_group_ids"] == ["${aws_security_group.security-group_7A44B4EA.id}"]
    ingress = one(rds, "aws_vpc_security_group_ingress_rule")
    assert ingress["from_port"] == ingress["to_port"] == 3306
    assert ingress["referenced_security_group_id"] == ssm("from-network-app-security-group-id")
    assert "cidr_ipv4" not in ingress
    assert "aws_vpc_security_group_egress_rule" not in rds["resource"]


def test_alarms_have_no_actions_and_follow_the_routing_names(rds):
    alarms = by_name(rds, "aws_cloudwatch_metric_alarm", "alarm_name")
    expected = {
        "prod-rds-cpu-high-critical": ("CPUUtilization", "GreaterThanThreshold", 80),
        "prod-rds-free-storage-low-warning": ("FreeStorageSpace", "LessThanThreshold", 10 * 1024**3),
        "prod-rds-freeable-memory-low-warning": ("FreeableMemory", "LessThanThreshold", 256 * 1024**2),
        "prod-rds-connections-high-warning": ("DatabaseConnections", "GreaterThanThreshold", 200),
    }
    assert set(alarms) == set(expected)
    for name, (metric, comparison, threshold) in expected.items():
        alarm = alarms[name]
        assert alarm["namespace"] == "AWS/RDS"
        assert alarm["metric_name"] == metric
        assert alarm["comparison_operator"] == comparison
        assert alarm["threshold"] == threshold
        assert alarm["dimensions"] == {
            "DBInstanceIdentifier": "${aws_db_instance.mysql_instance_FB221159.identifier}"}
        assert alarm["treat_missing_data"] == "notBreaching"
        # Routed by the monitoring stack (phase 4) through EventBridge.
        assert "alarm_actions" not in alarm and "ok_actions" not in alarm


def test_reads_only_earlier_stacks(rds):
    assert reads(rds) == sorted({
        "/prod/kms/rds-key-arn", "/prod/kms/secrets-key-arn", "/prod/network/vpc-id",
        "/prod/network/private-subnet-ids", "/prod/network/app-security-group-id",
    })


def test_publishes_its_contracts(rds):
    contracts = published(rds)
    assert contracts["/prod/rds/db-instance-id"] == \
        "${aws_db_instance.mysql_instance_FB221159.identifier}"
    assert contracts["/prod/rds/db-endpoint"] == \
        "${aws_db_instance.mysql_instance_FB221159.endpoint}"
    assert contracts["/prod/rds/db-master-secret-arn"] == \
        "${aws_db_instance.mysql_instance_FB221159.master_user_secret[0].secret_arn}"
    assert {"/prod/rds/db-address", "/prod/rds/db-security-group-id"} <= set(contracts)


def test_state_lives_in_its_own_key(rds):
    assert rds["terraform"]["backend"]["s3"]["key"] == "rds/terraform.tfstate"
