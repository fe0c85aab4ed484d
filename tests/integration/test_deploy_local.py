"""The whole local e2e flow on the session synth: every stack applied to moto, re-planned
clean, destroyed; only the documented exclusions (the Grafana family) left out."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from local_deploy.deploy_local import PROTECTED_MESSAGE, REPO
from local_deploy.drift_run import PLANTED_RETENTION_DAYS
from local_deploy.local_overrides import EXCLUDED_TYPE_PREFIXES
from local_deploy.pr_flow import synthesize_every_stack_change
from stacks.registry import STACK_NAMES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deploy_summary(synth_dir, renamed_synth, tmp_path_factory):
    root = tmp_path_factory.mktemp("deploy-local")
    summary = root / "summary.json"
    assert renamed_synth.accepted.returncode == 0, renamed_synth.accepted.stderr
    pr_change = synthesize_every_stack_change(root / "pr-change")
    result = subprocess.run(
        [sys.executable, "-m", "local_deploy.deploy_local",
         "--outdir-from", str(synth_dir / "out"),
         "--workdir", str(root / "scratch"), "--summary-json", str(summary),
         "--atlantis-yaml", str(synth_dir / "generated" / "atlantis.yaml"),
         "--pr-change", str(pr_change), "--variant", str(renamed_synth.out)],
        cwd=REPO, capture_output=True, text=True, timeout=45 * 60,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    return json.loads(summary.read_text()), result.stdout


def test_every_stack_is_applied(deploy_summary):
    summary, _ = deploy_summary
    stacks = {s["name"]: s for s in summary["stacks"]}
    assert list(stacks) == list(STACK_NAMES)
    for name, stack in stacks.items():
        assert stack["resources"], f"{name} applied no resources"


def _commands(summary, pr):
    return {entry["command"]: {r["project"]: r for r in entry["results"]}
            for entry in summary["pull_requests"] if entry["pr"] == pr}


def test_first_pr_applies_every_stack_group_by_group(deploy_summary):
    summary, _ = deploy_summary
    commands = _commands(summary, "first deployment")
    applied = {p for cmd, results in commands.items() if cmd.startswith("atlantis apply")
               for p, r in results.items() if r["status"] == "applied"}
    assert applied == set(STACK_NAMES) - {"bootstrap"}  # bootstrap went first, by hand


def test_workflows_plan_as_the_plan_role_and_apply_as_the_apply_role(deploy_summary):
    summary, _ = deploy_summary
    # The states' aws_caller_identity was read at plan time, through the plan profile.
    # (bootstrap's first apply was by hand, so its state holds the admin.)
    callers = {s["name"]: s["planned_as"] for s in summary["stacks"]
               if s["planned_as"] and s["name"] != "bootstrap"}
    assert callers, "no stack recorded its caller"
    for name, caller in callers.items():
        assert caller.endswith(":assumed-role/prod-atlantis-plan/atlantis-plan"), (name, caller)
    # Each stage's profile assumed its role through STS on moto; nothing else was assumed.
    assumed = summary["assumed_roles"]
    assert assumed.get("prod-atlantis-plan/atlantis-plan", 0) > 0
    assert assumed.get("prod-atlantis-apply/atlantis-apply", 0) > 0
    assert set(assumed) <= {"prod-atlantis-plan/atlantis-plan",
                            "prod-atlantis-apply/atlantis-apply", "atlantis-task-stand-in/ecs-task",
                            "prod-atlantis-apply/guard-rail-check"}


def test_the_run_is_authorized_by_iam_on_moto(deploy_summary):
    """moto enforces IAM after the administrator's setup: a plan role that could not read
    a stack, or an apply role that could not write one, would fail the PR runs."""
    _, stdout = deploy_summary
    assert "INITIAL_NO_AUTH_ACTION_COUNT=3" in stdout
    assert "MOTO_IAM_LOAD_MANAGED_POLICIES=true" in stdout


def _refusals(summary):
    return {(r["role"], r["call"].split(" ")[0]): r for r in summary["least_privilege"]}


def test_an_apply_with_the_plan_role_is_refused(deploy_summary):
    summary, _ = deploy_summary
    (attempt,) = [r for r in summary["least_privilege"] if r["role"] == "prod-atlantis-plan"]
    assert attempt["outcome"] == "AccessDenied", attempt
    # The call refused is a write the plan would have made (not a read or the state).
    action = re.fullmatch(r"terraform apply \((\w+):(\w+)\)", attempt["call"])
    assert action, attempt
    assert not action.group(2).startswith(("Get", "List", "Describe")), attempt
    # ... and the same plan then applied with the apply role.
    applied = _commands(summary, "every stack changes")["atlantis apply"]
    assert applied[attempt["target"]]["status"] == "applied"


def test_the_apply_role_cannot_weaken_the_state_or_its_own_policy(deploy_summary, synth_dir):
    summary, _ = deploy_summary
    kms = json.loads((synth_dir / "out" / "stacks" / "kms" / "cdk.tf.json").read_text())
    state_bucket = kms["terraform"]["backend"]["s3"]["bucket"]
    refusals = _refusals(summary)
    for call in ("s3:DeleteBucket", "s3:PutBucketVersioning", "iam:PutRolePolicy",
                 "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "s3:DeleteObjectVersion"):
        refusal = refusals[("prod-atlantis-apply", call)]
        assert refusal["outcome"] == "AccessDenied", refusal
    assert refusals[("prod-atlantis-apply", "iam:PutRolePolicy")]["target"] == (
        "prod-atlantis-apply")
    assert refusals[("prod-atlantis-apply", "s3:DeleteBucket")]["target"] == state_bucket


def test_summary_lists_what_moto_cannot_enforce(deploy_summary):
    summary, stdout = deploy_summary
    assert "Not enforceable on moto" in stdout
    unenforced = {item["what"]: item["reason"] for item in summary["moto_unenforced"]}
    assert unenforced and all(len(reason) > 40 for reason in unenforced.values())
    for item in summary["moto_unenforced"]:
        assert item["what"] in stdout


def test_pr_changing_every_stack_applies_all_11_in_one_apply(deploy_summary):
    summary, _ = deploy_summary
    commands = _commands(summary, "every stack changes")
    assert set(commands["autoplan"]) == set(STACK_NAMES)
    assert {r["status"] for r in commands["autoplan"].values()} == {"planned"}
    applied = commands["atlantis apply"]
    assert set(applied) == set(STACK_NAMES)
    assert {r["status"] for r in applied.values()} == {"applied"}
    assert all(r["change"] > 0 and r["destroy"] == 0 for r in applied.values()), applied


def test_second_run_of_that_pr_reports_no_changes(deploy_summary):
    summary, _ = deploy_summary
    again = _commands(summary, "every stack changes")["autoplan (second push)"]
    assert {p: r["summary"] for p, r in again.items()} == dict.fromkeys(STACK_NAMES,
                                                                        "No changes.")


def test_pr_touching_only_monitoring_plans_only_monitoring(deploy_summary):
    summary, _ = deploy_summary
    assert summary["monitoring_only"] == ["monitoring"]


def test_every_stack_replans_without_changes(deploy_summary):
    summary, _ = deploy_summary
    assert {s["name"]: s["replan"] for s in summary["stacks"]} == dict.fromkeys(
        STACK_NAMES, "no changes")


def test_every_stack_is_destroyed(deploy_summary):
    summary, _ = deploy_summary
    assert all(s["destroyed"] for s in summary["stacks"])
    assert summary["failure"] is None


def test_only_the_grafana_family_is_excluded(deploy_summary):
    summary, _ = deploy_summary
    excluded = summary["exclusions"]
    assert excluded, "expected the Grafana workspace to be excluded"
    roots = {e["address"] for e in excluded
             if e["reason"] in EXCLUDED_TYPE_PREFIXES.values()}
    assert roots and all(a.startswith("aws_grafana_") for a in roots)
    for item in excluded:
        assert item["address"] in roots or item["reason"].startswith("references "), item


def test_renamed_constructs_plan_as_moves_with_nothing_destroyed(deploy_summary, renamed_synth):
    """The address guard's planted rename (RDS instance and security group construct ids,
    with the suggested moves declared), planned against the applied rds state."""
    summary, _ = deploy_summary
    [plan] = summary["variant_plans"]
    assert plan["stack"] == "rds"
    declared = {tuple(re.findall(r'"([^"]+)"', line)) for line in renamed_synth.moves}
    assert {tuple(pair) for pair in plan["moved"]} == declared
    moved_types = {old.split(".")[0] for old, _ in declared}
    assert {"aws_db_instance", "aws_vpc_security_group_ingress_rule"} <= moved_types
    assert (plan["add"], plan["destroy"]) == (0, 0), plan


def test_state_stack_refuses_destroy_without_the_override(deploy_summary):
    summary, _ = deploy_summary
    assert PROTECTED_MESSAGE in summary["protection_check"]
    assert summary["protection_check"].startswith("refused")


def test_summary_lists_exclusions_quirks_and_patches(deploy_summary):
    _, stdout = deploy_summary
    assert "Summary" in stdout
    assert "Excluded (removed from the scratch copy" in stdout
    assert "Moto quirks handled in the harness" in stdout
    assert "MOTO_ACM_VALIDATION_WAIT=0" in stdout


# --- the CIS controls, read back by a SecurityAudit user (account_controls.py) ------------
DECLINED_ON_THE_ACCOUNT = ("default VPC",)
"""Judged but declined in the README's governance section: the Region's default VPC
is deleted by hand, not by Terraform (moto, like AWS, creates one)."""


def _controls(summary) -> dict[str, dict]:
    return {c["control"]: c for c in summary["account_controls"]["controls"]}


def test_the_deployed_account_meets_the_cis_controls(deploy_summary):
    summary, stdout = deploy_summary
    controls = _controls(summary)
    failed = [f"{name}: {c['evidence']}" for name, c in controls.items()
              if not c["met"] and not name.startswith(DECLINED_ON_THE_ACCOUNT)]
    assert not failed, "\n".join(failed)
    assert len(controls) >= 10
    assert "CIS controls read back from the account by a SecurityAudit user" in stdout


def test_the_trail_logs_data_events_of_the_state_and_trail_buckets(deploy_summary, stack_json):
    summary, _ = deploy_summary
    facts = summary["account_controls"]["facts"]
    state = stack_json("bootstrap")["terraform"]["backend"]["s3"]["bucket"]
    [trail] = facts["trails"]
    logged = {value.split(":::", 1)[1].split("/", 1)[0]: selector["ReadWriteType"]
              for selector in trail["event_selectors"]
              for resource in selector.get("DataResources", [])
              if resource["Type"] == "AWS::S3::Object" for value in resource["Values"]}
    assert logged.get(state) == "All"
    assert trail["bucket"] in logged
    assert any(s.get("IncludeManagementEvents") for s in trail["event_selectors"])


def test_every_cis_metric_filter_alarms_a_topic(deploy_summary):
    summary, _ = deploy_summary
    [rows] = summary["account_controls"]["facts"]["metric_filters"].values()
    assert len(rows) == 15
    for row in rows:
        assert row["alarms"] and all(a["actions"] for a in row["alarms"]), row


def test_no_acl_of_our_vpc_opens_admin_ports_and_endpoints_are_limited(deploy_summary):
    summary, _ = deploy_summary
    facts = summary["account_controls"]["facts"]
    ours = {vpc["id"] for vpc in facts["vpcs"] if not vpc["default"]}
    [acl] = [a for a in facts["network_acls"] if a["vpc"] in ours and a["default"]]
    ingress = [e for e in acl["entries"] if not e["Egress"] and e["RuleAction"] == "allow"]
    assert ingress and all(e["Protocol"] != "-1" or e["CidrBlock"] != "0.0.0.0/0"
                           for e in ingress)
    # An Allow is limited by a condition (our account) or to named resources (ECR's
    # layer bucket); none is AWS's unconditioned everything-on-everything default.
    for endpoint in facts["vpc_endpoints"]:
        statements = endpoint["policy"]["Statement"]
        assert all(s.get("Condition") or s.get("Resource") not in ("*", ["*"])
                   for s in statements if s["Effect"] == "Allow"), endpoint


def test_every_secret_has_a_resource_policy_on_the_account(deploy_summary):
    summary, _ = deploy_summary
    policies = summary["account_controls"]["facts"]["secret_policies"]
    assert policies and all(policy and policy["Statement"] for policy in policies.values())


# --- the drift check on the deployment (local_deploy/drift_run.py) -----------------------
def _drift_runs(summary) -> dict[str, dict]:
    return {run["name"]: run for run in summary["drift"]["runs"]}


def _planted(summary) -> dict[str, dict]:
    return {p["stack"]: p for p in summary["drift"]["planted"]}


def test_planted_drift_is_found_in_exactly_the_three_stacks(deploy_summary):
    summary, _ = deploy_summary
    planted = _planted(summary)
    assert set(planted) == {"network", "rds", "logging"}
    run = _drift_runs(summary)["planted"]
    assert run["exit_code"] == 2, run["report"]
    # Exactly the planted addresses, each with exactly the planted attribute.
    assert run["drifted"] == {stack: {p["address"]: [p["attribute"]]}
                              for stack, p in planted.items()}
    assert run["statuses"] == {name: "drifted" if name in planted else "in sync"
                               for name in STACK_NAMES}
    # The added rule leaves nothing to apply: only the refreshed group shows it.
    assert run["plan_exit_codes"]["rds"] == 0
    # Checked with the read-only plan role's session, as the drift workflow would.
    assert summary["drift"]["role"] == "prod-atlantis-plan"


def test_the_drift_check_writes_nothing_to_the_state(deploy_summary):
    summary, _ = deploy_summary
    runs = _drift_runs(summary)
    assert runs["planted"]["state_untouched"] is True
    assert runs["repaired"]["state_untouched"] is True


def test_the_planted_report_names_the_stacks_addresses_and_attributes(deploy_summary):
    summary, _ = deploy_summary
    text = _drift_runs(summary)["planted"]["report"]
    planted = _planted(summary)
    assert "**3 of 11 stacks drifted (network, rds, logging), 0 errors, 8 in sync.**" in text
    sections = {part.split(":", 1)[0]: part
                for part in re.split(r"^## ", text, flags=re.MULTILINE)[1:]}
    assert set(sections) == set(planted)
    for stack, p in planted.items():
        assert sections[stack].startswith(f"{stack}: drifted")
        assert f"`{p['address']}` changed outside Terraform" in sections[stack]
        rows = [line for line in sections[stack].splitlines()
                if line.startswith(f"| `{p['attribute']}")]
        assert rows, sections[stack]
    assert "| `tags_all.CostCenter` | `\"engineering\"` | *absent* |" in sections["network"]
    assert "203.0.113.0/24" in sections["rds"] and '"from_port": 22' in sections["rds"]
    assert f"| `{PLANTED_RETENTION_DAYS}` |" in sections["logging"]
    table = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in text.splitlines()
             if line.startswith("| ") and line.split("|")[1].strip() in STACK_NAMES}
    assert table == {name: "**drifted**" if name in planted else "in sync"
                     for name in STACK_NAMES}


def test_the_cdktf_cli_shows_and_repairs_the_drift_of_one_stack(deploy_summary):
    summary, _ = deploy_summary
    cli = {run["command"]: run for run in summary["drift"]["cli"]}
    diff, deploy = cli["npx cdktf diff logging"], cli["npx cdktf deploy logging"]
    assert diff["exit_code"] == 0 and deploy["exit_code"] == 0
    assert any(re.search(rf"~ retention_in_days += {PLANTED_RETENTION_DAYS} -> \d+", line)
               for line in diff["key_lines"]), diff
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in diff["key_lines"]
    assert any(line.endswith("Apply complete! Resources: 0 added, 1 changed, 0 destroyed.")
               for line in deploy["key_lines"]), deploy


def test_after_the_repairs_the_report_is_clean(deploy_summary):
    summary, _ = deploy_summary
    repairs = {r["stack"]: r for r in summary["drift"]["repairs"]}
    assert repairs["network"]["result"] == (
        "Apply complete! Resources: 0 added, 1 changed, 0 destroyed.")
    assert "RevokeSecurityGroupIngress" in repairs["rds"]["how"]
    run = _drift_runs(summary)["repaired"]
    assert run["exit_code"] == 0, run["report"]
    # The repaired stacks; the other eight were in sync and untouched since.
    assert run["statuses"] == dict.fromkeys(["network", "rds", "logging"], "in sync")
    assert "**0 of 3 stacks drifted, 0 errors, 3 in sync.**" in run["report"]


def test_an_unreachable_state_is_an_error_not_in_sync(deploy_summary):
    summary, _ = deploy_summary
    run = _drift_runs(summary)["unreachable"]
    assert run["exit_code"] == 1
    assert run["statuses"] == {"logging": "error"}
    assert re.fullmatch(r'Error: Failed to get existing workspaces: S3 bucket "[\w-]+-missing" '
                        r"does not exist\.", run["errors"]["logging"])
    assert "## logging: error" in run["report"]
