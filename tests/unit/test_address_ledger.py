"""The address ledger on hand-made outputs: what it refuses, with which sentence, and
what it lets through and lists."""

from __future__ import annotations

import json

import pytest

from stacks.address_changes import Import, Move, Remove, Replace
from synth.address_ledger import (
    Owner,
    StackOutput,
    compare,
    load_output,
    move_line,
    similarity,
)

DB = {"engine": "mysql", "instance_class": "db.t3.medium", "identifier": "prod-mysql",
      "lifecycle": {"prevent_destroy": True}}
RULE = {"from_port": 3306, "to_port": 3306, "ip_protocol": "tcp",
        "referenced_security_group_id": "sg-app", "description": "MySQL from the app"}
ALARM = {"alarm_name": "prod-rds-cpu-high-critical", "threshold": 80, "period": 300}
OWNERS = {"rds": Owner(cls="RdsStack", path="stacks/rds.py"),
          "monitoring": Owner(cls="MonitoringStack", path="stacks/monitoring.py")}
ORDER = ("rds", "monitoring")


def output(**resources: dict) -> StackOutput:
    return StackOutput({address.replace("__", "."): body for address, body in resources.items()},
                       frozenset())


def run(baseline, new, declared=None):
    return compare(baseline, new, declared or {}, OWNERS, ORDER)


BASE = {"rds": output(aws_db_instance__db_A=DB, aws_vpc_security_group_ingress_rule__rule_B=RULE,
                      aws_cloudwatch_metric_alarm__cpu_C=ALARM)}


def renamed(**changes: str) -> dict[str, StackOutput]:
    """BASE with addresses renamed (old -> new)."""
    resources = dict(BASE["rds"].resources)
    for old, new in changes.items():
        resources[new.replace("__", ".")] = resources.pop(old.replace("__", "."))
    return {"rds": StackOutput(resources, frozenset())}


def test_unchanged_output_has_nothing_to_report():
    report = run(BASE, BASE)
    assert (report.failures, report.changes, report.notes) == ([], [], [])
    assert report.summary() == ("address ledger: every committed resource address is kept "
                                "against cdktf.out/")


def test_new_addresses_are_counted_in_the_summary():
    new = {"rds": output(**{k.replace(".", "__"): v for k, v in BASE["rds"].resources.items()},
                         aws_sns_topic__extra_X={"name": "x"})}
    report = run(BASE, new)
    assert report.failures == []
    assert report.summary().endswith("; new addresses: 1 in rds")


def test_renamed_protected_resource_is_refused_with_the_move_to_add():
    report = run(BASE, renamed(aws_db_instance__db_A="aws_db_instance__database_D"))
    [failure] = report.failures
    assert failure.startswith("rds: aws_db_instance.db_A is gone from the synth and "
                              "aws_db_instance.database_D is new")
    assert "prevent_destroy goes with its block" in failure
    line = move_line("aws_db_instance.db_A", "aws_db_instance.database_D")
    assert f"`{line}` to RdsStack.address_changes (stacks/rds.py)" in failure
    assert 'Replace(address="aws_db_instance.db_A", reason="...")' in failure
    assert line in report.failure_text()  # the block to paste


def test_renamed_unprotected_resource_is_refused_too():
    report = run(BASE, renamed(aws_vpc_security_group_ingress_rule__rule_B=(
        "aws_vpc_security_group_ingress_rule__wrapped_rule_E")))
    [failure] = report.failures
    assert "aws_vpc_security_group_ingress_rule.rule_B is gone" in failure
    assert "prevent_destroy" not in failure


def test_the_most_similar_new_resource_is_named():
    other = {**ALARM, "alarm_name": "prod-rds-memory-low-warning", "threshold": 256}
    new = renamed(aws_cloudwatch_metric_alarm__cpu_C="aws_cloudwatch_metric_alarm__cpu_X")
    new["rds"].resources["aws_cloudwatch_metric_alarm.memory_Y"] = other
    [failure] = run(BASE, new).failures
    assert "aws_cloudwatch_metric_alarm.cpu_X is new" in failure
    assert "100% of the attributes alike" in failure


def test_declared_move_passes_and_is_listed():
    new = renamed(aws_db_instance__db_A="aws_db_instance__database_D")
    report = run(BASE, new, {"rds": (Move(from_="aws_db_instance.db_A",
                                          to="aws_db_instance.database_D"),)})
    assert report.failures == []
    assert report.changes == ['rds: aws_db_instance.db_A moves to aws_db_instance.database_D '
                              '(declared; the plan says "has moved to")']


def test_applied_move_is_kept_quietly():
    move = Move(from_="aws_db_instance.old_Z", to="aws_db_instance.db_A")
    report = run(BASE, BASE, {"rds": (move,)})
    assert (report.failures, report.changes, report.notes) == ([], [], [])


@pytest.mark.parametrize(("move", "expected"), [
    (Move(from_="aws_db_instance.db_A", to="aws_db_instance.database_D"),
     "moves aws_db_instance.db_A, which is still synthesized"),
    (Move(from_="aws_db_instance.old_Z", to="aws_db_instance.typo_T"),
     "to aws_db_instance.typo_T, which is not synthesized; its aws_db_instance addresses "
     "are: aws_db_instance.db_A."),
])
def test_move_that_terraform_would_refuse_is_refused(move, expected):
    [failure] = run(BASE, BASE, {"rds": (move,)}).failures
    assert failure.startswith("rds: RdsStack.address_changes (stacks/rds.py) ")
    assert expected in failure


def test_plain_removal_of_an_unprotected_resource_passes_and_is_listed():
    new = {"rds": output(aws_db_instance__db_A=DB, aws_vpc_security_group_ingress_rule__rule_B=RULE)}
    report = run(BASE, new)
    assert report.failures == []
    assert report.changes == ["rds: aws_cloudwatch_metric_alarm.cpu_C is no longer synthesized; "
                              "the Atlantis plan of rds will show its destroy"]


def test_removal_of_a_protected_resource_needs_a_declaration():
    new = {"rds": output(aws_vpc_security_group_ingress_rule__rule_B=RULE,
                         aws_cloudwatch_metric_alarm__cpu_C=ALARM)}
    [failure] = run(BASE, new).failures
    assert failure.startswith("rds: aws_db_instance.db_A is gone from the synth and has "
                              "prevent_destroy")
    assert 'Remove(address="aws_db_instance.db_A", reason="..."),' in failure

    reason = "the database moved to Aurora, its final snapshot is kept"
    report = run(BASE, new, {"rds": (Remove(address="aws_db_instance.db_A", reason=reason),)})
    assert report.failures == []
    assert report.changes == [f"rds: aws_db_instance.db_A will be destroyed (declared: {reason})"]

    kept = Remove(address="aws_db_instance.db_A", reason=reason, keep_in_aws=True)
    report = run(BASE, new, {"rds": (kept,)})
    assert report.changes == [f"rds: aws_db_instance.db_A leaves the state but stays in AWS "
                              f"(declared: {reason})"]


def test_declared_replacement_passes_with_its_reason():
    new = renamed(aws_db_instance__db_A="aws_db_instance__database_D")
    reason = "the engine changes from MySQL to MariaDB"
    report = run(BASE, new, {"rds": (Replace(address="aws_db_instance.db_A", reason=reason),)})
    assert report.failures == []
    assert report.changes == [f"rds: aws_db_instance.db_A will be destroyed (declared: {reason})"]


def test_declaration_of_an_address_still_synthesized_is_refused():
    reason = "a reason long enough"
    for change in (Replace(address="aws_db_instance.db_A", reason=reason),
                   Remove(address="aws_db_instance.db_A", reason=reason)):
        [failure] = run(BASE, BASE, {"rds": (change,)}).failures
        assert "aws_db_instance.db_A" in failure and "still synthesized" in failure


def test_stale_removal_is_a_note():
    change = Remove(address="aws_db_instance.gone_G", reason="taken out last release")
    report = run(BASE, BASE, {"rds": (change,)})
    assert report.failures == []
    assert report.notes == ["rds: RdsStack.address_changes (stacks/rds.py) removes "
                            "aws_db_instance.gone_G, which the committed output no longer has "
                            "(applied already): the declaration can be deleted"]


def test_move_between_stacks_is_refused_with_the_runbook():
    baseline = {**BASE, "monitoring": output(aws_sns_topic__alerts_T={"name": "prod-alerts"})}
    new = {"rds": output(aws_db_instance__db_A=DB, aws_vpc_security_group_ingress_rule__rule_B=RULE),
           "monitoring": output(aws_sns_topic__alerts_T={"name": "prod-alerts"},
                                aws_cloudwatch_metric_alarm__rds_cpu_M=ALARM)}
    [failure] = run(baseline, new).failures
    assert failure.startswith("rds: aws_cloudwatch_metric_alarm.cpu_C is gone from the synth "
                              "and the monitoring stack has a new "
                              "aws_cloudwatch_metric_alarm.rds_cpu_M")
    assert "a `moved` block cannot do" in failure
    assert 'runbook "Moving a resource between stacks"' in failure
    assert "terraform state mv" in failure

    declared = {
        "rds": (Remove(address="aws_cloudwatch_metric_alarm.cpu_C",
                       reason="moves to the monitoring stack", keep_in_aws=True),),
        "monitoring": (Import(to="aws_cloudwatch_metric_alarm.rds_cpu_M",
                              id="prod-rds-cpu-high-critical", reason="taken over from rds"),),
    }
    report = run(baseline, new, declared)
    assert report.failures == []
    assert len(report.changes) == 2


def test_first_synth_and_new_stack_are_notes():
    report = run(None, BASE)
    assert report.failures == []
    assert report.notes == ["no committed cdktf.out/ to compare with (a first synth): 3 "
                            "addresses in 1 stacks recorded as the baseline"]

    report = run(BASE, {**BASE, "monitoring": output(aws_sns_topic__t={"name": "x"})})
    assert report.failures == []
    assert report.notes == ["monitoring is a new stack: its 1 addresses have nothing to compare "
                            "with"]


def test_removed_stack_is_a_note():
    report = run({**BASE, "monitoring": output(aws_sns_topic__t={"name": "x"})}, BASE)
    assert report.failures == []
    assert report.notes[0].startswith("monitoring is no longer synthesized: its 1 resources "
                                      "stay in AWS")


def test_similarity_ignores_cdktf_metadata():
    assert similarity({"a": 1, "//": {"metadata": {"path": "x"}}}, {"a": 1}) == 1.0
    assert similarity({"a": 1, "b": 2}, {"a": 1, "b": 3}) == pytest.approx(1 / 3)


def test_load_output_reads_resources_and_outputs_not_data_sources(tmp_path):
    stack = tmp_path / "stacks" / "rds"
    stack.mkdir(parents=True)
    (stack / "cdk.tf.json").write_text(json.dumps({
        "data": {"aws_ssm_parameter": {"from-kms": {"name": "/prod/kms/x"}}},
        "output": {"endpoint": {"value": "x"}},
        "resource": {"aws_db_instance": {"db_A": DB}},
    }))
    loaded = load_output(tmp_path)
    assert set(loaded) == {"rds"}
    assert set(loaded["rds"].resources) == {"aws_db_instance.db_A"}
    assert loaded["rds"].outputs == {"endpoint"}
    assert load_output(tmp_path / "missing") is None


def test_removed_output_is_listed():
    before = {"rds": StackOutput(BASE["rds"].resources, frozenset({"endpoint"}))}
    report = run(before, BASE)
    assert report.changes == ["rds: output endpoint is no longer synthesized (no stack reads "
                              "outputs; check scripts that do)"]
