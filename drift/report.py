"""The drift check's two renderings: a table for the terminal and a Markdown report
(for a GitHub job summary or issue), both from the classified stacks."""

from __future__ import annotations

from collections.abc import Sequence

from drift.attributes import ABSENT, SENSITIVE
from drift.classify import DELETED, DRIFTED, ERROR, IN_SYNC, CodeChange, StackDrift

EXIT_IN_SYNC, EXIT_ERROR, EXIT_DRIFT = 0, 1, 2


def exit_code(results: Sequence[StackDrift]) -> int:
    """1 when any stack could not be checked (even if others drifted: an unchecked stack
    may hide more drift, so the run is not a complete answer), else 2 on any drift,
    else 0."""
    statuses = {r.status for r in results}
    if ERROR in statuses:
        return EXIT_ERROR
    return EXIT_DRIFT if DRIFTED in statuses else EXIT_IN_SYNC


def headline(results: Sequence[StackDrift]) -> str:
    by = {status: [r.stack for r in results if r.status == status]
          for status in (DRIFTED, ERROR, IN_SYNC)}
    parts = [f"{len(by[DRIFTED])} of {len(results)} stacks drifted"
             + (f" ({', '.join(by[DRIFTED])})" if by[DRIFTED] else ""),
             f"{len(by[ERROR])} error" + ("s" if len(by[ERROR]) != 1 else "")
             + (f" ({', '.join(by[ERROR])})" if by[ERROR] else ""),
             f"{len(by[IN_SYNC])} in sync"]
    return ", ".join(parts)


def _details(result: StackDrift) -> str:
    if result.status == ERROR:
        return f"{result.failed_step}: {result.error}"
    parts = [f"{d.address}: {'deleted' if d.action == DELETED else ', '.join(d.attributes)}"
             for d in result.drifted]
    if result.code_changes:
        count = len(result.code_changes)
        parts.append(f"unapplied code: {count} change{'s' if count != 1 else ''}")
    return "; ".join(parts)


def table(results: Sequence[StackDrift]) -> str:
    rows = [("stack", "status", "seconds", "details")]
    rows += [(r.stack, r.status, f"{r.seconds:.1f}", _details(r)) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]),
                 row[3]]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join(["-" * w for w in widths] + ["-------"]))
    lines.append(headline(results))
    return "\n".join(lines)


def as_json(results: Sequence[StackDrift]) -> dict:
    """The results for a program (the drift workflow, the local deploy's summary): per
    stack its status, drifted addresses with their changes (values as in the Markdown:
    sensitive ones hidden), unapplied code, error."""
    return {
        "exit_code": exit_code(results),
        "stacks": [{
            "stack": r.stack, "status": r.status, "seconds": round(r.seconds, 1),
            "plan_exit_code": r.plan_exit_code,
            "drifted": [{"address": d.address, "action": d.action, "attributes": d.attributes,
                         "changes": [{"path": c.path, "before": c.before, "after": c.after}
                                     for c in d.changes]} for d in r.drifted],
            "ignored": list(r.ignored),
            "code_changes": [{"address": c.address, "action": c.action,
                              "attributes": list(c.attributes)} for c in r.code_changes],
            "error": r.error, "failed_step": r.failed_step,
        } for r in results],
    }


def _code(text: str) -> str:
    """A Markdown code span that survives a table cell."""
    text = text.replace("|", "\\|")
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _value(text: str) -> str:
    return f"*{text.strip('()')}*" if text in (ABSENT, SENSITIVE) else _code(text)


def _code_change(change: CodeChange) -> str:
    attributes = f" ({', '.join(change.attributes)})" if change.attributes else ""
    return f"- {_code(change.address)}: {change.action}{attributes}"


def markdown(results: Sequence[StackDrift], outdir: str) -> str:
    lines = ["# Drift report", "", f"**{headline(results)}.**", "",
             f"Read-only plans (`terraform plan -lock=false`) of the stacks in `{outdir}`. "
             "Drift is what the plan's `resource_drift` reports changed outside Terraform; "
             "unapplied code (a plan change that is not the repair of drift) is listed "
             "apart and is not drift.", "",
             "| Stack | Status | Drifted resources | Unapplied code changes |",
             "|---|---|---|---|"]
    for r in results:
        status = f"**{r.status}**" if r.status != IN_SYNC else r.status
        drifted = str(len(r.drifted)) if r.status != ERROR else "-"
        code = str(len(r.code_changes)) if r.status != ERROR else "-"
        lines.append(f"| {r.stack} | {status} | {drifted} | {code} |")
    for r in results:
        if r.status == IN_SYNC and not r.code_changes:
            continue
        lines += ["", f"## {r.stack}: {r.status}", ""]
        if r.status == ERROR:
            lines.append(f"`terraform {r.failed_step}` failed: {_code(r.error or '')}")
            continue
        for resource in r.drifted:
            if resource.action == DELETED:
                lines += [f"{_code(resource.address)} was deleted outside Terraform.", ""]
                continue
            lines += [f"{_code(resource.address)} changed outside Terraform:", "",
                      "| Attribute | In the state | Now |", "|---|---|---|"]
            lines += [f"| {_code(c.path)} | {_value(c.before)} | {_value(c.after)} |"
                      for c in resource.changes]
            lines.append("")
        if r.ignored:
            lines += [f"Also changed, and ignored by the stack's `lifecycle.ignore_changes`: "
                      f"{', '.join(_code(a) for a in r.ignored)}.", ""]
        if r.code_changes:
            lines += ["Unapplied code (not drift; the next plan of this stack shows it):", ""]
            lines += [_code_change(c) for c in r.code_changes]
        while lines[-1] == "":
            lines.pop()
    return "\n".join(lines) + "\n"
