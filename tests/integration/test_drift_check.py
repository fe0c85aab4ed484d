"""`python -m drift` end to end with the real Terraform on stacks of `terraform_data`
(Terraform's built-in provider, a local backend): in sync, unapplied code, an error,
and the state left as it was. Drift itself needs a cloud: the moto deployment proves it
(tests/integration/test_deploy_local.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from drift.outdir import STACK_FILE, stack_dir
from local_deploy.terraform_cli import cli_config_env
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _stack(outdir, name, input_value):
    directory = stack_dir(outdir, name)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / STACK_FILE).write_text(json.dumps({
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
        "resource": {"terraform_data": {"marker": {"input": input_value}}}}))
    return directory


@pytest.fixture
def applied(tmp_path):
    """An output dir with kms and network applied (their names only: the content is a
    terraform_data each), and the environment terraform runs with."""
    env = {**os.environ, **cli_config_env(tmp_path / "cli")}
    outdir = tmp_path / "out"
    for name in ("kms", "network"):
        directory = _stack(outdir, name, f"{name}-1")
        for args in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
            done = subprocess.run(["terraform", *args, "-no-color"], cwd=directory, env=env,
                                  capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stdout + done.stderr
    return outdir, env


def _drift(outdir, env, tmp_path):
    report, results = tmp_path / "report.md", tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "drift", "--outdir", str(outdir), "--report",
                           str(report), "--json", str(results), "--jobs", "2"],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    stacks = {s["stack"]: s for s in json.loads(results.read_text())["stacks"]}
    return done, stacks, report.read_text()


def test_stacks_in_sync_exit_0_and_their_state_is_not_written(applied, tmp_path):
    outdir, env = applied
    states = {name: (stack_dir(outdir, name) / "terraform.tfstate").read_bytes()
              for name in ("kms", "network")}
    done, stacks, report = _drift(outdir, env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {name: s["status"] for name, s in stacks.items()} == {"kms": "in sync",
                                                                   "network": "in sync"}
    assert list(stacks) == ["kms", "network"]  # deploy order
    for name, before in states.items():
        assert (stack_dir(outdir, name) / "terraform.tfstate").read_bytes() == before
        # No plan file left beside the stack (it went to a private temporary dir).
        assert not list(stack_dir(outdir, name).glob("*.tfplan"))
    assert "**0 of 2 stacks drifted, 0 errors, 2 in sync.**" in report
    assert re.search(r"^kms +in sync +\d+\.\d$", done.stdout, re.MULTILINE), done.stdout


def test_unapplied_code_is_reported_but_is_not_drift(applied, tmp_path):
    outdir, env = applied
    _stack(outdir, "network", "network-2")
    done, stacks, report = _drift(outdir, env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    network = stacks["network"]
    assert network["status"] == "in sync" and network["plan_exit_code"] == 2
    assert network["drifted"] == []
    assert [(c["address"], c["action"]) for c in network["code_changes"]] == [
        ("terraform_data.marker", "update")]
    assert "input" in network["code_changes"][0]["attributes"]
    assert "## network: in sync" in report and "`terraform_data.marker`: update" in report


def test_a_stack_terraform_cannot_plan_is_an_error_with_its_first_error_line(applied, tmp_path):
    outdir, env = applied
    (stack_dir(outdir, "kms") / STACK_FILE).write_text(json.dumps({
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}}},
        "resource": {"terraform_data": {"marker": {"no_such_argument": 1}}}}))
    done, stacks, report = _drift(outdir, env, tmp_path)
    assert done.returncode == 1
    kms = stacks["kms"]
    assert kms["status"] == "error"
    assert kms["error"] == 'Error: Extraneous JSON object property', kms
    assert kms["failed_step"] == "plan"
    assert stacks["network"]["status"] == "in sync"
    assert "## kms: error" in report
