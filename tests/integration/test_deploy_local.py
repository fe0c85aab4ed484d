"""The whole local e2e flow on the session synth: every stack applied to moto, re-planned
clean, destroyed; only the documented exclusions (the Grafana family) left out."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from stacks.registry import STACK_NAMES
from tools.deploy_local import PROTECTED_MESSAGE, REPO
from tools.local_overrides import EXCLUDED_TYPE_PREFIXES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deploy_summary(synth_out, renamed_synth, tmp_path_factory):
    root = tmp_path_factory.mktemp("deploy-local")
    summary = root / "summary.json"
    assert renamed_synth.accepted.returncode == 0, renamed_synth.accepted.stderr
    result = subprocess.run(
        [sys.executable, "-m", "tools.deploy_local", "--outdir-from", str(synth_out),
         "--workdir", str(root / "scratch"), "--summary-json", str(summary),
         "--variant", str(renamed_synth.out)],
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
