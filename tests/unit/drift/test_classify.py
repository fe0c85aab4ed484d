"""drift.classify on recorded plans: what is drift, what is only unapplied code, what is
an error; sensitive values never rendered."""

from __future__ import annotations

from drift.attributes import SENSITIVE
from drift.classify import CHANGED, DELETED, DRIFTED, ERROR, IN_SYNC, classify
from drift.terraform import PlanRun
from tests.unit.drift.conftest import RDS_IGNORED, plan_run, unreachable_run


def test_a_tag_removed_by_hand_is_drift_on_tags_all(read_only):
    result = classify(plan_run("network", "network_tag_removed.json"), {}, read_only)
    assert result.status == DRIFTED
    [vpc] = result.drifted
    assert (vpc.address, vpc.action, vpc.attributes) == ("aws_vpc.vpc", CHANGED, ["tags_all"])
    [change] = vpc.changes
    assert (change.path, change.before, change.after) == (
        "tags_all.CostCenter", '"engineering"', "(absent)")
    # The plan puts the tag back: that is the repair of the drift, not unapplied code.
    assert result.code_changes == ()


def test_an_ingress_rule_added_by_hand_shows_on_the_groups_ingress_only_as_drift(read_only):
    # The plan has nothing to apply (exit 0): `ingress` is optional and computed, the
    # group's rules are separate resources, so only resource_drift shows the rule.
    run = plan_run("rds", "rds_ingress_added.json")
    assert run.exit_code == 0
    result = classify(run, RDS_IGNORED, read_only)
    assert result.status == DRIFTED
    [group] = result.drifted
    assert group.address == "aws_security_group.security-group_7A44B4EA"
    assert group.attributes == ["ingress"]
    [added] = group.changes
    assert added.before == "(absent)"
    assert '"cidr_blocks": ["203.0.113.0/24"]' in added.after
    assert '"from_port": 22' in added.after
    assert result.code_changes == ()


def test_attributes_nobody_sets_and_ignored_attributes_are_not_drift(read_only):
    result = classify(plan_run("rds", "rds_ingress_added.json"), RDS_IGNORED, read_only)
    addresses = [d.address for d in result.drifted]
    # latest_restorable_time is computed-only: AWS moves it every few minutes.
    assert "aws_db_instance.mysql_instance_FB221159" not in addresses
    # The parameter group's `parameter` is named by lifecycle.ignore_changes: counted apart.
    assert result.ignored == ("aws_db_parameter_group.mysql_parameter-group_50639E3B.parameter",)


def test_without_the_schema_nothing_is_filtered(read_only):
    result = classify(plan_run("rds", "rds_ingress_added.json"), {}, {})
    assert {d.address for d in result.drifted} == {
        "aws_security_group.security-group_7A44B4EA", "aws_db_instance.mysql_instance_FB221159",
        "aws_db_parameter_group.mysql_parameter-group_50639E3B"}


def test_a_shortened_retention_is_drift_with_both_values(read_only):
    result = classify(plan_run("logging", "logging_retention_shortened.json"), {}, read_only)
    [group] = result.drifted
    assert group.attributes == ["retention_in_days"]
    [change] = group.changes
    assert (change.before, change.after) == ("90", "30")
    assert result.code_changes == ()


def test_a_sensitive_attribute_is_named_but_its_values_are_not(read_only):
    result = classify(plan_run("logging", "logging_parameter_value_sensitive.json"), {},
                      read_only)
    [parameter] = result.drifted
    assert parameter.address == "aws_ssm_parameter.ssm-application-log-group-name"
    # `version` (computed-only) moved with the write and is not drift.
    assert parameter.attributes == ["value"]
    [change] = parameter.changes
    assert change.before == change.after == SENSITIVE
    text = repr(result)
    assert "/prod/central/application" not in text and "changed-by-hand" not in text
    # The planned write-back (value known, version known after apply) repairs the drift.
    assert result.code_changes == ()


def test_a_change_only_in_code_is_not_drift(read_only):
    run = plan_run("kms", "kms_code_only.json")
    assert run.exit_code == 2
    result = classify(run, {}, read_only)
    assert result.status == IN_SYNC
    assert result.drifted == ()
    [change] = result.code_changes
    assert (change.address, change.action, change.attributes) == (
        "aws_kms_key.cloudtrail-key_13ABE3B9", "update", ("description",))


def test_an_unreachable_state_is_an_error_with_terraforms_first_error_line(read_only):
    result = classify(unreachable_run(), {}, read_only)
    assert result.status == ERROR
    assert result.failed_step == "init"
    assert result.error == ('Error: Failed to get existing workspaces: S3 bucket '
                            '"prod-connectly-tfstate-missing" does not exist.')


def test_an_object_deleted_outside_terraform_is_drift_and_its_recreation_the_repair():
    gone = {"address": "aws_sns_topic.alerts", "mode": "managed", "type": "aws_sns_topic",
            "name": "alerts", "change": {"actions": ["delete"], "before": {"id": "x"},
                                         "after": None}}
    create = {"address": "aws_sns_topic.alerts", "mode": "managed", "type": "aws_sns_topic",
              "name": "alerts", "change": {"actions": ["create"], "before": None,
                                           "after": {"name": "alerts"}}}
    run = PlanRun("monitoring", {"resource_drift": [gone], "resource_changes": [create]}, 2)
    result = classify(run, {}, {})
    assert [(d.address, d.action) for d in result.drifted] == [("aws_sns_topic.alerts",
                                                                 DELETED)]
    assert result.code_changes == ()


def test_data_source_reads_are_neither_drift_nor_code():
    read = {"address": "data.aws_region.current", "mode": "data", "type": "aws_region",
            "name": "current", "change": {"actions": ["read"], "before": None, "after": {}}}
    run = PlanRun("kms", {"resource_drift": [read], "resource_changes": [read]}, 0)
    result = classify(run, {}, {})
    assert (result.status, result.drifted, result.code_changes) == (IN_SYNC, (), ())
