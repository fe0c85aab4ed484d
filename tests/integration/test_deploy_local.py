"""The whole local e2e flow on the session synth: every stack of every environment applied
to moto, each environment in its own account, re-planned clean, destroyed; only the
documented exclusions (the Grafana family, the AWS Backup selection) left out."""

from __future__ import annotations

import json
import re

import pytest

from environments import load_environment, load_environments
from local_deploy.deploy_local import PROTECTED_MESSAGE
from local_deploy.drift_run import PLANTED_RETENTION_DAYS, RAISED_THRESHOLD
from local_deploy.local_aws import ACCOUNT_SETUP_CALLS, ADMIN_SETUP_CALLS
from local_deploy.local_overrides import EXCLUDED_TYPE_PREFIXES
from stacks.registry import stacks_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deploy_summary(deployment):
    """The deployment's summary and output (tests/integration/conftest.py starts it)."""
    result = deployment.result()
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    return json.loads(result.summary.read_text()), result.stdout


ENVIRONMENTS = load_environments()
HOST = next(s for s in ENVIRONMENTS if s.atlantis is not None)
"""The environment whose Atlantis server plans every environment (prod)."""
HOST_STACKS = [spec.name for spec in stacks_for(HOST)]


def _projects(environment: str) -> list[str]:
    return [f"{environment}-{spec.name}" for spec in stacks_for(load_environment(environment))]


def test_every_stack_of_every_environment_is_applied(deploy_summary):
    summary, _ = deploy_summary
    stacks = [(s["environment"], s["name"]) for s in summary["stacks"]]
    assert stacks == [(e.name, spec.name) for e in ENVIRONMENTS for spec in stacks_for(e)]
    for stack in summary["stacks"]:
        assert stack["resources"], f"{stack['environment']}-{stack['name']} applied nothing"


def test_each_environment_lives_in_its_own_account(deploy_summary):
    summary, _ = deploy_summary
    assert summary["accounts"] == {e.name: e.account_id for e in ENVIRONMENTS}
    assert len(set(summary["accounts"].values())) == len(ENVIRONMENTS)
    for stack in summary["stacks"]:
        if stack["planned_as"]:
            # bootstrap's caller is the admin of its first apply by hand, the others' the
            # plan role of their own account (asserted below): both in the stack's account
            account = summary["accounts"][stack["environment"]]
            assert stack["planned_as"].split(":")[4] == account, stack


def test_a_stack_planned_with_another_accounts_keys_is_refused(deploy_summary):
    summary, _ = deploy_summary
    attempts = summary["cross_account"]
    assert {(a["stack"].split("-")[0], a["credentials_of"]) for a in attempts} == {
        (e.name, o.name) for e in ENVIRONMENTS for o in ENVIRONMENTS if o is not e}
    for attempt in attempts:
        assert attempt["refused"], attempt
        account = summary["accounts"][attempt["credentials_of"]]
        assert attempt["message"] == f"AWS account ID not allowed: {account}", attempt


def _commands(summary, pr):
    return {entry["command"]: {r["project"]: r for r in entry["results"]}
            for entry in summary["pull_requests"] if entry["pr"] == pr}


def test_first_pr_of_each_environment_applies_every_stack_group_by_group(deploy_summary):
    summary, _ = deploy_summary
    for environment in ENVIRONMENTS:
        commands = _commands(summary, f"first deployment of {environment.name}")
        applied = {p for cmd, results in commands.items() if cmd.startswith("atlantis apply")
                   for p, r in results.items() if r["status"] == "applied"}
        # bootstrap went first, by hand
        assert applied == set(_projects(environment.name)) - {f"{environment.name}-bootstrap"}


def test_workflows_plan_as_the_plan_role_and_apply_as_the_apply_role(deploy_summary):
    summary, _ = deploy_summary
    # The states' aws_caller_identity was read at plan time, through the plan profile of
    # the stack's own environment: staging's from prod's server, across accounts.
    # (bootstrap's first apply was by hand, so its state holds the admin.)
    callers = {(s["environment"], s["name"]): s["planned_as"] for s in summary["stacks"]
               if s["planned_as"] and s["name"] != "bootstrap"}
    assert {environment for environment, _ in callers} == {e.name for e in ENVIRONMENTS}
    for (environment, name), caller in callers.items():
        assert caller.endswith(f":assumed-role/{environment}-atlantis-plan/atlantis-plan"), (
            environment, name, caller)
    # Each stage's profile assumed its role through STS on moto; nothing else was assumed
    # but the harness's own setup of the accounts and the guard-rail check.
    assumed = summary["assumed_roles"]
    for environment in ENVIRONMENTS:
        assert assumed.get(f"{environment.name}-atlantis-plan/atlantis-plan", 0) > 0
        assert assumed.get(f"{environment.name}-atlantis-apply/atlantis-apply", 0) > 0
    assert set(assumed) <= {
        *(f"{e.name}-atlantis-{kind}/atlantis-{kind}" for e in ENVIRONMENTS
          for kind in ("plan", "apply")),
        "atlantis-task-stand-in/ecs-task", f"{HOST.name}-atlantis-apply/guard-rail-check",
        "local-setup/setup"}


def test_the_run_is_authorized_by_iam_on_moto(deploy_summary):
    """moto enforces IAM after the administrator's setup: a plan role that could not read
    a stack, or an apply role that could not write one, would fail the PR runs."""
    summary, stdout = deploy_summary
    # The administrators' setup in moto's default account and in each environment's.
    setup = ADMIN_SETUP_CALLS + ACCOUNT_SETUP_CALLS * len(ENVIRONMENTS)
    assert summary["moto_settings"]["INITIAL_NO_AUTH_ACTION_COUNT"] == str(setup)
    assert f"INITIAL_NO_AUTH_ACTION_COUNT={setup}" in stdout
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
    assert applied[f"{HOST.name}-{attempt['target']}"]["status"] == "applied"


def test_the_apply_role_cannot_weaken_the_state_or_its_own_policy(deploy_summary, synth_out):
    summary, _ = deploy_summary
    kms = json.loads((synth_out / "stacks" / "kms" / "cdk.tf.json").read_text())
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
    assert set(commands["autoplan"]) == set(_projects(HOST.name))
    assert {r["status"] for r in commands["autoplan"].values()} == {"planned"}
    applied = commands["atlantis apply"]
    assert set(applied) == set(_projects(HOST.name))
    assert {r["status"] for r in applied.values()} == {"applied"}
    assert all(r["change"] > 0 and r["destroy"] == 0 for r in applied.values()), applied


def test_second_run_of_that_pr_reports_no_changes(deploy_summary):
    summary, _ = deploy_summary
    again = _commands(summary, "every stack changes")["autoplan (second push)"]
    assert {p: r["summary"] for p, r in again.items()} == dict.fromkeys(_projects(HOST.name),
                                                                        "No changes.")
    for environment in ENVIRONMENTS:
        if environment is not HOST:
            replan = _commands(summary, f"re-plan of {environment.name}")["autoplan"]
            assert {p: r["summary"] for p, r in replan.items()} == dict.fromkeys(
                _projects(environment.name), "No changes.")


def test_pr_touching_only_monitoring_plans_only_monitoring(deploy_summary):
    summary, _ = deploy_summary
    assert summary["monitoring_only"] == [f"{HOST.name}-monitoring"]


def test_every_stack_replans_without_changes(deploy_summary):
    summary, _ = deploy_summary
    assert {s["replan"] for s in summary["stacks"]} == {"no changes"}


def test_every_stack_is_destroyed(deploy_summary):
    summary, _ = deploy_summary
    assert all(s["destroyed"] for s in summary["stacks"])
    assert summary["failure"] is None


def test_only_the_grafana_family_and_the_backup_selection_are_excluded(deploy_summary):
    summary, _ = deploy_summary
    excluded = summary["exclusions"]
    assert excluded, "expected the Grafana workspace to be excluded"
    roots = {e["address"] for e in excluded
             if e["reason"] in EXCLUDED_TYPE_PREFIXES.values()}
    assert any(a.startswith("aws_grafana_") for a in roots)
    assert [a for a in roots if a.startswith("aws_backup_")] == [
        a for a in roots if a.startswith("aws_backup_selection.")] != []
    assert all(a.startswith(("aws_grafana_", "aws_backup_selection.")) for a in roots)
    for item in excluded:
        assert item["address"] in roots or item["reason"].startswith("references "), item


def test_renamed_constructs_plan_as_moves_with_nothing_destroyed(deploy_summary, renamed_synth):
    """The address guard's planted rename (RDS instance and security group construct ids,
    with the suggested moves declared), planned against the applied rds state."""
    summary, _ = deploy_summary
    [plan] = summary["variant_plans"]
    assert plan["stack"] == f"{HOST.name}-rds"
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


def _controls(summary, environment: str) -> dict[str, dict]:
    return {c["control"]: c for c in summary["account_controls"][environment]["controls"]}


def _facts(summary, environment: str = HOST.name) -> dict:
    return summary["account_controls"][environment]["facts"]


@pytest.mark.parametrize("environment", [e.name for e in ENVIRONMENTS])
def test_each_deployed_account_meets_the_cis_controls(deploy_summary, environment):
    summary, stdout = deploy_summary
    controls = _controls(summary, environment)
    failed = [f"{name}: {c['evidence']}" for name, c in controls.items()
              if not c["met"] and not name.startswith(DECLINED_ON_THE_ACCOUNT)]
    assert not failed, "\n".join(failed)
    assert len(controls) >= 10
    assert (f"CIS controls read back from {environment}'s account by a SecurityAudit user"
            in stdout)


def test_the_trail_logs_data_events_of_the_state_and_trail_buckets(deploy_summary, stack_json):
    summary, _ = deploy_summary
    facts = _facts(summary)
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
    [rows] = _facts(summary)["metric_filters"].values()
    assert len(rows) == 15
    for row in rows:
        assert row["alarms"] and all(a["actions"] for a in row["alarms"]), row


def test_no_acl_of_our_vpc_opens_admin_ports_and_endpoints_are_limited(deploy_summary):
    summary, _ = deploy_summary
    facts = _facts(summary)
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
    policies = _facts(summary)["secret_policies"]
    assert policies and all(policy and policy["Statement"] for policy in policies.values())


def test_backups_are_locked_and_copied_to_a_second_region(deploy_summary, stack_json):
    """What an auditor lists in every Region: the vaults bootstrap declares, each with a
    customer managed key and a compliance lock of the plan's retention, and the plan's
    daily rule copying to the vault of the other Region."""
    summary, _ = deploy_summary
    facts = _facts(summary)["backup"]
    boot = stack_json("bootstrap")
    regions = {p.get("alias"): p["region"] for p in boot["provider"]["aws"]}
    declared = {body["name"]: regions[body.get("provider", "aws").partition(".")[2] or None]
                for body in boot["resource"]["aws_backup_vault"].values()}
    [plan_body] = boot["resource"]["aws_backup_plan"].values()
    [rule_body] = plan_body["rule"]
    listed = {(v["region"], v["name"]): v for v in facts["vaults"]}
    assert set(listed) == {(region, name) for name, region in declared.items()}
    assert len(set(declared.values())) == 2, declared
    for vault in listed.values():
        assert vault["key_manager"] == "CUSTOMER", vault
        assert vault["locked"] and vault["lock_date"], vault  # a lock date: compliance mode
    [plan] = facts["plans"]
    [rule] = plan["rules"]
    assert (plan["name"], rule["schedule"]) == (plan_body["name"], rule_body["schedule"])
    assert rule["delete_after_days"] == rule_body["lifecycle"]["delete_after"]
    home_vault = listed[(plan["region"], rule["vault"])]
    assert home_vault["min_retention_days"] == rule["delete_after_days"]
    [copy] = rule["copies"]
    copy_vault = next(v for v in listed.values() if v["arn"] == copy["destination"])
    assert copy_vault["region"] != plan["region"]
    assert copy_vault["min_retention_days"] == copy["delete_after_days"] == (
        rule_body["copy_action"][0]["lifecycle"]["delete_after"])
    controls = _controls(summary, HOST.name).values()
    assert {c["control"] for c in controls if c["control"].startswith("AWS Backup")
            and c["met"]} == {
        c["control"] for c in controls if c["control"].startswith("AWS Backup")} != set()
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
                               for name in HOST_STACKS}
    # Checked with the read-only plan role's session, as the drift workflow would.
    assert summary["drift"]["role"] == f"{HOST.name}-atlantis-plan"


def test_the_drift_check_writes_nothing_to_the_state(deploy_summary):
    summary, _ = deploy_summary
    runs = _drift_runs(summary)
    assert runs["planted"]["state_untouched"] is True
    assert runs["repaired"]["state_untouched"] is True


def test_the_planted_report_names_the_stacks_addresses_and_attributes(deploy_summary):
    summary, _ = deploy_summary
    text = _drift_runs(summary)["planted"]["report"]
    planted = _planted(summary)
    assert (f"**3 of {len(HOST_STACKS)} stacks drifted (network, rds, logging), 0 errors, "
            f"{len(HOST_STACKS) - 3} in sync.**") in text
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
    assert f"| `threshold` | `80` | `{RAISED_THRESHOLD:g}` |" in sections["rds"]
    assert f"| `{PLANTED_RETENTION_DAYS}` |" in sections["logging"]
    table = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in text.splitlines()
             if line.startswith("| ") and line.split("|")[1].strip() in HOST_STACKS}
    assert table == {name: "**drifted**" if name in planted else "in sync"
                     for name in HOST_STACKS}


def test_the_cdktf_cli_shows_and_repairs_the_drift_of_one_stack(deploy_summary):
    summary, _ = deploy_summary
    cli = {run["command"]: run for run in summary["drift"]["cli"]}
    diff = cli[f"npx cdktf diff {HOST.name}-logging"]
    deploy = cli[f"npx cdktf deploy {HOST.name}-logging"]
    assert diff["exit_code"] == 0 and deploy["exit_code"] == 0
    assert any(re.search(rf"~ retention_in_days += {PLANTED_RETENTION_DAYS} -> \d+", line)
               for line in diff["key_lines"]), diff
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in diff["key_lines"]
    assert any(line.endswith("Apply complete! Resources: 0 added, 1 changed, 0 destroyed.")
               for line in deploy["key_lines"]), deploy


def test_after_the_repairs_the_report_is_clean(deploy_summary):
    summary, _ = deploy_summary
    repairs = {r["stack"]: r for r in summary["drift"]["repairs"]}
    for stack in ("network", "rds"):
        assert repairs[stack]["result"] == (
            "Apply complete! Resources: 0 added, 1 changed, 0 destroyed."), repairs[stack]
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
