"""`python -m cost [OUTDIR]` and `python -m cost diff BASE PR [--markdown]`."""

from __future__ import annotations

from pathlib import Path

from cost.__main__ import main
from tests.unit.cost.builders import write_output

REPO = Path(__file__).resolve().parents[3]
PROVIDER = {"aws": [{"region": "ap-northeast-2",
                     "default_tags": [{"tags": {"Environment": "prod"}}]}]}


def test_make_cost_reports_every_environment_of_the_committed_output(capsys):
    assert main([str(REPO / "cdktf.out")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Monthly cost estimate\n")
    assert out.count("# Monthly cost estimate\n") == len(list((REPO / "cdktf.out").glob("*/stacks")))
    assert "Monthly estimate of **staging** in ap-northeast-2" in out
    assert "Monthly estimate of **prod** in ap-northeast-2: on-demand prices read 2026-12-07" \
        in out
    assert "| **total** |" in out and "$319\u2013422" in out
    for section in ("## Stacks", "### rds: $", "## Unpriced", "## Usage assumptions",
                    "## Prices", "Cost tips of the reference, computed"):
        assert section in out, section
    assert "Nothing: every resource type the stacks create is priced or declared free" in out
    assert "| `nat_gb_processed` | 100.0 |" in out


def test_diff_prints_markdown_for_a_pull_request(tmp_path, capsys):
    base = {"kms": {"provider": PROVIDER, "resource": {"aws_kms_key": {"a": {}}}}}
    pr = {"kms": {"provider": PROVIDER, "resource": {"aws_kms_key": {"a": {}, "b": {}}}}}
    write_output(tmp_path / "base", base)
    write_output(tmp_path / "pr", pr)
    assert main(["diff", str(tmp_path / "base"), str(tmp_path / "pr"), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("#### Monthly cost change of prod")
    assert "- **kms:** +$1.06/month (aws_kms_key 1 → 2)" in out


def test_an_output_of_an_unknown_environment_fails_with_a_sentence(tmp_path, capsys):
    provider = {"aws": [{"region": "ap-northeast-2",
                         "default_tags": [{"tags": {"Environment": "qa"}}]}]}
    write_output(tmp_path, {"kms": {"provider": provider, "resource": {}}})
    assert main([str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "its stacks' Environment tag is 'qa'; allowed are the known environments staging, prod" in err


def test_a_dir_without_stacks_fails_with_a_sentence(tmp_path, capsys):
    assert main([str(tmp_path)]) == 1
    assert "holds no stacks/<stack>/cdk.tf.json" in capsys.readouterr().err
