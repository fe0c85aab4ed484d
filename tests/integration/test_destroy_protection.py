"""Terraform refuses to plan the destruction of a protected stateful resource.

A state holding the stack's stateful resources is written by hand and
`terraform plan -destroy -refresh=false` runs against it: no AWS account is
needed, and the refusal comes from Terraform's own prevent_destroy check.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from policies.rules.pro001_prevent_destroy import STATEFUL_TYPES
from stacks.registry import STACK_NAMES

PROTECTED_TYPES = tuple(sorted(STATEFUL_TYPES))
"""The types PRO001 requires prevent_destroy on: the ones Terraform must refuse to destroy."""
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'


def protected_resources(stack: dict) -> list[tuple[str, str]]:
    resources = stack.get("resource", {})
    return [(t, name) for t in PROTECTED_TYPES for name in sorted(resources.get(t, {}))]


def offline_state(addresses: list[tuple[str, str]]) -> dict:
    return {
        "version": 4, "terraform_version": "1.11.4", "serial": 1,
        "lineage": "00000000-0000-0000-0000-000000000000", "outputs": {},
        "resources": [
            {"mode": "managed", "type": t, "name": n, "provider": PROVIDER,
             "instances": [{"schema_version": 0, "attributes": {"id": f"{n}-id"}}]}
            for t, n in addresses
        ],
    }


def offline_overrides(stack: dict) -> dict:
    """Local backend and providers that never call AWS (fake keys, no checks; with no
    account id to compare, allowed_account_ids is lifted)."""
    offline = {"skip_credentials_validation": True, "skip_requesting_account_id": True,
               "skip_metadata_api_check": True, "access_key": "offline", "secret_key": "offline",
               "allowed_account_ids": None}
    providers = [{**({"alias": p["alias"]} if "alias" in p else {}), **offline}
                 for p in stack["provider"]["aws"]]
    return {"terraform": {"backend": {"local": {}}}, "provider": {"aws": providers}}


def test_the_stacks_holding_stateful_resources(stack_json):
    """Which stacks the refusal below is checked on (the others are skipped)."""
    assert {name for name in STACK_NAMES if protected_resources(stack_json(name))} == {
        "bootstrap", "kms", "rds", "atlantis", "cloudtrail"}


@pytest.mark.parametrize("stack_name", STACK_NAMES)
def test_terraform_refuses_to_destroy_protected_resources(
        stack_name, stack_json, terraform_workspace, tmp_path):
    root, env = terraform_workspace
    stack = stack_json(stack_name)
    addresses = protected_resources(stack)
    if not addresses:
        pytest.skip(f"{stack_name} holds none of {', '.join(PROTECTED_TYPES)}")
    workdir = tmp_path / stack_name
    shutil.copytree(root / "prod" / "stacks" / stack_name, workdir)
    (workdir / "offline_override.tf.json").write_text(json.dumps(offline_overrides(stack)))
    (workdir / "terraform.tfstate").write_text(json.dumps(offline_state(addresses)))
    run_env = {**env, "TF_DATA_DIR": str(tmp_path / "data")}
    init = subprocess.run(["terraform", "init", "-input=false", "-no-color"],
                          cwd=workdir, env=run_env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    plan = subprocess.run(
        ["terraform", "plan", "-destroy", "-refresh=false", "-input=false", "-no-color"],
        cwd=workdir, env=run_env, capture_output=True, text=True, timeout=300)
    assert plan.returncode != 0
    # Terraform wraps long messages, so the address and the reason may sit on two lines.
    refused = set(re.findall(r"Resource (\S+) has\s+lifecycle\.prevent_destroy", plan.stderr))
    assert refused == {f"{t}.{n}" for t, n in addresses}, plan.stderr
