"""The cost change between two estimates (the base branch's output and the PR's), per
stack, with the resource changes that explain it: priced resources added or removed
(as a count per type) and the changed attributes of the resources whose cost moved."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from cost.estimate import Estimate, ResourceCost, StackCost, cents


@dataclass(frozen=True)
class StackDelta:
    name: str
    base: Decimal | None
    """The stack's monthly cost in the base output (None: the stack is new)."""
    pr: Decimal | None
    """... in the PR's output (None: the PR removes the stack)."""
    reasons: tuple[str, ...]

    @property
    def change(self) -> Decimal:
        return cents(self.pr or Decimal(0)) - cents(self.base or Decimal(0))


def diff(base: Estimate, pr: Estimate) -> list[StackDelta]:
    """The stacks whose monthly cost changes by at least a cent, in the PR's order
    (stacks the PR removes last)."""
    names = [s.name for s in pr.stacks] + [s.name for s in base.stacks
                                           if pr.stack(s.name) is None]
    deltas = []
    for name in names:
        before, after = base.stack(name), pr.stack(name)
        delta = StackDelta(name=name, base=before.monthly if before else None,
                           pr=after.monthly if after else None,
                           reasons=tuple(reasons(before, after)))
        if delta.change or (before is None) != (after is None):
            deltas.append(delta)
    return deltas


def reasons(before: StackCost | None, after: StackCost | None) -> list[str]:
    if before is None:
        return ["new stack"]
    if after is None:
        return ["stack removed"]
    old = {r.address: r for r in before.resources if cents(r.monthly)}
    new = {r.address: r for r in after.resources if cents(r.monthly)}
    counts_before = Counter(r.type for r in old.values())
    counts_after = Counter(r.type for r in new.values())
    recounted = {t for t in counts_before | counts_after
                 if counts_before[t] != counts_after[t]}
    lines = [f"{t} {counts_before[t]} → {counts_after[t]}" for t in sorted(recounted)]
    for address in sorted(old.keys() & new.keys()):
        lines.extend(_changed(old[address], new[address], recounted))
    return lines


def _changed(old: ResourceCost, new: ResourceCost, recounted: set[str]) -> list[str]:
    if cents(old.monthly) == cents(new.monthly):
        return []
    before, after = dict(old.drivers), dict(new.drivers)
    moved = [f"{key} {before.get(key, '-')} → {after.get(key, '-')}"
             for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)]
    if moved:
        return [f"{new.address}: {', '.join(moved)}"]
    if new.type in recounted:
        return []  # its share moved with the count of its type (e.g. NAT traffic split)
    return [f"{new.address}: {_usd(old.monthly)} → {_usd(new.monthly)}"]


def _usd(amount: Decimal) -> str:
    return f"${cents(amount):,.2f}"


def _signed(amount: Decimal) -> str:
    return f"{'+' if amount >= 0 else '-'}${abs(amount):,.2f}"


def render(base: Estimate, pr: Estimate, *, markdown: bool) -> str:
    deltas = diff(base, pr)
    total = cents(pr.monthly) - cents(base.monthly)
    title = (f"Monthly cost change of {pr.environment or 'the environment'} "
             f"(on-demand, {pr.region} prices read {pr.read})")
    new_unpriced = sorted(set(pr.unpriced()) - set(base.unpriced()))
    unpriced = ("\nNot priced in the PR (not in the change above):\n"
                + "\n".join(f"- {line}" for line in new_unpriced) + "\n") if new_unpriced else ""
    if not deltas:
        text = f"No change to the monthly estimate ({_usd(pr.monthly)})."
        return (f"#### {title}\n\n{text}\n" if markdown else f"{title}: {text}\n") + unpriced
    lines = []
    for d in deltas:
        why = f" ({'; '.join(d.reasons)})" if d.reasons else ""
        lines.append(f"{d.name}: {_signed(d.change)}/month{why}")
    if not markdown:
        return "\n".join([f"{title}:", *lines,
                          f"total: {_signed(total)}/month ({_usd(base.monthly)} → "
                          f"{_usd(pr.monthly)})"]) + "\n" + unpriced
    table = ["| stack | base | PR | change |", "|---|---:|---:|---:|"]
    for d in deltas:
        table.append(f"| `{d.name}` | {_usd(d.base) if d.base is not None else '-'} | "
                     f"{_usd(d.pr) if d.pr is not None else '-'} | {_signed(d.change)} |")
    table.append(f"| **total** | **{_usd(base.monthly)}** | **{_usd(pr.monthly)}** | "
                 f"**{_signed(total)}** |")
    bullets = [f"- **{line.split(':', 1)[0]}:**{line.split(':', 1)[1]}" for line in lines]
    return (f"#### {title}\n\n" + "\n".join(table) + "\n\n" + "\n".join(bullets) + "\n\n"
            "Both outputs are priced with this checkout's price sheets and usage assumptions "
            "(`make cost` prints them), so the change is what the resources change.\n"
            + unpriced)
