"""Recorded plan JSON of the drift check's cases.

Captured on the moto deployment of `make pr-flow` (Terraform 1.11.4, hashicorp/aws
5.100.0) with `terraform show -json` after changes made out of band with boto3, then
trimmed by hand to the entries and attributes that matter: a required tag removed
from the VPC (network), an ingress rule added to the RDS security group (rds, beside
the DB instance's self-moving `latest_restorable_time` and a parameter group attribute
the scratch copy ignores), a log group's retention shortened and an SSM parameter's
value overwritten (logging; `value` is sensitive), a description changed only in code
(kms), and `terraform init` against a state bucket that does not exist.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drift.schema import read_only_attributes
from drift.terraform import CHANGES, NO_CHANGES, PlanRun, first_error_line

FIXTURES = Path(__file__).parent / "fixtures"
RDS_IGNORED = {("aws_db_parameter_group", "mysql_parameter-group_50639E3B"):
               frozenset({"parameter"})}
"""What the rds stack's scratch copy ignores (local_deploy quirk: moto does not store a
DB parameter group's parameters)."""


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="session")
def read_only():
    return read_only_attributes(load("aws_provider_schema_excerpt.json"))


def plan_run(stack: str, fixture: str, exit_code: int | None = None) -> PlanRun:
    plan = load(fixture)
    if exit_code is None:
        changed = any(c["change"]["actions"] != ["no-op"] for c in plan["resource_changes"])
        exit_code = CHANGES if changed else NO_CHANGES
    return PlanRun(stack, plan, exit_code, seconds=1.0)


def unreachable_run(stack: str = "logging") -> PlanRun:
    output = (FIXTURES / "logging_unreachable_init.txt").read_text()
    return PlanRun(stack, None, 1, "init", first_error_line(output), 0.5)
