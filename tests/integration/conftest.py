"""A copy of the session synth with one provider install shared by all stacks, and a
scratch repository whose RDS constructs were renamed (the address guard's planted case,
also planned on the session's one moto deployment)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from local_deploy.terraform_cli import cli_config_env
from stacks.registry import STACK_NAMES
from tests.integration.scratch_repo import (
    copy_repo,
    declare_address_changes,
    replace_in,
    run_in,
    snapshot,
)

RENAMES = (
    # The RDS instance's construct: every resource under it gets a new address,
    # the protected aws_db_instance among them.
    ('RdsInstance(self, "mysql"', 'RdsInstance(self, "database"'),
    # An unprotected one: the security group and its ingress rule.
    ('SecurityGroup(self, "security-group"', 'SecurityGroup(self, "mysql-security-group"'),
)
SUGGESTED_MOVE = re.compile(r"^\s+(Move\(from_=\"[^\"]+\", to=\"[^\"]+\"\),)$", re.MULTILINE)


@dataclass(frozen=True)
class RenamedSynth:
    refused: subprocess.CompletedProcess
    """`main.py --publish` after the renames."""
    untouched: bool
    """The guarded files were byte-identical after the refusal."""
    moves: list[str]
    """The Move lines the refusal suggested (and that were then declared)."""
    accepted: subprocess.CompletedProcess
    """`main.py --publish` with the moves declared."""
    out: Path
    """The published cdktf.out/ of the renamed code."""


@pytest.fixture(scope="session")
def renamed_synth(tmp_path_factory) -> RenamedSynth:
    copy = copy_repo(tmp_path_factory.mktemp("renamed") / "repo")
    rds = copy / "stacks" / "rds.py"
    for old, new in RENAMES:
        replace_in(rds, old, new)
    before = snapshot(copy)
    refused = run_in(copy, "main.py", "--publish")
    untouched = snapshot(copy) == before
    # Every environment's ledger suggests the same lines (one stack class builds them all).
    moves = list(dict.fromkeys(SUGGESTED_MOVE.findall(refused.stderr)))
    declare_address_changes(rds, "RdsStack", moves)
    accepted = run_in(copy, "main.py", "--publish")
    return RenamedSynth(refused, untouched, moves, accepted, copy / "cdktf.out")


@pytest.fixture(scope="session")
def terraform_workspace(synth_root, tmp_path_factory):
    """(root, env): <root>/<environment>/stacks/<stack> copies of the synth output, and
    the environment that makes terraform use the local provider mirror and one shared
    data dir (TF_DATA_DIR), so every stack pays for one `terraform init`."""
    root = tmp_path_factory.mktemp("terraform")
    shutil.copytree(synth_root, root / "out", ignore=shutil.ignore_patterns("manifest.json"))
    stack_dirs = sorted((root / "out").glob("*/stacks/*"))
    env = {**os.environ, **cli_config_env(root / "cli"), "TF_DATA_DIR": str(root / "data")}
    first = root / "out" / "prod" / "stacks" / STACK_NAMES[0]
    init = subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
        cwd=first, env=env, capture_output=True, text=True, timeout=300,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    lock = first / ".terraform.lock.hcl"
    for stack_dir in stack_dirs:
        if stack_dir != first:
            shutil.copy(lock, stack_dir / ".terraform.lock.hcl")
    return root / "out", env
