"""The PR cost diff end to end: a scratch copy of the repository with the RDS class one
size up and a second NAT gateway (`multi_az_nat=True`) is synthesized, and
`python -m cost diff <committed output> <its output> --markdown` shows exactly those
two deltas, explained, and nothing else."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.scratch_repo import REPO, copy_repo, replace_in, run_in

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    copy = copy_repo(tmp_path_factory.mktemp("cost") / "repo")
    # prod takes the default size (DatabaseSettings), staging its own smaller one.
    replace_in(copy / "environments" / "settings.py", 'instance_class: str = "db.t3.medium"',
               'instance_class: str = "db.t3.large"')
    replace_in(copy / "environments" / "prod.py", "multi_az_nat=False", "multi_az_nat=True")
    out = copy / "pr-out"
    synth = run_in(copy, "main.py", "--outdir", str(out), "--skip-policies")
    assert synth.returncode == 0, synth.stdout + synth.stderr
    result = run_in(copy, "-m", "cost", "diff", str(REPO / "cdktf.out"), str(out), "--markdown")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def rds_address() -> str:
    text = (REPO / "cdktf.out" / "prod" / "stacks" / "rds" / "cdk.tf.json").read_text()
    start = text.index('"mysql_instance_')
    return "aws_db_instance." + text[start + 1:text.index('"', start + 1)]


def test_exactly_the_planted_deltas(planted):
    # A second NAT gateway and its address, per month: 730 h x ($0.059 + $0.005); the
    # 100 GB of NAT traffic is split between the gateways, not doubled.
    nat = Decimal(730) * (Decimal("0.059") + Decimal("0.005"))
    # db.t3.large over db.t3.medium, Multi-AZ: 730 h x ($0.416 - $0.208); both have
    # 2 vCPU, so MySQL 8.0's Extended Support does not change.
    rds = Decimal(730) * (Decimal("0.416") - Decimal("0.208"))
    assert (nat, rds) == (Decimal("46.720"), Decimal("151.840"))
    bullets = [line for line in planted.splitlines() if line.startswith("- ")]
    assert bullets == [
        "- **network:** +$46.72/month (aws_eip 1 → 2; aws_nat_gateway 1 → 2)",
        f"- **rds:** +$151.84/month ({rds_address()}: instance_class db.t3.medium → "
        "db.t3.large)",
    ]
    rows = [line for line in planted.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["network", "rds"]
    assert "**+$198.56**" in planted
    assert "Not priced" not in planted
    # staging keeps its own database class and NAT setting.
    assert "Monthly cost change of staging" in planted
    assert planted.split("Monthly cost change of staging")[1].split("####")[0].count(
        "No change to the monthly estimate") == 1
