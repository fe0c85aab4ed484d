"""The runner: waivers, suppressions (matching, stale, invalid), crashing rules, the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.excuses import MIN_REASON
from policies.finding import OPEN, SUPPRESSED, WAIVED
from policies.model import Rule, StackView
from policies.packs import ALL, PACKS
from policies.runner import check_output, check_stacks

ENCRYPTION, PROTECTION = PACKS["encryption"], PACKS["protection"]

BUCKET_OK = {"lifecycle": {"prevent_destroy": True}, "bucket": "prod-b"}


@pytest.fixture
def suppressions(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / "suppressions.yaml"
        path.write_text(text)
        return path
    return write


def stack(pol, resources, name="network"):
    return StackView.from_doc(name, pol.doc(resources))


def test_waiver_on_the_resource_excuses_that_rule_only(pol, suppressions):
    body = {"bucket": "prod-b", "//": {"waivers": {"PRO001": "scratch bucket, rebuilt daily"}}}
    report = check_stacks([stack(pol, {"aws_s3_bucket": {"b": body}})], PROTECTION,
                          suppression_file=suppressions("[]"))
    (finding,) = report.findings
    assert finding.status == WAIVED and finding.reason == "scratch bucket, rebuilt daily"
    assert not report.failed
    text = report.render()
    assert "Waived" in text and "scratch bucket, rebuilt daily" in text


def test_a_waiver_with_a_short_reason_excuses_nothing(pol, suppressions):
    short = "x" * (MIN_REASON - 1)
    body = {"bucket": "prod-b", "//": {"waivers": {"PRO001": short}}}
    report = check_stacks([stack(pol, {"aws_s3_bucket": {"b": body}})], PROTECTION,
                          suppression_file=suppressions("[]"))
    (finding,) = report.findings
    assert finding.status == OPEN and report.failed
    assert any(f"at least {MIN_REASON} characters" in p for p in report.problems)


def test_suppression_glob_matches_and_is_reported(pol, suppressions):
    path = suppressions(
        "- rule: PRO001\n  resource: 'net*/aws_s3_bucket.*'\n"
        "  reason: bucket is recreated from the source of truth\n")
    report = check_stacks([stack(pol, {"aws_s3_bucket": {"b": {"bucket": "prod-b"}}})],
                          PROTECTION, suppression_file=path)
    (finding,) = report.findings
    assert finding.status == SUPPRESSED and not report.failed and not report.stale
    assert "bucket is recreated from the source of truth" in report.render()


def test_stale_suppression_is_a_warning(pol, suppressions):
    path = suppressions(
        "- rule: PRO001\n  resource: network/aws_s3_bucket.gone\n  reason: kept from last year\n"
        "- rule: TAG001\n  resource: network/aws_vpc.v\n  reason: not run in this pack\n"
        "- rule: CKV_AWS_18\n  resource: network/aws_s3_bucket.b\n  reason: checkov's business\n")
    report = check_stacks([stack(pol, {"aws_s3_bucket": {"b": BUCKET_OK}})], PROTECTION,
                          suppression_file=path)
    assert [s.resource for s in report.stale] == ["network/aws_s3_bucket.gone"]
    assert not report.failed
    assert "Stale suppressions" in report.render()


@pytest.mark.parametrize(("case", "text", "expected"), [
    ("short reason", f"- rule: PRO001\n  resource: a/b.c\n  reason: {'x' * (MIN_REASON - 1)}\n",
     f"at least {MIN_REASON}"),
    ("no reason", "- rule: PRO001\n  resource: a/b.c\n", f"at least {MIN_REASON}"),
    ("unknown rule", "- rule: prevent-destroy\n  resource: a/b.c\n  reason: long enough reason\n",
     "not a policy id"),
    ("resource without a stack", "- rule: PRO001\n  resource: b.c\n  reason: long enough reason\n",
     "<stack>/<type>.<name>"),
    ("extra key", "- rule: PRO001\n  resource: a/b.c\n  reason: long enough reason\n  until: x\n",
     "unknown keys until"),
    ("not a list", "rule: PRO001\n", "must be a list"),
])
def test_bad_suppression_entry_fails_the_run(pol, suppressions, case, text, expected):
    report = check_stacks([stack(pol, {})], PROTECTION, suppression_file=suppressions(text))
    assert report.failed, case
    assert any(expected in p for p in report.problems), report.problems


class Crashing(Rule):
    id = "TST001"
    family = "tags"
    title = "crashes"
    rationale = "test"
    fix = "n/a"

    def check(self, resource):
        raise KeyError("boom")


def test_a_crashing_rule_is_an_error_finding(pol, suppressions):
    report = check_stacks([stack(pol, {"aws_vpc": {"v": {}}})], (Crashing(),),
                          suppression_file=suppressions("[]"))
    assert report.failed
    (finding,) = report.findings
    assert "TST001 raised KeyError" in finding.message


def test_render_lists_counts_and_findings(pol, suppressions):
    report = check_stacks([stack(pol, {"aws_kms_key": {"k": {"enable_key_rotation": False,
                                                              "deletion_window_in_days": 30}}})],
                          ENCRYPTION, suppression_file=suppressions("[]"))
    text = report.render()
    assert "ENC002   error        1" in text
    assert ("ENC002 network/aws_kms_key.k: enable_key_rotation is false, allowed: true — "
            "use constructs_lib.kms_key") in text
    assert text.endswith("FAILED: 1 error finding(s), 0 problem(s)")


def test_check_output_reads_every_stack(pol, tmp_path, suppressions):
    out = pol.write_outdir(tmp_path / "out", {
        "kms": pol.doc({"aws_kms_key": {"k": {"enable_key_rotation": True,
                                              "deletion_window_in_days": 30,
                                              "lifecycle": {"prevent_destroy": True}}}}),
        # A VPC answers for its default ACL (SEC008): adopted, with no entry.
        "network": pol.doc({"aws_vpc": {"v": {"cidr_block": "10.0.0.0/16"}},
                            "aws_default_network_acl": {"d": {
                                "default_network_acl_id": "${aws_vpc.v.default_network_acl_id}"}}}),
    })
    report = check_output(out, suppression_file=suppressions("[]"))
    assert report.stacks == ["kms", "network"]
    assert not report.failed, report.render()
    assert report.render().startswith(f"Policy report for {out}: 2 stacks, {len(ALL)} rules;")


def test_check_output_without_stacks_fails(tmp_path, suppressions):
    report = check_output(tmp_path, suppression_file=suppressions("[]"))
    assert report.failed and "no stacks found" in report.problems[0]


def test_committed_suppression_file_is_valid():
    from policies.suppressions import DEFAULT_FILE, load

    _, problems = load(DEFAULT_FILE)
    assert problems == []
