"""Run our rules over a synth output directory: findings into the shared report."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from policies import suppressions as supp
from policies.finding import Finding
from policies.model import Outcome, Rule, StackView
from policies.packs import ALL
from policies.report import Report, build_report

CRASH_FIX = "fix the rule (a crash is never compliant)"


def findings(rule: Rule, stack: StackView) -> Iterator[Finding]:
    """The rule's non-compliant results on one stack; a crash is a finding too."""
    try:
        results = list(rule.check_stack(stack))
    except Exception as error:  # any bug in a rule must fail the run, not pass it
        yield Finding(rule=rule.id, stack=stack.name, address="<rule>",
                      message=f"rule {rule.id} raised {type(error).__name__}: {error}",
                      fix=CRASH_FIX)
        return
    for address, result in results:
        if result.outcome is Outcome.NON_COMPLIANT:
            yield Finding(rule=rule.id, stack=stack.name, address=address,
                          message=result.message, fix=rule.fix, severity=rule.severity)


def check_stacks(stacks: list[StackView], packs: Iterable[Rule] = ALL, *,
                 suppression_file: Path = supp.DEFAULT_FILE, outdir: Path = Path("."),
                 problems: Iterable[str] = ()) -> Report:
    rules = tuple(dict.fromkeys(packs))
    ran = {r.id for r in rules}
    found = [f for stack in stacks for rule in rules for f in findings(rule, stack)]
    return build_report("Policy", outdir, stacks, found, owns=ran.__contains__,
                        suppression_file=suppression_file, problems=problems, rules=rules)


def check_output(outdir: Path, packs: Iterable[Rule] = ALL, *,
                 suppression_file: Path = supp.DEFAULT_FILE) -> Report:
    """Run `packs` over every `<outdir>/stacks/<stack>/cdk.tf.json`."""
    stacks, problems = StackView.load_output(Path(outdir))
    return check_stacks(stacks, packs, suppression_file=suppression_file, outdir=Path(outdir),
                        problems=problems)
