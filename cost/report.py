"""The cost report as Markdown: the estimate next to the reference table with every
row outside its range explained, the computed tips, and (in the full report of
`make cost`) the priced resources of each stack, the unpriced types, the usage
assumptions and the prices used. `readme_section` is the README's generated part."""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal

from cost.estimate import Estimate, ResourceCost, StackCost, cents
from cost.reference import SOURCE, TOTAL_HIGH, TOTAL_LOW, compare, range_text, total_comparison
from cost.tips import tips


def usd(amount: Decimal) -> str:
    return f"${cents(amount):,.2f}"


def quantity(value: Decimal) -> str:
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return text or "0"


def header(estimate: Estimate) -> str:
    sheet = next(s for s in estimate.sheets if s.region == estimate.region)
    others = [s.region for s in estimate.sheets if s.region != estimate.region]
    extra = f" (and `{', '.join(others)}` for the resources kept there)" if others else ""
    return (f"Monthly estimate of **{estimate.environment or 'an unknown environment'}** in "
            f"{estimate.region}: on-demand prices read {sheet.read} from "
            f"`cost/prices/{sheet.path.name}`{extra}, "
            f"{estimate.assumptions.hours_per_month} hours a month, usage from "
            "`CostAssumptions` (environments/settings.py). The reference ranges are prod's, "
            f"from {SOURCE}.\n")


def comparison(estimate: Estimate) -> str:
    lines = ["| reference row | main cost (reference) | our stacks | estimate | reference | |",
             "|---|---|---|---:|---:|---|"]
    for c in compare(estimate):
        stacks = ", ".join(f"`{s}`" for s in c.stacks) or "(none in this environment)"
        amount = usd(c.monthly) if c.stacks else "-"
        lines.append(f"| {c.row.name} | {c.row.main_cost} | {stacks} | {amount} | "
                     f"{c.range_text} | {c.verdict} |")
    verdict, _ = total_comparison(estimate)
    lines.append(f"| **total** | | | **{usd(estimate.monthly)}** | "
                 f"**{range_text(TOTAL_LOW, TOTAL_HIGH)}** | **{verdict}** |")
    return "\n".join(lines) + "\n"


def flags(estimate: Estimate) -> str:
    lines = [f"- **{c.row.name}** {usd(c.monthly)}: {c.explanation}."
             for c in compare(estimate) if c.explanation]
    _, explanation = total_comparison(estimate)
    if explanation:
        lines.append(f"- **total** {usd(estimate.monthly)}: {explanation}.")
    if not lines:
        return "Every row is within the reference range.\n"
    return "Outside the reference range (one line each):\n\n" + "\n".join(lines) + "\n"


def tip_list(estimate: Estimate) -> str:
    found = tips(estimate)
    if not found:
        return ""
    return "Cost tips of the reference, computed:\n\n" + "\n".join(
        f"- **{t.title}.** {t.text}" for t in found) + "\n"


def readme_section(estimate: Estimate) -> str:
    """The README's generated cost section (ends with a newline)."""
    return "\n".join(part for part in (
        header(estimate), comparison(estimate), flags(estimate), tip_list(estimate),
        "`make cost` prints every priced resource, the assumptions and the prices used.\n",
    ) if part)


def full_report(estimate: Estimate) -> str:
    """What `make cost` prints."""
    parts = [f"# Monthly cost estimate\n\n{header(estimate)}", comparison(estimate),
             flags(estimate), tip_list(estimate), "## Stacks\n", stack_table(estimate)]
    parts += [stack_detail(stack) for stack in estimate.stacks]
    parts += [unpriced(estimate), assumptions(estimate), prices(estimate)]
    return "\n".join(part for part in parts if part)


def stack_table(estimate: Estimate) -> str:
    rows = {s: c.row.name for c in compare(estimate) for s in c.stacks}
    lines = ["| stack | reference row | monthly | priced resources | free | unpriced types |",
             "|---|---|---:|---:|---:|---:|"]
    for s in estimate.stacks:
        lines.append(f"| `{s.name}` | {rows.get(s.name, '-')} | {usd(s.monthly)} | "
                     f"{sum(1 for r in s.resources if r.items)} | "
                     f"{len(s.free) + sum(1 for r in s.resources if not r.items)} | "
                     f"{len(s.unpriced_types)} |")
    return "\n".join(lines) + "\n"


def stack_detail(stack: StackCost) -> str:
    lines = [f"### {stack.name}: {usd(stack.monthly)}\n"]
    shown = [r for r in stack.resources if r.items or r.unpriced]
    for resource in sorted(shown, key=lambda r: (-r.monthly, r.address)):
        lines.extend(resource_lines(resource))
    zero = Counter(r.type for r in stack.resources if not r.items and not r.unpriced)
    zero.update(address.split(".", 1)[0] for address in stack.free)
    if zero:
        lines.append("- no charge: " + ", ".join(
            f"{count} x {rtype}" for rtype, count in sorted(zero.items())))
    return "\n".join(lines) + "\n"


def resource_lines(resource: ResourceCost) -> list[str]:
    region = f", {resource.region}" if resource.region else ""
    lines = [f"- `{resource.address}` **{usd(resource.monthly)}**{region}"]
    for item in resource.items:
        price = item.price
        lines.append(f"  - {item.component}: {quantity(item.quantity)} x ${price.usd} "
                     f"per {price.unit} = {usd(item.monthly)}")
    lines += [f"  - note: {note}" for note in resource.notes]
    lines += [f"  - **not priced**: {text}" for text in resource.unpriced]
    return lines


def unpriced(estimate: Estimate) -> str:
    lines = estimate.unpriced()
    if not lines:
        return ("## Unpriced\n\nNothing: every resource type the stacks create is priced or "
                "declared free with a reason (cost/prices/free.json), and every priced "
                "component found its price.\n")
    return "## Unpriced\n\n" + "\n".join(f"- {line}" for line in lines) + "\n"


def assumptions(estimate: Estimate) -> str:
    lines = ["## Usage assumptions\n",
             "From `CostAssumptions` in environments/settings.py (each field documents its "
             "default):\n", "| assumption | value |", "|---|---:|"]
    for field in dataclasses.fields(estimate.assumptions):
        value = getattr(estimate.assumptions, field.name)
        shown = f"{value:,}" if isinstance(value, int | float) and not isinstance(value, bool) \
            else str(value)
        lines.append(f"| `{field.name}` | {shown} |")
    return "\n".join(lines) + "\n"


def prices(estimate: Estimate) -> str:
    lines = ["## Prices\n"]
    used = {i.price.key for s in estimate.stacks for r in s.resources for i in r.items}
    for sheet in estimate.sheets:
        dates = sorted({p.source.read for p in sheet.prices.values()})
        lines.append(f"- `cost/prices/{sheet.path.name}` ({sheet.region}): {len(sheet.prices)} "
                     f"prices read {sheet.read}, from sources dated {dates[0]} to {dates[-1]}.")
        derived = sorted(k for k, p in sheet.prices.items() if p.basis and k in used)
        if derived:
            lines.append(f"  Not {sheet.region}'s own figure read from AWS (each explains its "
                         f"`basis` in the sheet): {', '.join(f'`{k}`' for k in derived)}.")
    return "\n".join(lines) + "\n"
