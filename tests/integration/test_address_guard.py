"""The address guard end to end in a scratch copy: a renamed construct fails `make synth`
with the move to add and touches nothing; with the move declared it passes; deletions pass
or need a declaration. (The moto plan of the renamed stack is in test_deploy_local.py.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from environments import environment_names
from tests.integration.conftest import RENAMES
from tests.integration.scratch_repo import (
    REPO,
    copy_repo,
    declare_address_changes,
    replace_in,
    run_in,
    snapshot,
)

pytestmark = pytest.mark.slow


ENVIRONMENT = "prod"
"""Whose output the assertions read; every environment builds the same stack classes,
so the ledger refuses (and the moves fix) the rename in each."""


def addresses(root, stack: str = "rds") -> set[str]:
    doc = json.loads((root / ENVIRONMENT / "stacks" / stack / "cdk.tf.json").read_text())
    return {f"{t}.{n}" for t, names in doc["resource"].items() for n in names}


def committed(prefix: str, stack: str = "rds") -> str:
    """The committed address of `stack` that starts with `prefix`."""
    [address] = [a for a in addresses(REPO / "cdktf.out", stack) if a.startswith(prefix)]
    return address


def test_renamed_construct_fails_synth_with_the_sentence(renamed_synth):
    result = renamed_synth.refused
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("synth failed, nothing was written: the address ledger")
    # one refusal per environment, each against its own committed output
    sections = result.stderr.split("the address ledger refused")[1:]
    assert len(sections) == len(environment_names())
    [section] = [s for s in sections if f"committed cdktf.out/{ENVIRONMENT}/ " in s]
    for old, new_prefix, protected in (
            (committed("aws_db_instance.mysql_instance_"), "aws_db_instance.database_instance_",
             True),
            (committed("aws_vpc_security_group_ingress_rule.security-group_ingress-1_"),
             "aws_vpc_security_group_ingress_rule.mysql-security-group_ingress-1_", False)):
        [sentence] = [line for line in section.splitlines() if f"- rds: {old} is gone" in line]
        assert f"and {new_prefix}" in sentence
        assert f'`Move(from_="{old}", to="{new_prefix}' in sentence
        assert "to RdsStack.address_changes (stacks/rds.py)" in sentence
        assert ("prevent_destroy goes with its block" in sentence) is protected


def test_refused_synth_leaves_the_output_byte_identical(renamed_synth):
    assert renamed_synth.untouched


def test_with_the_suggested_moves_synth_passes(renamed_synth):
    result = renamed_synth.accepted
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(renamed_synth.moves) == 7  # every resource under the two renamed constructs
    doc = json.loads((renamed_synth.out / ENVIRONMENT / "stacks" / "rds" / "cdk.tf.json")
                     .read_text())
    moved = {(m["from"], m["to"]) for m in doc["moved"]}
    assert {old for old, _ in moved} == addresses(REPO / "cdktf.out") - addresses(
        renamed_synth.out)
    assert {new for _, new in moved} == addresses(renamed_synth.out) - addresses(
        REPO / "cdktf.out")
    environments = len(list((REPO / "cdktf.out").glob("*/stacks/rds")))
    assert result.stdout.count("(declared; the plan says \"has moved to\")") == 7 * environments


def test_other_stacks_are_unchanged_by_the_rename(renamed_synth):
    stacks = sorted((REPO / "cdktf.out").glob("*/stacks/*"))
    assert len(stacks) > 11
    for stack in stacks:
        if stack.name != "rds":
            relative = stack.relative_to(REPO / "cdktf.out") / "cdk.tf.json"
            assert (renamed_synth.out / relative).read_bytes() == (
                stack / "cdk.tf.json").read_bytes(), relative


def test_deletions_pass_when_unprotected_and_need_a_declaration_when_protected(tmp_path):
    copy = copy_repo(tmp_path / "repo")
    cloudtrail = copy / "stacks" / "cloudtrail.py"
    # Drop the Athena part: its results bucket is protected, the rest is not.
    for part in ("        self._athena()\n",
                 '        self.publish("athena-workgroup-name", self.workgroup.name,\n'
                 '                     "Athena workgroup for querying the trail logs")\n',
                 '        self.publish("glue-database-name", self.database.name,\n'
                 '                     "Glue database holding the CloudTrail table")\n'):
        replace_in(cloudtrail, part, "")
    before = snapshot(copy)
    bucket = committed("aws_s3_bucket.athena-results-bucket_", "cloudtrail")

    refused = run_in(copy, "main.py", "--publish")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"- cloudtrail: {bucket} is gone from the synth and has prevent_destroy" in refused.stderr
    assert snapshot(copy) == before

    reason = "query the trail with CloudWatch Logs Insights instead of Athena"
    declare_address_changes(cloudtrail, "CloudtrailStack",
                            [f'Remove(address="{bucket}", reason="{reason}"),'])
    accepted = run_in(copy, "main.py", "--publish")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert f"- cloudtrail: {bucket} will be destroyed (declared: {reason})" in accepted.stdout
    gone = (addresses(REPO / "cdktf.out", "cloudtrail")
            - addresses(copy / "cdktf.out", "cloudtrail") - {bucket})
    assert gone, "the Athena part should take unprotected resources with it"
    for address in gone:
        assert (f"- cloudtrail: {address} is no longer synthesized; the Atlantis plan of "
                "cloudtrail will show its destroy") in accepted.stdout



def test_npx_cdktf_synth_refuses_the_rename_too(tmp_path):
    if shutil.which("npx") is None or not (REPO / "node_modules" / ".bin" / "cdktf").exists():
        pytest.fail("the cdktf CLI is not installed: run `npm ci` (make test does)")
    copy = copy_repo(tmp_path / "repo")
    for name in (".venv", "node_modules"):  # cdktf.json runs .venv/bin/python main.py
        (copy / name).symlink_to(REPO / name)
    for old, new in RENAMES:
        replace_in(copy / "stacks" / "rds.py", old, new)
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "CI": "1",
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    out = tmp_path / "cli-out"
    result = subprocess.run(["npx", "--no", "cdktf", "synth", "--output", str(out)], cwd=copy,
                            env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "the address ledger refused 7 address change(s)" in result.stdout + result.stderr
    assert not list(out.glob("*/stacks"))
