"""The reference's monthly cost table (its 'Monthly cost estimate (2025)', prod) and the
stacks each row covers, with the comparison of an estimate against it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from cost.estimate import Estimate, cents

SOURCE = "the reference README (prod-environment-README.en.md), 'Monthly cost estimate (2025)'"


@dataclass(frozen=True)
class ReferenceRow:
    name: str
    main_cost: str
    """What the reference says the row pays for."""
    low: Decimal
    high: Decimal
    stacks: tuple[str, ...]
    """The stacks the row covers; empty for 'other', which takes every stack that no
    other row names (the reference lists bootstrap and acm in no row)."""


ROWS = (
    ReferenceRow(name="network", main_cost="NAT gateway, Transit Gateway", low=Decimal(45),
                 high=Decimal(60), stacks=("network",)),
    ReferenceRow(name="atlantis", main_cost="ECS Fargate, ALB, EFS", low=Decimal(80),
                 high=Decimal(100), stacks=("atlantis",)),
    ReferenceRow(name="rds", main_cost="RDS MySQL db.t3.medium", low=Decimal(120),
                 high=Decimal(150), stacks=("rds",)),
    ReferenceRow(name="monitoring", main_cost="AMP, AMG", low=Decimal(40), high=Decimal(60),
                 stacks=("monitoring",)),
    ReferenceRow(name="kms", main_cost="9 keys", low=Decimal(9), high=Decimal(12),
                 stacks=("kms",)),
    ReferenceRow(name="cloudtrail", main_cost="S3, Athena", low=Decimal(5), high=Decimal(10),
                 stacks=("cloudtrail",)),
    ReferenceRow(name="other", main_cost="Secrets, Logs, Route53 (bootstrap and acm, in no "
                 "reference row, count here)", low=Decimal(20),
                 high=Decimal(30), stacks=()),
)
TOTAL_LOW, TOTAL_HIGH = Decimal(319), Decimal(422)


@dataclass(frozen=True)
class RowComparison:
    row: ReferenceRow
    stacks: tuple[str, ...]
    """The estimate's stacks in this row (none: the environment has no such stack)."""
    monthly: Decimal
    verdict: str
    """'within', 'above', 'below', or 'absent' when the environment lacks the stacks."""
    explanation: str
    """One line: why the row is outside its range (empty when within)."""

    @property
    def range_text(self) -> str:
        return range_text(self.row.low, self.row.high)


EN_DASH = "\u2013"
"""The reference writes its ranges with an en dash; so does the report."""


def range_text(low: Decimal, high: Decimal) -> str:
    return f"${low:,.0f}{EN_DASH}{high:,.0f}"


def compare(estimate: Estimate) -> list[RowComparison]:
    named = {stack for row in ROWS for stack in row.stacks}
    present = [s.name for s in estimate.stacks]
    comparisons = []
    for row in ROWS:
        stacks = tuple(s for s in present if (s in row.stacks if row.stacks else s not in named))
        monthly = sum((estimate.stack(s).monthly for s in stacks), Decimal(0))
        verdict = _verdict(monthly, row.low, row.high) if stacks else "absent"
        comparisons.append(RowComparison(
            row=row, stacks=stacks, monthly=monthly, verdict=verdict,
            explanation=explain(estimate, stacks, monthly, row.low, row.high, verdict)))
    return comparisons


def total_comparison(estimate: Estimate) -> tuple[str, str]:
    """(verdict, explanation) of the whole estimate against the reference total."""
    verdict = _verdict(estimate.monthly, TOTAL_LOW, TOTAL_HIGH)
    stacks = tuple(s.name for s in estimate.stacks)
    return verdict, explain(estimate, stacks, estimate.monthly, TOTAL_LOW, TOTAL_HIGH, verdict)


def _verdict(monthly: Decimal, low: Decimal, high: Decimal) -> str:
    amount = cents(monthly)
    return "above" if amount > high else "below" if amount < low else "within"


def explain(estimate: Estimate, stacks: tuple[str, ...], monthly: Decimal, low: Decimal,
            high: Decimal, verdict: str) -> str:
    """One line naming the distance to the range and the largest cost components."""
    if verdict not in ("above", "below"):
        return ""
    distance = cents(monthly) - high if verdict == "above" else low - cents(monthly)
    parts = [f"${distance:,.2f} {verdict} {range_text(low, high)}"]
    top = largest_components(estimate, stacks, 3)
    if top:
        parts.append("largest: " + "; ".join(top))
    return ", ".join(parts)


def largest_components(estimate: Estimate, stacks: tuple[str, ...], count: int) -> list[str]:
    """The `count` largest components of `stacks`, summed over resources of one type:
    '15 x aws_cloudwatch_log_metric_filter custom metric $4.50'."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for name in stacks:
        for resource in estimate.stack(name).resources:
            for item in resource.items:
                key = (resource.type, item.component.split(" (")[0])
                totals[key] += item.monthly
                holders[key].add(f"{name}/{resource.address}")
    ranked = sorted(totals, key=lambda k: (-totals[k], k))[:count]
    lines = []
    for rtype, component in ranked:
        if cents(totals[(rtype, component)]) == 0:
            continue
        many = len(holders[(rtype, component)])
        who = f"{many} x {rtype}" if many > 1 else rtype
        lines.append(f"{component} ({who}) ${cents(totals[(rtype, component)]):,.2f}")
    return lines
