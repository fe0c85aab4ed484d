"""The cost diff of two outputs: per stack, with the resource changes that explain it."""

from __future__ import annotations

from cost.diff import diff, render
from tests.unit.cost.builders import estimate_stacks

PROVIDER = {"provider": {"aws": [{"region": "ap-northeast-2",
                                  "default_tags": [{"tags": {"Environment": "prod"}}]}]}}


def rds(klass: str) -> dict:
    return {"resource": {"aws_db_instance": {"db": {
        "engine": "mysql", "engine_version": "8.0", "instance_class": klass, "multi_az": True,
        "allocated_storage": 50, "storage_type": "gp3"}}}, **PROVIDER}


def network(zones: tuple[str, ...]) -> dict:
    return {"resource": {"aws_nat_gateway": {f"nat-{z}": {} for z in zones},
                         "aws_eip": {f"eip-{z}": {} for z in zones},
                         "aws_vpc": {"vpc": {}}}, **PROVIDER}


def estimates(tmp_path, base: dict, pr: dict):
    return (estimate_stacks(tmp_path / "base", base), estimate_stacks(tmp_path / "pr", pr))


def test_class_up_one_size_and_a_second_nat(tmp_path):
    base, pr = estimates(tmp_path,
                         {"network": network(("a",)), "rds": rds("db.t3.medium")},
                         {"network": network(("a", "c")), "rds": rds("db.t3.large")})
    deltas = {d.name: d for d in diff(base, pr)}
    assert set(deltas) == {"network", "rds"}
    # a NAT gateway (730 h x $0.059) and its address (730 h x $0.005); traffic is split
    assert str(deltas["network"].change) == "46.72"
    assert deltas["network"].reasons == ("aws_eip 1 → 2", "aws_nat_gateway 1 → 2")
    # (0.416 - 0.208) x 730 h; db.t3.large has the same 2 vCPU, so Extended Support stays
    assert str(deltas["rds"].change) == "151.84"
    assert deltas["rds"].reasons == (
        "aws_db_instance.db: instance_class db.t3.medium → db.t3.large",)
    text = render(base, pr, markdown=True)
    assert ("- **rds:** +$151.84/month (aws_db_instance.db: instance_class db.t3.medium → "
            "db.t3.large)") in text
    assert "- **network:** +$46.72/month (aws_eip 1 → 2; aws_nat_gateway 1 → 2)" in text
    assert "| **total** |" in text and "**+$198.56**" in text


def test_no_change(tmp_path):
    base, pr = estimates(tmp_path, {"rds": rds("db.t3.medium")}, {"rds": rds("db.t3.medium")})
    assert diff(base, pr) == []
    # 730 h x $0.208 + 50 GB x $0.262 + 2 vCPU x 2 x 730 h x $0.12 = 151.84 + 13.10 + 350.40
    assert "No change to the monthly estimate ($515.34)." in render(base, pr, markdown=True)


def test_a_free_change_is_no_cost_change(tmp_path):
    quiet = network(("a",))
    quiet["resource"]["aws_vpc"]["vpc"]["cidr_block"] = "10.1.0.0/16"
    base, pr = estimates(tmp_path, {"network": network(("a",))}, {"network": quiet})
    assert diff(base, pr) == []


def test_new_and_removed_stacks_and_a_cheaper_pr(tmp_path):
    base, pr = estimates(tmp_path, {"rds": rds("db.t3.large"), "network": network(("a",))},
                         {"rds": rds("db.t3.medium"), "kms": {
                             "resource": {"aws_kms_key": {"k": {}}}, **PROVIDER}})
    deltas = {d.name: d for d in diff(base, pr)}
    assert deltas["kms"].reasons == ("new stack",) and deltas["kms"].base is None
    assert deltas["network"].reasons == ("stack removed",) and deltas["network"].pr is None
    assert str(deltas["rds"].change) == "-151.84"
    text = render(base, pr, markdown=False)
    assert "rds: -$151.84/month (aws_db_instance.db: instance_class db.t3.large → db.t3.medium)" \
        in text
    assert text.splitlines()[-1].startswith("total: -$")


def test_a_new_unpriced_type_is_named(tmp_path):
    odd = rds("db.t3.medium")
    odd["resource"]["aws_imaginary_thing"] = {"x": {}}
    base, pr = estimates(tmp_path, {"rds": rds("db.t3.medium")}, {"rds": odd})
    text = render(base, pr, markdown=True)
    assert "Not priced in the PR" in text and "aws_imaginary_thing.x" in text
