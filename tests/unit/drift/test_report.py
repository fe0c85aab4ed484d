"""drift.report: the table, the Markdown report and the exit code, rendered from the
recorded plans of the planted case (network, rds and logging drifted, the rest in
sync) and checked on their content."""

from __future__ import annotations

import re

import pytest

from drift.classify import IN_SYNC, StackDrift, classify
from drift.report import EXIT_DRIFT, EXIT_ERROR, EXIT_IN_SYNC, as_json, exit_code, markdown, table
from stacks.registry import STACK_NAMES
from tests.unit.drift.conftest import RDS_IGNORED, plan_run, unreachable_run

PLANTED = {"network": ("network_tag_removed.json", {}),
           "rds": ("rds_ingress_added.json", RDS_IGNORED),
           "logging": ("logging_retention_shortened.json", {})}


@pytest.fixture
def planted(read_only) -> list[StackDrift]:
    results = []
    for name in STACK_NAMES:
        if name in PLANTED:
            fixture, ignored = PLANTED[name]
            results.append(classify(plan_run(name, fixture), ignored, read_only))
        else:
            results.append(StackDrift(name, IN_SYNC, plan_exit_code=0, seconds=2.0))
    return results


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## ", text, flags=re.MULTILINE)
    return {part.split(":", 1)[0]: part for part in parts[1:]}


def test_the_planted_report_names_the_three_stacks_their_addresses_and_attributes(planted):
    text = markdown(planted, "cdktf.out")
    assert text.startswith("# Drift report\n")
    assert "**3 of 11 stacks drifted (network, rds, logging), 0 errors, 8 in sync.**" in text
    sections = _sections(text)
    assert set(sections) == {"network", "rds", "logging"}
    network, rds, logging = sections["network"], sections["rds"], sections["logging"]
    assert network.startswith("network: drifted")
    assert "`aws_vpc.vpc` changed outside Terraform" in network
    assert '| `tags_all.CostCenter` | `"engineering"` | *absent* |' in network
    assert "`aws_security_group.security-group_7A44B4EA` changed outside Terraform" in rds
    [row] = [line for line in rds.splitlines() if line.startswith("| `ingress`")]
    assert "| *absent* |" in row and "203.0.113.0/24" in row and '"from_port": 22' in row
    assert "latest_restorable_time" not in rds
    assert "`aws_db_parameter_group.mysql_parameter-group_50639E3B.parameter`" in rds
    assert "`aws_cloudwatch_log_group.application-log-group_2B99EB55` changed" in logging
    assert "| `retention_in_days` | `90` | `30` |" in logging


def test_every_other_stack_is_in_sync_in_the_table(planted):
    text = markdown(planted, "cdktf.out")
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip()
            for line in text.splitlines()
            if line.startswith("| ") and line.split("|")[1].strip() in STACK_NAMES}
    assert list(rows) == list(STACK_NAMES)
    assert rows == {name: "**drifted**" if name in PLANTED else "in sync"
                    for name in STACK_NAMES}


def test_the_terminal_table_lists_stacks_in_deploy_order_with_the_drifted_attributes(planted):
    lines = table(planted).splitlines()
    assert lines[0].split() == ["stack", "status", "seconds", "details"]
    by_stack = {line.split()[0]: line for line in lines[2:-1]}
    assert list(by_stack) == list(STACK_NAMES)
    assert by_stack["network"].endswith("aws_vpc.vpc: tags_all")
    assert by_stack["rds"].endswith("aws_security_group.security-group_7A44B4EA: ingress")
    assert by_stack["kms"].split()[1:3] == ["in", "sync"]
    assert lines[-1] == "3 of 11 stacks drifted (network, rds, logging), 0 errors, 8 in sync"


def test_sensitive_values_are_named_never_printed(read_only):
    result = classify(plan_run("logging", "logging_parameter_value_sensitive.json"), {},
                      read_only)
    text = markdown([result], "cdktf.out") + table([result]) + repr(as_json([result]))
    assert "| `value` | *sensitive* | *sensitive* |" in text
    assert "/prod/central/application" not in text
    assert "changed-by-hand" not in text


def test_unapplied_code_is_listed_apart_and_keeps_the_stack_in_sync(read_only):
    result = classify(plan_run("kms", "kms_code_only.json"), {}, read_only)
    text = markdown([result], "cdktf.out")
    assert "**0 of 1 stacks drifted, 0 errors, 1 in sync.**" in text
    assert "## kms: in sync" in text
    assert "- `aws_kms_key.cloudtrail-key_13ABE3B9`: update (description)" in text
    assert exit_code([result]) == EXIT_IN_SYNC


def test_an_error_shows_the_step_and_terraforms_first_error_line():
    text = markdown([classify(unreachable_run(), {}, {})], "out")
    assert "## logging: error" in text
    assert ('`terraform init` failed: `Error: Failed to get existing workspaces: S3 bucket '
            '"prod-connectly-tfstate-missing" does not exist.`') in text


def test_exit_code_error_wins_over_drift_and_drift_over_in_sync(planted):
    assert exit_code(planted) == EXIT_DRIFT
    errored = [*planted, classify(unreachable_run("cloudtrail"), {}, {})]
    assert exit_code(errored) == EXIT_ERROR
    assert exit_code([r for r in planted if r.status == IN_SYNC]) == EXIT_IN_SYNC
    assert (EXIT_IN_SYNC, EXIT_ERROR, EXIT_DRIFT) == (0, 1, 2)


def test_a_value_with_a_pipe_or_backtick_keeps_the_table_intact():
    from drift.attributes import AttributeChange
    from drift.classify import CHANGED, DRIFTED, DriftedResource

    odd = DriftedResource("aws_x.y", CHANGED, (AttributeChange("a", '"x|y"', '"`z`"'),))
    text = markdown([StackDrift("kms", DRIFTED, (odd,))], "out")
    [row] = [line for line in text.splitlines() if line.startswith("| `a`")]
    assert row == '| `a` | `"x\\|y"` | `` "`z`" `` |'
