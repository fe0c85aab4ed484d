"""Excuses for findings, for our rules and checkov alike: a waiver recorded on the
resource by its construct, or an entry of policies/suppressions.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from constructs_lib.formats import MIN_REASON
from policies.finding import OPEN, SUPPRESSED, WAIVED, Finding
from policies.model import StackView

if TYPE_CHECKING:
    from policies.suppressions import Suppression



def short_reason(reason: object) -> bool:
    return not isinstance(reason, str) or len(reason.strip()) < MIN_REASON


@dataclass
class Excused:
    findings: list[Finding] = field(default_factory=list)
    stale: list[Suppression] = field(default_factory=list)
    """Suppression entries that excused nothing in this run."""
    problems: list[str] = field(default_factory=list)
    """Waivers whose reason is too short (they excuse nothing)."""


def excuse(findings: list[Finding], stacks: Mapping[str, StackView],
           entries: list[Suppression]) -> Excused:
    """Each finding waived by its resource, else suppressed by the first matching
    entry, else left open. A waiver wins: it was reviewed with the resource."""
    done = Excused()
    used: set[int] = set()
    for finding in findings:
        resource = stacks[finding.stack].find(finding.address) if finding.stack in stacks else None
        waiver = resource.waivers.get(finding.rule) if resource is not None else None
        if waiver is not None and short_reason(waiver):
            done.problems.append(
                f"{finding.resource}: the waiver of {finding.rule} has the reason {waiver!r}; "
                f"a waiver needs at least {MIN_REASON} characters saying why, so it excuses "
                "nothing")
        elif waiver is not None:
            finding = finding.excused(WAIVED, waiver.strip())
        if finding.status == OPEN:
            entry = next((e for e in entries if e.matches(finding.rule, finding.resource)), None)
            if entry is not None:
                used.add(entry.line)
                finding = finding.excused(SUPPRESSED, entry.reason)
        done.findings.append(finding)
    done.stale = [e for e in entries if e.line not in used]
    return done

