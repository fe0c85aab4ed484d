"""The whole app meets every governance rule and checkov, with only reviewed excuses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from environments import load_environments
from policies import checkov_scan
from policies.packs import ALL
from policies.runner import check_output
from stacks.registry import stacks_for

REPO = Path(__file__).resolve().parents[2]


ENVIRONMENTS = load_environments()


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: e.name)
def test_app_has_no_unexcused_governance_findings(synth_root, environment):
    report = check_output(synth_root / environment.name)
    assert not report.failed, report.render()
    assert sorted(report.stacks) == sorted(spec.name for spec in stacks_for(environment))


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: e.name)
def test_checkov_passes_with_reviewed_suppressions(synth_root, environment):
    report = checkov_scan.scan(synth_root / environment.name)
    assert not report.failed, report.render()
    assert report.passed > 100, report.render()


def test_the_cli_reports_every_environment_of_the_output_root(synth_root):
    cli = subprocess.run([sys.executable, "-m", "policies", str(synth_root), "--pack", "tags"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    reported = [line.split(":")[0].rsplit("/", 1)[-1] for line in cli.stdout.splitlines()
                if line.startswith("Policy report for ")]
    assert sorted(reported) == sorted(e.name for e in ENVIRONMENTS)


def _first(resources: dict, kind: str) -> dict:
    return resources[kind][sorted(resources[kind])[0]]


def _untag(doc: dict) -> None:
    del doc["provider"]["aws"][0]["default_tags"][0]["tags"]["CostCenter"]


def _aes256(doc: dict) -> None:
    rule = _first(doc["resource"], "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    rule[0]["apply_server_side_encryption_by_default"] = {"sse_algorithm": "AES256"}


def _rename(doc: dict) -> None:
    _first(doc["resource"], "aws_dynamodb_table")["name"] = "StateLocks"


def _open_ssh(doc: dict) -> None:
    doc["resource"]["aws_security_group_rule"] = {"planted": {
        "type": "ingress", "from_port": 22, "to_port": 22, "protocol": "tcp",
        "cidr_blocks": ["0.0.0.0/0"], "security_group_id": "sg-123"}}


def _unprotect(doc: dict) -> None:
    del _first(doc["resource"], "aws_kms_key")["lifecycle"]


def _http_to_bucket(doc: dict) -> None:
    # The state bucket's TLS deny keeps its objects but no longer the bucket itself.
    reference = _first(doc["resource"], "aws_s3_bucket_policy")["policy"]
    document = doc["data"]["aws_iam_policy_document"][reference.split(".")[2]]
    for statement in document["statement"]:
        statement["resources"] = [r for r in statement["resources"] if r.endswith("/*")]


# (family, i.e. the make target's pack; rule that must fire; how to plant it in bootstrap)
PLANTED = [
    ("tags", "TAG001", _untag),
    ("encryption", "ENC001", _aes256),
    ("naming", "NAM001", _rename),
    ("security", "SEC001", _open_ssh),
    ("security", "SEC003", _http_to_bucket),
    ("protection", "PRO001", _unprotect),
]


def test_every_family_has_a_planted_violation():
    assert {pack for pack, _, _ in PLANTED} == {r.family for r in ALL}


@pytest.mark.parametrize(("pack", "rule", "plant"), PLANTED, ids=[r for _, r, _ in PLANTED])
def test_each_family_fails_on_a_planted_violation(synth_out, tmp_path, pack, rule, plant):
    out = tmp_path / "out"
    shutil.copytree(synth_out, out)
    stack_file = out / "stacks" / "bootstrap" / "cdk.tf.json"
    doc = json.loads(stack_file.read_text())
    plant(doc)
    stack_file.write_text(json.dumps(doc, indent=2))
    cli = subprocess.run([sys.executable, "-m", "policies", str(out), "--pack", pack],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert f"{rule} bootstrap/" in cli.stdout
    clean = subprocess.run([sys.executable, "-m", "policies", str(synth_out), "--pack", pack],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
