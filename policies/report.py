"""The one report both `python -m policies` and the checkov wrapper print: counts,
every finding, every excuse with its reason, stale suppressions and problems."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from policies import suppressions as supp
from policies.excuses import excuse
from policies.finding import OPEN, SUPPRESSED, WAIVED, Finding
from policies.model import Rule, Severity, StackView

SECTIONS = (
    (OPEN, "Findings (fix them, or excuse them with a reason: a construct waiver or "
           "policies/suppressions.yaml)"),
    (WAIVED, "Waived (reason recorded on the resource by the construct that made it)"),
    (SUPPRESSED, "Suppressed (policies/suppressions.yaml)"),
)


@dataclass
class Report:
    tool: str
    """Who checked: "Policy" (our rules) or "checkov"."""
    outdir: Path
    stacks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    stale: list[supp.Suppression] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Errors that are not findings: bad suppression entries or waivers, no stacks found."""
    rules: tuple[Rule, ...] = ()
    """Our rules that ran (a count line each); empty for checkov."""
    passed: int | None = None
    """Checks that passed, where the tool counts them (checkov)."""

    @property
    def open_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.status == OPEN and f.severity is Severity.ERROR]

    @property
    def failed(self) -> bool:
        return bool(self.open_errors or self.problems)

    def render(self) -> str:
        counts = Counter(f.status for f in self.findings)
        ran = f"{len(self.rules)} rules" if self.rules else f"{self.passed or 0} passed"
        lines = [f"{self.tool} report for {self.outdir}: {len(self.stacks)} stacks, {ran}; "
                 f"{counts[OPEN]} open, {counts[WAIVED]} waived, {counts[SUPPRESSED]} suppressed"]
        if self.rules:
            lines.extend(self._rule_table())
        for status, heading in SECTIONS:
            selected = [f for f in self.findings if f.status == status]
            if selected:
                lines.append(f"{heading}:")
            for f in selected:
                lines.append(f"  {f.line()}")
                if f.reason:
                    lines.append(f"      reason: {f.reason}")
        if self.stale:
            lines.append("Stale suppressions (match no finding; remove them) [warning]:")
            lines.extend(f"  entry {s.line}: {s.describe()}" for s in self.stale)
        if self.problems:
            lines.append("Problems:")
            lines.extend(f"  {p}" for p in self.problems)
        lines.append(f"FAILED: {len(self.open_errors)} error finding(s), "
                     f"{len(self.problems)} problem(s)"
                     if self.failed else "PASSED: no unexcused error findings")
        return "\n".join(lines)

    def _rule_table(self) -> list[str]:
        counts = Counter((f.rule, f.status) for f in self.findings)
        lines = [f"  {'rule':<8} {'severity':<8} {'open':>5} {'waived':>7} {'suppressed':>11}"
                 "  title"]
        for r in self.rules:
            lines.append(f"  {r.id:<8} {r.severity.value:<8} {counts[(r.id, OPEN)]:>5} "
                         f"{counts[(r.id, WAIVED)]:>7} {counts[(r.id, SUPPRESSED)]:>11}  {r.title}")
        return lines


def build_report(tool: str, outdir: Path, stacks: list[StackView], findings: list[Finding], *,
                 owns: Callable[[str], bool], suppression_file: Path,
                 problems: Iterable[str] = (), rules: tuple[Rule, ...] = (),
                 passed: int | None = None) -> Report:
    """Excuse `findings` and put them in a report. `owns(rule_id)` says which
    suppression entries belong to this run: only those can excuse or be stale."""
    entries, bad_entries = supp.load(suppression_file)
    excused = excuse(findings, {s.name: s for s in stacks}, [e for e in entries if owns(e.rule)])
    return Report(tool=tool, outdir=outdir, stacks=[s.name for s in stacks],
                  findings=excused.findings, stale=excused.stale,
                  problems=[*bad_entries, *problems, *excused.problems], rules=rules,
                  passed=passed)
