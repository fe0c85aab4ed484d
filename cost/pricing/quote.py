"""A resource's quote as a pricer builds it: line items priced from the sheet of the
resource's Region, the attributes that drive the price, notes, and the components
the sheet cannot price (listed in the report, never dropped)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from cost.environment_output import EnvironmentOutput
from cost.price_sheet import Price, PriceSheet
from environments.settings import CostAssumptions
from policies.model import ResourceView


@dataclass(frozen=True)
class LineItem:
    component: str
    """What is billed, with the figures that make the quantity (e.g. '2 vCPU x 730 h')."""
    quantity: Decimal
    price: Price

    @property
    def monthly(self) -> Decimal:
        return self.quantity * self.price.usd


@dataclass
class Quote:
    resource: ResourceView
    sheet: PriceSheet
    assume: CostAssumptions
    output: EnvironmentOutput
    items: list[LineItem] = field(default_factory=list)
    drivers: dict[str, str] = field(default_factory=dict)
    """Attribute -> value that the price follows; the cost diff names the changed ones."""
    notes: list[str] = field(default_factory=list)
    unpriced: list[str] = field(default_factory=list)

    @property
    def hours(self) -> Decimal:
        return Decimal(self.assume.hours_per_month)

    @property
    def as_of(self) -> date:
        """The day the estimate describes: the day its prices were read."""
        return self.sheet.read

    def add(self, component: str, quantity: object, key: str) -> None:
        """Bill `quantity` units of the price `key`; a missing price is recorded as an
        unpriced component instead."""
        price = self.sheet.price(key)
        if price is None:
            self.unpriced.append(f"{component}: the {self.sheet.region} sheet has no price "
                                 f"{key!r}")
            return
        self.items.append(LineItem(component=component, quantity=as_decimal(quantity),
                                   price=price))

    def drive(self, name: str, value: object) -> None:
        self.drivers[name] = str(value)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def cannot_price(self, text: str) -> None:
        self.unpriced.append(text)


def as_decimal(value: object) -> Decimal:
    """Quantities from settings (int, float) and sheets (Decimal) as exact decimals."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def number(value: object) -> Decimal | None:
    """A numeric attribute as synthesized (int, float or numeric string), else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return as_decimal(value)
    except ArithmeticError:
        return None
