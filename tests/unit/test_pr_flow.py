"""The Atlantis flow of local_deploy/pr_flow.py on a fake terraform: which projects a PR plans,
in which order, with which environment, and what apply refuses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from local_deploy.pr_flow import AtlantisError, Project, PullRequestRun, when_modified_matches

REPO_ID = "github.com/example/infra"
FAKE_TERRAFORM = """#!/bin/sh
# Appends "<dir> <command> <AWS_PROFILE>" to $CALLS; fails where a FAIL file exists.
echo "$(basename "$PWD") $1 ${AWS_PROFILE:-none}" >> "$CALLS"
[ -e FAIL ] && [ "$1" = plan ] && { echo "Error: planted failure" >&2; exit 1; }
case "$1" in
  plan) if [ -e NOCHANGES ]; then echo "No changes. Your infrastructure matches the configuration.";
        else echo "Plan: 2 to add, 1 to change, 0 to destroy."; fi ;;
  apply) echo "Apply complete! Resources: 2 added, 1 changed, 0 destroyed." ;;
esac
"""


def project(name, group, depends_on=(), when_modified=("cdk.tf.json",)):
    return {"name": name, "dir": f"cdktf.out/stacks/{name}", "workspace": "default",
            "execution_order_group": group, "depends_on": list(depends_on),
            "autoplan": {"enabled": True, "when_modified": list(when_modified)}}


REPO_CFG = {
    "version": 3, "parallel_plan": True, "parallel_apply": True,
    "abort_on_execution_order_fail": True,
    "projects": [project("bootstrap", 1), project("kms", 2, ["bootstrap"]),
                 project("logging", 3, ["kms"]), project("monitoring", 3, ["kms"]),
                 project("secrets", 4, ["kms"], ("cdk.tf.json", "assets/**"))],
}
PROFILES = {"run": {"command": "mkdir -p \"$HOME/.aws\" && echo profiles > \"$HOME/.aws/config\"",
                    "output": "hide"}}
SERVER_CFG = {
    "repos": [{"id": REPO_ID, "apply_requirements": ["approved"], "workflow": "stack",
               "allowed_overrides": [], "allowed_workflows": ["stack"]}],
    "workflows": {"stack": {
        "plan": {"steps": [PROFILES, {"env": {"name": "AWS_PROFILE", "value": "atlantis-plan"}},
                           "init", "plan"]},
        "apply": {"steps": [{"env": {"name": "AWS_PROFILE", "value": "atlantis-apply"}},
                            "apply"]},
    }},
}


@pytest.fixture
def fake(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = bin_dir / "terraform"
    terraform.write_text(FAKE_TERRAFORM)
    terraform.chmod(terraform.stat().st_mode | stat.S_IEXEC)
    for body in REPO_CFG["projects"]:
        (tmp_path / "out" / "stacks" / body["name"]).mkdir(parents=True)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(tmp_path / "calls"),
           "HOME": str(tmp_path / "home")}

    def run(repo_cfg=REPO_CFG, server_cfg=SERVER_CFG):
        return PullRequestRun(
            repo_cfg=repo_cfg, server_cfg=server_cfg, repo_id=REPO_ID,
            project_dir=lambda p: tmp_path / "out" / Path(p.dir).relative_to("cdktf.out"),
            env=env, logs=tmp_path / "logs")

    def calls():
        path = tmp_path / "calls"
        return path.read_text().splitlines() if path.exists() else []

    return run, calls, tmp_path


def test_a_pr_plans_exactly_the_projects_its_files_touch(fake):
    run, calls, _ = fake
    results = run().autoplan(["cdktf.out/stacks/monitoring/cdk.tf.json", "README.md"])
    assert [r.project for r in results] == ["monitoring"]
    assert results[0].status == "planned"
    assert results[0].summary == "Plan: 2 to add, 1 to change, 0 to destroy."
    assert calls() == ["monitoring init atlantis-plan", "monitoring plan atlantis-plan"]


@pytest.mark.parametrize(("changed", "expected"), [
    ("cdktf.out/stacks/secrets/assets/fn/secret-rotation.zip", True),  # `**` crosses dirs
    ("cdktf.out/stacks/secrets/cdk.tf.json", True),
    ("cdktf.out/stacks/secrets/other.json", False),
    ("cdktf.out/stacks/secretsx/cdk.tf.json", False),
])
def test_when_modified_is_relative_to_the_project_dir(changed, expected):
    secrets = Project.from_cfg(REPO_CFG["projects"][-1])
    assert when_modified_matches(secrets, [changed]) is expected


def test_an_exclusion_wins_when_it_comes_later():
    body = project("kms", 2, when_modified=("*.json", "!cdk.tf.json"))
    assert not when_modified_matches(Project.from_cfg(body), ["cdktf.out/stacks/kms/cdk.tf.json"])


def test_groups_run_in_order_and_the_workflow_selects_the_credentials(fake):
    run, calls, tmp_path = fake
    pr = run()
    plans = pr.autoplan([f"cdktf.out/stacks/{n}/cdk.tf.json"
                         for n in ("secrets", "monitoring", "kms", "bootstrap", "logging")])
    assert [r.project for r in plans][:2] == ["bootstrap", "kms"]
    assert [r.project for r in plans][-1] == "secrets"
    applies = pr.apply()
    assert {r.status for r in applies} == {"applied"}
    order = [line.split()[0] for line in calls() if line.split()[1] == "apply"]
    assert order[:2] == ["bootstrap", "kms"] and order[-1] == "secrets"
    assert {line.split()[2] for line in calls() if " apply " in f" {line} "} == {"atlantis-apply"}
    assert (tmp_path / "home" / ".aws" / "config").read_text() == "profiles\n"


def test_apply_skips_projects_without_changes(fake):
    run, _, tmp_path = fake
    (tmp_path / "out" / "stacks" / "kms" / "NOCHANGES").touch()
    pr = run()
    assert [r.status for r in pr.plan(["kms"])] == ["no changes"]
    assert pr.apply() == []


def test_a_failed_group_stops_the_later_ones(fake):
    run, _, tmp_path = fake
    (tmp_path / "out" / "stacks" / "kms" / "FAIL").touch()
    results = run().plan(["bootstrap", "kms", "logging", "secrets"])
    status = {r.project: r.status for r in results}
    assert status == {"bootstrap": "planned", "kms": "error", "logging": "skipped",
                      "secrets": "skipped"}
    kms = next(r for r in results if r.project == "kms")
    assert kms.summary.startswith("Error: planted failure")


def test_apply_refuses_a_project_whose_dependency_failed(fake):
    run, _, tmp_path = fake
    no_abort = {**REPO_CFG, "abort_on_execution_order_fail": False}
    pr = run(repo_cfg=no_abort)
    pr.plan(["logging"])
    (tmp_path / "out" / "stacks" / "kms" / "FAIL").touch()
    pr.plan(["kms"])
    [result] = pr.apply(["logging"])
    assert (result.status, result.summary) == (
        "error", "Can't apply your project unless you apply its dependencies: [kms]")


def test_a_restricted_key_is_refused_with_atlantis_message(fake):
    run, _, _ = fake
    planted = {**REPO_CFG, "projects": [{**REPO_CFG["projects"][0],
                                         "apply_requirements": []}]}
    with pytest.raises(AtlantisError) as error:
        run(repo_cfg=planted)
    assert str(error.value) == (
        "Plan Error: parsing atlantis.yaml: repo config not allowed to set "
        "'apply_requirements' key: server-side config needs "
        "'allowed_overrides: [apply_requirements]'")
