"""`python -m policies` and `python -m policies.checkov_scan`: exit codes and report content."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from policies.packs import ALL

REPO = Path(__file__).resolve().parents[3]
KEY = "${aws_kms_key.k.arn}"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True,
                          check=False)


@pytest.fixture
def clean_out(pol, tmp_path):
    return pol.write_outdir(tmp_path / "out", {"monitoring": pol.doc({
        "aws_sns_topic": {"alerts": {"name": "prod-alerts", "kms_master_key_id": KEY}},
    }, output={"alerts_topic_arn": {"value": "${aws_sns_topic.alerts.arn}"}})})


@pytest.fixture
def empty_suppressions(tmp_path):
    path = tmp_path / "suppressions.yaml"
    path.write_text("[]\n")
    return str(path)


def test_clean_output_exits_0(clean_out, empty_suppressions):
    done = run("policies", str(clean_out), "--suppressions", empty_suppressions)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout and f"1 stacks, {len(ALL)} rules" in done.stdout


@pytest.mark.parametrize(("pack", "resources", "rule"), [
    ("tags", {"aws_sns_topic": {"t": {"name": "prod-t", "kms_master_key_id": KEY,
                                      "tags": {"Team": "Platform Team"}}}}, "TAG002"),
    ("encryption", {"aws_sns_topic": {"t": {"name": "prod-t"}}}, "ENC001"),
    ("naming", {"aws_sns_topic": {"t": {"name": "alerts", "kms_master_key_id": KEY}}}, "NAM001"),
    ("security", {"aws_security_group": {"s": {"ingress": [{
        "from_port": 22, "to_port": 22, "protocol": "tcp", "cidr_blocks": ["0.0.0.0/0"]}]}}},
     "SEC001"),
    ("protection", {"aws_kms_key": {"k": {"enable_key_rotation": True,
                                          "deletion_window_in_days": 30}}}, "PRO001"),
])
def test_planted_violation_of_each_family_exits_1(pol, tmp_path, empty_suppressions, pack,
                                                  resources, rule):
    out = pol.write_outdir(tmp_path / "out", {"monitoring": pol.doc(resources)})
    done = run("policies", str(out), "--pack", pack, "--suppressions", empty_suppressions)
    assert done.returncode == 1, done.stdout
    assert f"{rule} monitoring/" in done.stdout and "FAILED" in done.stdout
    assert run("policies", str(out), "--pack", "tags" if pack != "tags" else "naming",
               "--suppressions", empty_suppressions).returncode == 0


def test_suppressed_finding_exits_0_and_shows_the_reason(pol, tmp_path):
    out = pol.write_outdir(tmp_path / "out", {"monitoring": pol.doc(
        {"aws_sns_topic": {"t": {"name": "prod-t"}}})})
    path = tmp_path / "s.yaml"
    path.write_text("- rule: ENC001\n  resource: monitoring/aws_sns_topic.t\n"
                    "  reason: topic carries only public status pages\n")
    done = run("policies", str(out), "--pack", "encryption", "--suppressions", str(path))
    assert done.returncode == 0, done.stdout
    assert "Suppressed" in done.stdout and "topic carries only public status pages" in done.stdout


def test_missing_outdir_exits_1(tmp_path, empty_suppressions):
    done = run("policies", str(tmp_path / "nothing"), "--suppressions", empty_suppressions)
    assert done.returncode == 1 and "no stacks found" in done.stdout


def test_checkov_wrapper_applies_suppressions_and_waivers(pol, tmp_path):
    queue = {"name": "prod-q", "kms_master_key_id": None}
    waived = {**queue, "//": {"waivers": {"CKV_AWS_27": "queue carries public build badges"}}}
    out = pol.write_outdir(tmp_path / "out", {"monitoring": pol.doc({
        "aws_sqs_queue": {"bad": dict(queue), "excused": dict(queue), "waived": waived},
        # Same name under another type: the address must come from the block's line.
        "aws_sns_topic": {"bad": {"name": "prod-t", "kms_master_key_id": KEY}},
    })})
    path = tmp_path / "s.yaml"
    path.write_text(
        "- rule: CKV_AWS_27\n  resource: monitoring/aws_sqs_queue.excused\n"
        "  reason: queue holds only non-sensitive heartbeats\n"
        "- rule: CKV_AWS_999\n  resource: monitoring/aws_sqs_queue.gone\n"
        "  reason: left over from a removed queue\n")
    done = run("policies.checkov_scan", str(out), "--suppressions", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    failed = done.stdout.split("Waived")[0]
    assert "CKV_AWS_27 monitoring/aws_sqs_queue.bad" in failed
    assert "aws_sqs_queue.excused" not in failed and "aws_sqs_queue.waived" not in failed
    waived_part = done.stdout.split("Waived")[1].split("Suppressed")[0]
    assert "CKV_AWS_27 monitoring/aws_sqs_queue.waived" in waived_part
    assert "queue carries public build badges" in waived_part
    assert "queue holds only non-sensitive heartbeats" in done.stdout.split("Suppressed")[1]
    assert "Stale suppressions" in done.stdout and "CKV_AWS_999" in done.stdout
    assert "FAILED: " in done.stdout
