"""A failed `make synth` leaves cdktf.out/, atlantis.yaml and README.md byte-identical."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.scratch_repo import copy_repo, run_in, snapshot

# Plants a violation that only the governance rules catch (a bucket with
# AWS-managed encryption and an invalid name), after every stack is built.
PLANT_POLICY_VIOLATION = """
import sys
import stacks.app as app_module
original = app_module.build_app
def planted(*args, **kwargs):
    app, graph = original(*args, **kwargs)
    stack = app.node.find_child("logging")
    stack.add_override("resource.aws_s3_bucket.planted", {"bucket": "Planted_Bucket"})
    return app, graph
app_module.build_app = planted
from synth.synth import run
sys.exit(run(["--publish"]))
"""


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    return copy_repo(tmp_path / "repo")


# (text in environments/prod.py, its replacement, what the error must say)
SETTINGS_MISTAKES = {
    "malformed-cidr": ('"10.0.32.0/19"', '"10.0.32.0/33"',
                       "network.private_subnets[0].cidr is '10.0.32.0/33'; allowed is an IPv4 "
                       "CIDR block"),
    "subnet-outside-vpc": ('"10.0.64.0/19"', '"10.1.64.0/19"',
                           "network.private_subnets[1].cidr is '10.1.64.0/19'; allowed is a "
                           "block inside the VPC range 10.0.0.0/16"),
    "overlapping-subnets": ('"10.0.64.0/19"', '"10.0.32.0/20"',
                            "network.private_subnets[1].cidr is '10.0.32.0/20'; it overlaps "
                            "network.private_subnets[0] (10.0.32.0/19)"),
    "az-not-in-region": ('cidr="10.0.16.0/20", availability_zone="ap-northeast-2c"',
                         'cidr="10.0.16.0/20", availability_zone="eu-west-1c"',
                         "network.public_subnets[1].availability_zone is 'eu-west-1c'"),
    "tag-not-kebab": ('team="platform-team"', 'team="Platform Team"',
                      "tags.team is 'Platform Team'; tag values must be kebab-case"),
    "empty-tag": ('cost_center="engineering"', 'cost_center=""',
                  "tags.cost_center is ''; every required tag needs a non-empty value"),
    "owner-not-email": ('owner="platform@example.com"', 'owner="platform-team"',
                        "tags.owner is 'platform-team'; allowed is an e-mail address"),
    "name-not-kebab": ('bucket="prod-connectly-tfstate"', 'bucket="prod_connectly_tfstate"',
                       "state.bucket is 'prod_connectly_tfstate'; allowed is a kebab-case name"),
    "log-retention": ('domain="set-of.com",', 'domain="set-of.com", log_retention_days=100,',
                      "log_retention_days is 100; allowed are the values CloudWatch Logs accepts"),
}

# Stack code that breaks the SSM contracts, planted before the app is built.
CONTRACT_MISTAKES = {
    "read-from-a-later-stack": (
        "kms", 'self.consume("network", "vpc-id")',
        # staging is built first (promotion order), so its stack is the one refused.
        "stack 'kms' reads /staging/network/vpc-id published by stack 'network', but 'network' "
        "deploys after 'kms'"),
    "read-of-an-unpublished-value": (
        "rds", 'self.consume("network", "no-such-value")',
        "stack 'rds' reads /staging/network/no-such-value, but no stack publishes it"),
    "read-inside-the-parallel-phase": (
        "monitoring", 'self.consume("logging", "security-log-group-arn")',
        "both are in the parallel phase 4"),
}
PLANT_CONTRACT_MISTAKE = """
import sys
import stacks.base as base
original = base.GovernedStack.__init__
def planted(self, scope, spec, context):
    original(self, scope, spec, context)
    if spec.name == {stack!r}:
        {statement}
base.GovernedStack.__init__ = planted
from synth.synth import run
sys.exit(run(["--publish"]))
"""


def assert_refused(copy: Path, before: dict, result, expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(copy) == before
    assert not list(copy.glob(".synth-*"))


@pytest.mark.parametrize("case", sorted(SETTINGS_MISTAKES))
def test_settings_mistake_is_refused_and_output_untouched(repo_copy, case):
    old, new, expected = SETTINGS_MISTAKES[case]
    before = snapshot(repo_copy)
    settings = repo_copy / "environments" / "prod.py"
    text = settings.read_text()
    assert old in text, f"the planted mistake {case} no longer applies to prod.py"
    settings.write_text(text.replace(old, new, 1))
    result = run_in(repo_copy, "main.py", "--publish")
    assert_refused(repo_copy, before, result, f"environments/prod.py: {expected}")


def test_unknown_environment_is_refused_and_output_untouched(repo_copy):
    before = snapshot(repo_copy)
    result = run_in(repo_copy, "main.py", "--publish", "--env", "stagin")
    assert_refused(repo_copy, before, result,
                   "environment 'stagin' is unknown: allowed are staging, prod")


# A new environment module, copied from staging with one mistake: (old, new, sentence).
NEW_ENVIRONMENT_MISTAKES = {
    "bad-cidr": (('name="staging"', 'name="dev"'), ('"10.1.0.0/16"', '"10.2.0.0/33"'),
                 "environments/dev.py: network.vpc_cidr is '10.2.0.0/33'; allowed is an IPv4 "
                 "CIDR block"),
    "duplicate-name": (('account_id="222222222222"', 'account_id="333333333333"'),
                       ('name="staging"', 'name="staging"'),
                       "environments/dev.py: name is 'staging'; allowed is the module's own "
                       "name 'dev'"),
}


@pytest.mark.parametrize("case", sorted(NEW_ENVIRONMENT_MISTAKES))
def test_a_new_environment_with_a_mistake_is_refused_and_nothing_written(repo_copy, case):
    first, second, expected = NEW_ENVIRONMENT_MISTAKES[case]
    before = snapshot(repo_copy)
    text = (repo_copy / "environments" / "staging.py").read_text()
    for old, new in (first, second):
        assert old in text, f"the planted mistake {case} no longer applies to staging.py"
        text = text.replace(old, new)
    dev = repo_copy / "environments" / "dev.py"
    dev.write_text(text)
    result = run_in(repo_copy, "main.py", "--publish")
    dev.unlink()
    assert_refused(repo_copy, before, result, expected)


@pytest.mark.parametrize("case", sorted(CONTRACT_MISTAKES))
def test_contract_mistake_is_refused_and_output_untouched(repo_copy, case):
    stack, statement, expected = CONTRACT_MISTAKES[case]
    before = snapshot(repo_copy)
    script = PLANT_CONTRACT_MISTAKE.format(stack=stack, statement=statement)
    result = run_in(repo_copy, "-c", script)
    assert_refused(repo_copy, before, result, expected)


def test_policy_failure_after_synth_leaves_output_untouched(repo_copy):
    before = snapshot(repo_copy)
    result = run_in(repo_copy, "-c", PLANT_POLICY_VIOLATION)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "logging/aws_s3_bucket.planted" in result.stderr
    assert "cdktf.out was not changed" in result.stderr
    assert snapshot(repo_copy) == before
    assert not list(repo_copy.glob(".synth-*"))
