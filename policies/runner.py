"""Run rule packs over a synth output directory and render the report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from policies import suppressions as supp
from policies.model import Outcome, Result, Rule, Severity, StackView
from policies.packs import ALL

OPEN, WAIVED, SUPPRESSED = "open", "waived", "suppressed"


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    stack: str
    address: str
    message: str
    fix: str
    status: str = OPEN
    reason: str = ""

    @property
    def resource(self) -> str:
        return f"{self.stack}/{self.address}"

    def line(self) -> str:
        return f"{self.rule} {self.resource}: {self.message} — {self.fix}"


@dataclass
class Report:
    outdir: Path
    rules: tuple[Rule, ...]
    stacks: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    stale: list[supp.Suppression] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Errors that are not findings: bad suppression entries, no stacks found."""

    @property
    def open_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.status == OPEN and f.severity is Severity.ERROR]

    @property
    def failed(self) -> bool:
        return bool(self.open_errors or self.problems)

    def render(self) -> str:
        lines = [(f"Policy report for {self.outdir}: {len(self.stacks)} stacks, "
                  f"{len(self.rules)} rules")]
        counts = Counter((f.rule, f.status) for f in self.findings)
        lines.append(f"  {'rule':<8} {'severity':<8} {'open':>5} {'waived':>7} {'suppressed':>11}"
                     "  title")
        rule_ids = [r.id for r in self.rules]
        extra = sorted({f.rule for f in self.findings} - set(rule_ids))
        by_id = {r.id: r for r in self.rules}
        for rid in (*rule_ids, *extra):
            rule = by_id.get(rid)
            severity = rule.severity.value if rule else "error"
            title = rule.title if rule else ""
            lines.append(f"  {rid:<8} {severity:<8} {counts[(rid, OPEN)]:>5} "
                         f"{counts[(rid, WAIVED)]:>7} {counts[(rid, SUPPRESSED)]:>11}  {title}")
        for status, heading in ((OPEN, "Findings"), (WAIVED, "Waived (reason recorded on the resource)"),
                                (SUPPRESSED, "Suppressed (policies/suppressions.yaml)")):
            selected = [f for f in self.findings if f.status == status]
            if not selected:
                continue
            lines.append(f"{heading}:")
            for f in selected:
                tag = "" if f.severity is Severity.ERROR else " [warning]"
                lines.append(f"  {f.line()}{tag}")
                if f.reason:
                    lines.append(f"      reason: {f.reason}")
        if self.stale:
            lines.append("Stale suppressions (match no finding; remove them) [warning]:")
            lines.extend(f"  entry {s.line}: {s.describe()}" for s in self.stale)
        if self.problems:
            lines.append("Problems:")
            lines.extend(f"  {p}" for p in self.problems)
        n = len(self.open_errors)
        lines.append(f"FAILED: {n} error finding(s), {len(self.problems)} problem(s)"
                     if self.failed else "PASSED: no unsuppressed error findings")
        return "\n".join(lines)


def stack_files(outdir: Path) -> list[Path]:
    return sorted((outdir / "stacks").glob("*/cdk.tf.json"))


def evaluate(rule: Rule, stack: StackView) -> Iterable[tuple[str, Result, bool]]:
    """(address, result, crashed) for one rule on one stack; a crash is a finding."""
    try:
        for address, result in list(rule.check_stack(stack)):
            yield address, result, False
    except Exception as error:
        yield "<rule>", Result(Outcome.NON_COMPLIANT,
                               f"rule {rule.id} raised {type(error).__name__}: {error}"), True


def check_stacks(stacks: list[StackView], packs: Iterable[Rule] = ALL, *,
                 suppression_file: Path = supp.DEFAULT_FILE, outdir: Path = Path(".")) -> Report:
    rules = tuple(dict.fromkeys(packs))
    report = Report(outdir=outdir, rules=rules, stacks=[s.name for s in stacks])
    entries, report.problems = supp.load(suppression_file)
    run_ids = {r.id for r in rules}
    ours = [e for e in entries if not e.is_checkov and e.rule in run_ids]
    used: set[int] = set()
    for stack in stacks:
        for rule in rules:
            for address, result, crashed in evaluate(rule, stack):
                if result.outcome is not Outcome.NON_COMPLIANT:
                    continue
                finding = Finding(
                    rule=rule.id,
                    severity=Severity.ERROR if crashed else rule.severity,
                    stack=stack.name, address=address, message=result.message,
                    fix="fix the rule (a crash is never compliant)" if crashed else rule.fix)
                report.findings.append(_excuse(finding, stack, ours, used))
    report.stale = [e for e in ours if e.line not in used]
    return report


def _excuse(finding: Finding, stack: StackView, entries: list[supp.Suppression],
            used: set[int]) -> Finding:
    resource = stack.find(finding.address)
    waiver = resource.waivers.get(finding.rule) if resource is not None else None
    if waiver:
        return _with(finding, WAIVED, waiver)
    for entry in entries:
        if entry.matches(finding.rule, finding.resource):
            used.add(entry.line)
            return _with(finding, SUPPRESSED, entry.reason)
    return finding


def _with(finding: Finding, status: str, reason: str) -> Finding:
    return Finding(**{**finding.__dict__, "status": status, "reason": reason})


def check_output(outdir: Path, packs: Iterable[Rule] = ALL, *,
                 suppression_file: Path = supp.DEFAULT_FILE) -> Report:
    """Run `packs` over every `<outdir>/stacks/<stack>/cdk.tf.json`."""
    outdir = Path(outdir)
    files = stack_files(outdir)
    report = check_stacks([StackView.load(f) for f in files], packs,
                          suppression_file=suppression_file, outdir=outdir)
    if not files:
        report.problems.append(f"no stacks found under {outdir}/stacks (run the synth first)")
    return report
