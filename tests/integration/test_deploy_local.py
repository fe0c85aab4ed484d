"""The whole local e2e flow on the session synth: every stack applied to moto, re-planned
clean, destroyed; only the documented exclusions (the Grafana family) left out."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from stacks.registry import STACK_NAMES
from tools.deploy_local import PROTECTED_MESSAGE, REPO
from tools.local_overrides import EXCLUDED_TYPE_PREFIXES

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deploy_summary(synth_out, tmp_path_factory):
    root = tmp_path_factory.mktemp("deploy-local")
    summary = root / "summary.json"
    result = subprocess.run(
        [sys.executable, "-m", "tools.deploy_local", "--outdir-from", str(synth_out),
         "--workdir", str(root / "scratch"), "--summary-json", str(summary)],
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
