"""A copy of the session synth with one provider install shared by all stacks."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from stacks.registry import STACK_NAMES
from tools.terraform_cli import cli_config_env


@pytest.fixture(scope="session")
def terraform_workspace(synth_out, tmp_path_factory):
    """(root, env): <root>/stacks/<stack> copies of the synth output, and the
    environment that makes terraform use the local provider mirror and one shared
    data dir (TF_DATA_DIR), so every stack pays for one `terraform init`."""
    root = tmp_path_factory.mktemp("terraform")
    shutil.copytree(synth_out / "stacks", root / "stacks")
    env = {**os.environ, **cli_config_env(root / "cli"), "TF_DATA_DIR": str(root / "data")}
    first = root / "stacks" / STACK_NAMES[0]
    init = subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
        cwd=first, env=env, capture_output=True, text=True, timeout=300,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    lock = first / ".terraform.lock.hcl"
    for stack in STACK_NAMES[1:]:
        shutil.copy(lock, root / "stacks" / stack / ".terraform.lock.hcl")
    return root, env
