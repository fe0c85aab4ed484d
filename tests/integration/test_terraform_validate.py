"""Terraform itself validates every synthesized stack of every environment with
hashicorp/aws 5.100.0."""

from __future__ import annotations

import subprocess

import pytest

from environments import load_environments
from stacks.registry import stacks_for

CASES = [(s.name, spec.name) for s in load_environments() for spec in stacks_for(s)]


@pytest.mark.parametrize(("environment", "stack"), CASES, ids=[f"{e}-{s}" for e, s in CASES])
def test_stack_is_valid_terraform(terraform_workspace, environment, stack):
    root, env = terraform_workspace
    result = subprocess.run(
        ["terraform", "validate", "-no-color", "-json"],
        cwd=root / environment / "stacks" / stack, env=env, capture_output=True, text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"valid": true' in result.stdout
