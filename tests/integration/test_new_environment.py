"""A third environment is one new file: in a scratch copy, `environments/dev.py` alone
(written below, nothing else edited) and `make synth`'s command produce dev's stacks,
which pass the governance rules, checkov and `terraform validate`; atlantis.yaml, the
README's generated sections and the freshness check take it up by themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from local_deploy.terraform_cli import cli_config_env
from tests.integration.scratch_repo import copy_repo, run_in

pytestmark = pytest.mark.slow

DEV = '''"""A developer sandbox: staging's shape in an account of its own."""

from environments.settings import (
    DatabaseSettings,
    GithubSettings,
    NetworkSettings,
    Settings,
    StateSettings,
    SubnetSettings,
    TagSettings,
)

SETTINGS = Settings(
    name="dev",
    account_id="333333333333",
    region="ap-northeast-2",
    availability_zones=("ap-northeast-2a", "ap-northeast-2c"),
    domain="dev.set-of.com",
    state=StateSettings(bucket="dev-connectly-tfstate", lock_table="dev-connectly-tfstate-lock",
                        kms_alias="alias/dev-tfstate"),
    tags=TagSettings(environment="dev", team="platform-team", owner="platform@example.com",
                     cost_center="engineering", project="infrastructure",
                     data_class="internal", managed_by="terraform"),
    network=NetworkSettings(
        vpc_cidr="10.2.0.0/16",
        public_subnets=(SubnetSettings(cidr="10.2.0.0/20", availability_zone="ap-northeast-2a"),
                        SubnetSettings(cidr="10.2.16.0/20", availability_zone="ap-northeast-2c")),
        private_subnets=(SubnetSettings(cidr="10.2.32.0/19", availability_zone="ap-northeast-2a"),
                         SubnetSettings(cidr="10.2.64.0/19", availability_zone="ap-northeast-2c")),
    ),
    github=GithubSettings(repository="connectly/infrastructure"),
    planned_by="prod",
    database=DatabaseSettings(instance_class="db.t3.micro", allocated_storage_gib=20,
                              max_allocated_storage_gib=50, multi_az=False,
                              single_az_reason="a sandbox: nobody is paged when it is down"),
)
'''


@pytest.fixture(scope="module")
def with_dev(tmp_path_factory):
    """The scratch copy after `environments/dev.py` was added and `make synth`'s command
    ran; (copy, the synth's result, the files the change touched besides dev.py)."""
    copy = copy_repo(tmp_path_factory.mktemp("dev") / "repo")
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    (copy / "environments" / "dev.py").write_text(DEV)
    synth = run_in(copy, "main.py", "--publish")
    after = {p for p in copy.rglob("*") if p.is_file() and before.get(p) != p.read_bytes()}
    hand_written = sorted(str(p.relative_to(copy)) for p in after
                          if p.relative_to(copy).parts[0] != "cdktf.out"
                          and p.name not in ("atlantis.yaml", "README.md"))
    return copy, synth, hand_written


def test_one_new_file_and_the_synth_makes_an_environment(with_dev):
    copy, synth, hand_written = with_dev
    assert synth.returncode == 0, synth.stdout + synth.stderr
    # Nothing but the new module was written by hand; the rest is generated.
    assert hand_written == ["environments/dev.py"]
    stacks = sorted(p.name for p in (copy / "cdktf.out" / "dev" / "stacks").iterdir())
    assert stacks == sorted(["bootstrap", "kms", "network", "route53", "acm", "rds",
                             "logging", "monitoring", "cloudtrail"])
    assert "synthesized 9 stacks of dev" in synth.stdout
    manifest = json.loads((copy / "cdktf.out" / "manifest.json").read_text())
    assert "dev-kms" in manifest["stacks"]


def test_dev_passes_the_governance_rules_and_checkov(with_dev):
    copy, _, _ = with_dev
    for module in ("policies", "policies.checkov_scan"):
        result = subprocess.run([sys.executable, "-m", module, "cdktf.out/dev"], cwd=copy,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert "PASSED" in result.stdout and "9 stacks" in result.stdout


def test_dev_is_valid_terraform(with_dev, tmp_path):
    copy, _, _ = with_dev
    env = {**os.environ, **cli_config_env(tmp_path / "cli"), "TF_DATA_DIR": str(tmp_path / "data")}
    first = copy / "cdktf.out" / "dev" / "stacks" / "bootstrap"
    init = subprocess.run(["terraform", "init", "-backend=false", "-input=false", "-no-color"],
                          cwd=first, env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr
    for stack_dir in sorted((copy / "cdktf.out" / "dev" / "stacks").iterdir()):
        if stack_dir != first:
            (stack_dir / ".terraform.lock.hcl").write_bytes(
                (first / ".terraform.lock.hcl").read_bytes())
        result = subprocess.run(["terraform", "validate", "-no-color", "-json"], cwd=stack_dir,
                                env=env, capture_output=True, text=True, timeout=300)
        assert '"valid": true' in result.stdout, (stack_dir.name, result.stdout, result.stderr)


def test_atlantis_and_the_readme_take_it_up(with_dev):
    copy, _, _ = with_dev
    projects = yaml.safe_load((copy / "atlantis.yaml").read_text())["projects"]
    dev = [p for p in projects if p["name"].startswith("dev-")]
    assert [p["dir"] for p in dev] == [f"cdktf.out/dev/stacks/{p['name'][4:]}" for p in dev]
    assert len(dev) == 9
    kms = next(p for p in dev if p["name"] == "dev-kms")
    assert kms["depends_on"] == ["dev-bootstrap"]
    readme = (copy / "README.md").read_text()
    for section in ("environments", "stack-table", "stack-diagram", "cost-table"):
        body = readme.split(f"<!-- {section}:start -->")[1].split(f"<!-- {section}:end -->")[0]
        assert "dev" in body, section
    # prod's server plans dev: its task may assume dev's roles, in dev's account.
    atlantis = json.loads((copy / "cdktf.out" / "prod" / "stacks" / "atlantis" /
                           "cdk.tf.json").read_text())
    assert "iam::333333333333:role/dev-atlantis-plan" in json.dumps(atlantis)


def test_the_freshness_check_sees_it_fresh_and_then_stale(with_dev):
    copy, _, _ = with_dev
    fresh = run_in(copy, "-m", "synth.freshness")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    # Last in this module: it edits dev.py after the other tests read the synth.
    dev = copy / "environments" / "dev.py"
    dev.write_text(dev.read_text().replace('instance_class="db.t3.micro"',
                                           'instance_class="db.t3.small"'))
    stale = run_in(copy, "-m", "synth.freshness")
    assert stale.returncode == 1
    assert "stale: cdktf.out/dev/stacks/rds/cdk.tf.json" in stale.stderr
