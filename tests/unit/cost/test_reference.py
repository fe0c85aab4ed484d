"""The estimate next to the reference table: rows, the 'other' row, absent stacks, and a
one-line explanation for every row outside its range."""

from __future__ import annotations

from cost.reference import compare, total_comparison
from cost.report import flags, readme_section
from tests.unit.cost.builders import estimate_stacks

PROVIDER = {"provider": {"aws": [{"region": "ap-northeast-2",
                                  "default_tags": [{"tags": {"Environment": "prod"}}]}]}}


def keys(count: int) -> dict:
    return {"resource": {"aws_kms_key": {f"k{i}": {} for i in range(count)}}, **PROVIDER}


def test_other_takes_every_stack_no_row_names(tmp_path):
    est = estimate_stacks(tmp_path, {"bootstrap": keys(1), "kms": keys(9), "acm": keys(0),
                                     "secrets": keys(0)})
    rows = {c.row.name: c for c in compare(est)}
    assert rows["other"].stacks == ("bootstrap", "acm", "secrets")
    assert rows["kms"].stacks == ("kms",) and rows["kms"].verdict == "within"  # 9 x $1.06


def test_an_environment_without_some_stacks(tmp_path):
    est = estimate_stacks(tmp_path, {"kms": keys(9)})
    rows = {c.row.name: c for c in compare(est)}
    assert rows["atlantis"].verdict == "absent" and rows["atlantis"].stacks == ()
    assert rows["rds"].explanation == ""
    assert "(none in this environment)" in readme_section(est)


def test_every_row_outside_its_range_gets_one_line(tmp_path):
    est = estimate_stacks(tmp_path, {"kms": keys(20), "cloudtrail": keys(1)})
    rows = {c.row.name: c for c in compare(est)}
    # 20 keys x $1.06 = $21.20: $9.20 above $9-12
    assert rows["kms"].verdict == "above"
    assert rows["kms"].explanation.startswith("$9.20 above $9\u201312, largest: ")
    assert "customer managed key (20 x aws_kms_key) $20.00" in rows["kms"].explanation
    # one key, $1.06: $3.94 below $5-10
    assert rows["cloudtrail"].verdict == "below"
    assert rows["cloudtrail"].explanation.startswith("$3.94 below $5\u201310")
    lines = [line for line in flags(est).splitlines() if line.startswith("- ")]
    assert [line.split("**")[1] for line in lines] == ["kms", "cloudtrail", "total"]
    assert total_comparison(est)[0] == "below"
