"""Network pricers: NAT gateways, public IPv4 addresses, VPC endpoints, Transit
Gateway attachments and load balancers."""

from __future__ import annotations

from decimal import Decimal

from cost.pricing.quote import Quote, as_decimal


def nat_gateway(q: Quote) -> None:
    """Hours, plus this gateway's share of the traffic assumption: the GB through all
    NAT gateways of the stack are split evenly, so a second gateway adds hours, not
    traffic."""
    gateways = len(q.resource.stack.of_type("aws_nat_gateway"))
    share = as_decimal(q.assume.nat_gb_processed) / gateways
    q.drive("connectivity_type", q.resource.get("connectivity_type", "public"))
    q.add(f"NAT gateway hours ({q.hours} h)", q.hours, "nat_gateway.hour")
    q.add(f"data processed ({share.normalize():f} GB: {q.assume.nat_gb_processed:g} GB "
          f"over {gateways} gateway(s))", share, "nat_gateway.gb")


def elastic_ip(q: Quote) -> None:
    """Every public IPv4 address is billed per hour, attached or idle (since 2024)."""
    q.drive("domain", q.resource.get("domain", "vpc"))
    q.add(f"public IPv4 address ({q.hours} h)", q.hours, "public_ipv4.hour")


def vpc_endpoint(q: Quote) -> None:
    kind = q.resource.get("vpc_endpoint_type", "Gateway")
    service = str(q.resource.get("service_name", "")).rsplit(".", 1)[-1]
    q.drive("vpc_endpoint_type", kind)
    q.drive("service", service)
    if kind == "Gateway":
        q.note("gateway endpoints (S3, DynamoDB) carry no charge")
        return
    if kind != "Interface":
        q.cannot_price(f"{kind} endpoints: the sheet prices interface endpoints only")
        return
    zones = q.output.list_length(q.resource, "subnet_ids")
    if zones is None:
        zones = 1
        q.cannot_price("subnet_ids could not be counted; priced for one Availability Zone")
    q.drive("subnets", zones)
    q.add(f"endpoint hours ({zones} AZ x {q.hours} h)", zones * q.hours,
          "interface_endpoint.az_hour")
    q.add(f"data processed ({q.assume.interface_endpoint_gb:g} GB)",
          q.assume.interface_endpoint_gb, "interface_endpoint.gb")


def transit_gateway_attachment(q: Quote) -> None:
    q.add(f"attachment hours ({q.hours} h)", q.hours, "transit_gateway.attachment_hour")
    q.add(f"data processed ({q.assume.transit_gateway_gb:g} GB)", q.assume.transit_gateway_gb,
          "transit_gateway.gb")


def load_balancer(q: Quote) -> None:
    kind = q.resource.get("load_balancer_type", "application")
    q.drive("load_balancer_type", kind)
    if kind != "application":
        q.cannot_price(f"{kind} load balancers: the sheet prices application load balancers")
        return
    q.add(f"load balancer hours ({q.hours} h)", q.hours, "alb.hour")
    lcus = as_decimal(q.assume.alb_lcus)
    q.add(f"capacity units ({lcus.normalize():f} LCU x {q.hours} h)", lcus * q.hours,
          "alb.lcu_hour")
    if q.resource.get("internal") is True:
        return
    # An internet-facing ALB holds a public IPv4 address per subnet (AZ) at least.
    zones = q.output.list_length(q.resource, "subnets")
    if zones is None:
        zones = 1
        q.cannot_price("subnets could not be counted; public addresses priced for one AZ")
    q.drive("subnets", zones)
    q.add(f"public IPv4 addresses ({zones} AZ x {q.hours} h, the minimum)",
          Decimal(zones) * q.hours, "public_ipv4.hour")
