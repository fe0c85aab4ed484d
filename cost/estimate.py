"""The estimator: the monthly on-demand cost of every stack and resource of one
environment's synthesized output, from the resources' own attributes, the price
sheet of each resource's Region and the environment's usage assumptions.

Every resource ends up priced, free (cost/prices/free.json, with a reason) or
unpriced; unpriced types and components are kept and reported. Data sources are
not priced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from constructs_lib.errors import ConfigError
from cost.environment_output import EnvironmentOutput
from cost.price_sheet import PriceSheet, free_types, load_sheet
from cost.pricing import PRICERS, LineItem, Quote
from environments.settings import CostAssumptions
from policies.model import ResourceView

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded to the cent, halves away from zero (as a bill rounds)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ResourceCost:
    stack: str
    address: str
    type: str
    region: str
    items: tuple[LineItem, ...]
    drivers: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    unpriced: tuple[str, ...]

    @property
    def monthly(self) -> Decimal:
        return sum((i.monthly for i in self.items), Decimal(0))


@dataclass(frozen=True)
class StackCost:
    name: str
    resources: tuple[ResourceCost, ...]
    """Priced resources (a priced type whose quote came to $0 is still here)."""
    free: tuple[str, ...]
    """Addresses of resources whose type carries no charge."""
    unpriced_types: tuple[tuple[str, str], ...]
    """(address, type) of resources whose type is neither priced nor free."""

    @property
    def monthly(self) -> Decimal:
        return sum((r.monthly for r in self.resources), Decimal(0))

    def resource(self, address: str) -> ResourceCost | None:
        return next((r for r in self.resources if r.address == address), None)


@dataclass(frozen=True)
class Estimate:
    output: EnvironmentOutput
    """What was priced: the environment's synthesized stacks."""
    region: str
    """The Region of the stacks' default provider (the home sheet)."""
    sheets: tuple[PriceSheet, ...]
    assumptions: CostAssumptions
    stacks: tuple[StackCost, ...]

    @property
    def environment(self) -> str | None:
        return self.output.environment

    @property
    def outdir(self) -> Path:
        return self.output.outdir

    @property
    def read(self) -> date:
        """The day the home sheet's prices were read: the day the estimate describes."""
        return next(s.read for s in self.sheets if s.region == self.region)

    @property
    def monthly(self) -> Decimal:
        return sum((s.monthly for s in self.stacks), Decimal(0))

    def stack(self, name: str) -> StackCost | None:
        return next((s for s in self.stacks if s.name == name), None)

    def unpriced(self) -> list[str]:
        """Every unpriced type and component, one sentence each."""
        lines = [f"{s.name}: {address} ({rtype}) has a type the price sheet neither prices "
                 "nor declares free" for s in self.stacks for address, rtype in s.unpriced_types]
        lines += [f"{s.name}: {r.address}: {text}" for s in self.stacks for r in s.resources
                  for text in r.unpriced]
        return lines


def estimate(output: EnvironmentOutput, assumptions: CostAssumptions) -> Estimate:
    """Price every resource of `output`; ConfigError when a sheet is malformed."""
    free = free_types()
    overlap = sorted(set(free) & set(PRICERS))
    if overlap:
        raise ConfigError([f"{t} is both priced (cost/pricing) and declared free "
                           "(cost/prices/free.json); keep one." for t in overlap])
    home = _home_region(output)
    sheets: dict[str, PriceSheet] = {home: load_sheet(home)}
    stacks = []
    for stack in output.stacks:
        priced, gratis, unknown = [], [], []
        for resource in stack.resources:
            if resource.type in PRICERS:
                priced.append(_quote(resource, output, assumptions, sheets, home))
            elif resource.type in free:
                gratis.append(resource.address)
            else:
                unknown.append((resource.address, resource.type))
        stacks.append(StackCost(name=stack.name, resources=tuple(priced), free=tuple(gratis),
                                unpriced_types=tuple(unknown)))
    return Estimate(output=output, region=home,
                    sheets=tuple(sheets[r] for r in sorted(sheets)), assumptions=assumptions,
                    stacks=tuple(stacks))


def _home_region(output: EnvironmentOutput) -> str:
    regions = {(s.providers().get(None) or {}).get("region") for s in output.stacks}
    regions.discard(None)
    if len(regions) != 1:
        raise ConfigError([f"{output.outdir}: the stacks' default providers name "
                           f"{len(regions)} Regions ({', '.join(sorted(map(str, regions)))}); "
                           "an environment output has exactly one home Region."])
    return str(regions.pop())


def _quote(resource: ResourceView, output: EnvironmentOutput, assumptions: CostAssumptions,
           sheets: dict[str, PriceSheet], home: str) -> ResourceCost:
    region = output.region_of(resource) or home
    unpriced: list[str] = []
    if region not in sheets:
        try:
            sheets[region] = load_sheet(region)
        except ConfigError as error:
            unpriced = error.problems
    if region in sheets:
        quote = Quote(resource=resource, sheet=sheets[region], assume=assumptions, output=output)
        PRICERS[resource.type](quote)
        items, drivers = tuple(quote.items), tuple(sorted(quote.drivers.items()))
        notes, unpriced = tuple(quote.notes), quote.unpriced
    else:
        items, drivers, notes = (), (), ()
    return ResourceCost(stack=resource.stack.name, address=resource.address, type=resource.type,
                        region=region, items=items, drivers=drivers, notes=notes,
                        unpriced=tuple(unpriced))
