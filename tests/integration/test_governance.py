"""The whole app meets every governance rule and checkov, with only reviewed excuses."""

from __future__ import annotations

from policies import checkov_scan
from policies.runner import check_output
from stacks.registry import STACK_NAMES


def test_app_has_no_unexcused_governance_findings(synth_out):
    report = check_output(synth_out)
    assert not report.failed, report.render()
    assert sorted(report.stacks) == sorted(STACK_NAMES)


def test_checkov_passes_with_reviewed_suppressions(synth_out):
    report = checkov_scan.scan(synth_out)
    assert not report.failed, report.render()
    assert report.passed > 100, report.render()
