"""The reference's cost tips, computed for one estimate: NAT per AZ, a one-year RDS
reservation, log retention, VPC endpoints and Fargate Spot outside production."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cost.estimate import Estimate, ResourceCost, cents
from cost.price_sheet import PriceSheet
from policies.model import StackView

AUDIT_ROLES = ("VPC flow logs", "CloudTrail events", "Route 53 query logs")
"""Log groups that hold audit data; SPEC's hardening keeps them 365 days or more."""
SHORT_RETENTION_DAYS = 90


@dataclass(frozen=True)
class Tip:
    title: str
    text: str


def money(amount: Decimal) -> str:
    return f"${cents(amount):,.2f}"


def tips(estimate: Estimate) -> list[Tip]:
    home = next(s for s in estimate.sheets if s.region == estimate.region)
    resources = [r for s in estimate.stacks for r in s.resources]
    found = [nat_per_az(estimate, home, resources), rds_reservation(home, resources),
             log_retention(estimate, resources), vpc_endpoints(estimate, home, resources),
             fargate_spot(home, resources)]
    return [tip for tip in found if tip is not None]


def _of(resources: list[ResourceCost], rtype: str) -> list[ResourceCost]:
    return [r for r in resources if r.type == rtype]


def _items(resource: ResourceCost, prefix: str) -> Decimal:
    return sum((i.monthly for i in resource.items if i.component.startswith(prefix)),
               Decimal(0))


def nat_per_az(estimate: Estimate, home: PriceSheet,
               resources: list[ResourceCost]) -> Tip | None:
    gateways = _of(resources, "aws_nat_gateway")
    zones = {str(s.get("availability_zone")) for stack in _stacks_with(estimate, gateways)
             for s in stack.of_type("aws_subnet") if s.get("availability_zone")}
    hour, address = home.price("nat_gateway.hour"), home.price("public_ipv4.hour")
    if not gateways or hour is None or address is None:
        return None
    hours = Decimal(estimate.assumptions.hours_per_month)
    each = (hour.usd + address.usd) * hours
    missing = len(zones) - len(gateways)
    if missing > 0:
        return Tip("Single vs multi-AZ NAT", (
            f"{len(gateways)} NAT gateway(s) serve {len(zones)} AZs. One per AZ "
            f"(`network.multi_az_nat=True`) adds {money(each * missing)}/month: "
            f"{money(hour.usd * hours)} of gateway hours and {money(address.usd * hours)} of "
            "public IPv4 per gateway; the traffic assumption is split, not added. It buys "
            "egress that survives the loss of one AZ."))
    return Tip("Single vs multi-AZ NAT", (
        f"{len(gateways)} NAT gateways, one per AZ. A single gateway would save "
        f"{money(each * (len(gateways) - 1))}/month, at the price of egress for every AZ "
        "through one."))


def _stacks_with(estimate: Estimate, resources: list[ResourceCost]) -> list[StackView]:
    names = {r.stack for r in resources}
    return [s for s in estimate.output.stacks if s.name in names]


def rds_reservation(home: PriceSheet, resources: list[ResourceCost]) -> Tip | None:
    discount = home.discounts.get("rds_reserved_1yr")
    instances = _of(resources, "aws_db_instance")
    if discount is None or not instances:
        return None
    hours = sum((_items(r, "instance hours") for r in instances), Decimal(0))
    support = sum((_items(r, "Extended Support") for r in instances), Decimal(0))
    text = (f"A one-year reservation of the instance(s) at the reference's "
            f"{discount.fraction:.0%} saving (source: {discount.source.url}) saves "
            f"{money(hours * discount.fraction)}/month of {money(hours)} instance hours.")
    if support:
        text += (f" It does not cover Extended Support ({money(support)}/month here), which "
                 "only a major-version upgrade ends.")
    return Tip("RDS reserved instance, one year", text)


def log_retention(estimate: Estimate, resources: list[ResourceCost]) -> Tip | None:
    groups = _of(resources, "aws_cloudwatch_log_group")
    if not groups:
        return None
    storage = {r.address: _items(r, "log storage") for r in groups}
    current = sum(storage.values(), Decimal(0))
    saving, names = Decimal(0), []
    for group in groups:
        drivers = dict(group.drivers)
        days = drivers.get("retention_in_days", "")
        if drivers.get("holds") in AUDIT_ROLES or not days.isdigit():
            continue
        if int(days) > SHORT_RETENTION_DAYS:
            cut = storage[group.address] * (1 - Decimal(SHORT_RETENTION_DAYS) / Decimal(days))
            saving += cut
            names.append(f"`{drivers.get('name')}` ({days} d)")
    text = (f"At the ingestion assumptions, the retention settings hold "
            f"{money(current)}/month of log storage at steady state "
            f"({len(groups)} log groups). Cutting to {SHORT_RETENTION_DAYS} days the "
            f"{len(names)} groups kept longer that no flow log, trail or DNS query log writes "
            f"(SPEC keeps audit data 365 days: check each) saves {money(saving)}/month")
    text += f": {', '.join(names)}." if names else "."
    rds = sum((_items(r, "CloudWatch Logs storage") for r in _of(resources, "aws_db_instance")),
              Decimal(0))
    if rds:
        text += (f" The RDS log groups (created by RDS, outside Terraform) never expire: "
                 f"{money(rds)}/month after {estimate.assumptions.unretained_log_months} "
                 "months, growing every month.")
    return Tip("Log retention", text)


def vpc_endpoints(estimate: Estimate, home: PriceSheet,
                  resources: list[ResourceCost]) -> Tip | None:
    az_hour, endpoint_gb = home.price("interface_endpoint.az_hour"), home.price(
        "interface_endpoint.gb")
    nat_gb = home.price("nat_gateway.gb")
    if az_hour is None or endpoint_gb is None or nat_gb is None:
        return None
    endpoints = _of(resources, "aws_vpc_endpoint")
    interface = [r for r in endpoints if dict(r.drivers).get("vpc_endpoint_type") == "Interface"]
    gateway = [dict(r.drivers).get("service", "") for r in endpoints
               if dict(r.drivers).get("vpc_endpoint_type") == "Gateway"]
    zones = max([int(dict(r.drivers).get("subnets", 2)) for r in interface] or [2])
    fixed = az_hour.usd * zones * Decimal(estimate.assumptions.hours_per_month)
    breakeven = fixed / (nat_gb.usd - endpoint_gb.usd)
    spent = sum((r.monthly for r in interface), Decimal(0))
    text = (f"An interface endpoint costs {money(fixed)}/month in {zones} AZs plus "
            f"${endpoint_gb.usd}/GB; against NAT processing at ${nat_gb.usd}/GB it pays off "
            f"above {breakeven:,.0f} GB a month to that service (ECR image pulls, CloudWatch "
            f"Logs). This environment has {len(interface)} interface endpoint(s) costing "
            f"{money(spent)}/month")
    text += (f" and gateway endpoint(s) for {', '.join(sorted(gateway))}, which are free."
             if gateway else "; an S3 gateway endpoint would be free.")
    return Tip("VPC endpoints", text)


def fargate_spot(home: PriceSheet, resources: list[ResourceCost]) -> Tip | None:
    discount = home.discounts.get("fargate_spot")
    services = _of(resources, "aws_ecs_service")
    on_demand = sum((_items(r, "vCPU (") + _items(r, "memory (") for r in services), Decimal(0))
    if discount is None or not on_demand:
        return None
    return Tip("Spot for non-production", (
        f"The Fargate tasks cost {money(on_demand)}/month on demand. Run in a non-production "
        f"environment on Fargate Spot (up to {discount.fraction:.0%} off, source: "
        f"{discount.source.url}) they would cost about "
        f"{money(on_demand * (1 - discount.fraction))}; Spot tasks stop on two minutes' notice, "
        "so production stays on demand."))
