"""Terraform itself validates every synthesized stack with hashicorp/aws 5.100.0."""

from __future__ import annotations

import subprocess

import pytest

from stacks.registry import STACK_NAMES


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_stack_is_valid_terraform(terraform_workspace, stack):
    root, env = terraform_workspace
    result = subprocess.run(
        ["terraform", "validate", "-no-color", "-json"],
        cwd=root / "stacks" / stack, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"valid": true' in result.stdout
