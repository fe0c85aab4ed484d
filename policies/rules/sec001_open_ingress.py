"""SEC001: no ingress from 0.0.0.0/0 or ::/0, except 80/443 to the security group of an internet-facing ALB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from policies.model import (
    COMPLIANT,
    WORLD,
    Result,
    Rule,
    StackView,
    from_problems,
    port_number,
    values_at,
)

PUBLIC_PORTS = frozenset({80, 443})
LB_TYPES = ("aws_lb", "aws_alb")


def _group_key(value: object) -> str | None:
    """How a security group is referred to: the `${...}` expression (or literal id) as written."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def public_alb_groups(stack: StackView) -> set[str]:
    """Security group references attached to an internet-facing application load balancer."""
    groups = set()
    for lb_type in LB_TYPES:
        for lb in stack.of_type(lb_type):
            internal = lb.get("internal", False)
            if internal is True or lb.get("load_balancer_type", "application") != "application":
                continue
            groups.update(g for g in values_at(lb.body, "security_groups") if isinstance(g, str))
    return groups



def _open_problem(cidrs: list, from_port: object, to_port: object, protocol: object,
                  group: str | None, public: set[str]) -> str | None:
    world = sorted(WORLD.intersection(c for c in cidrs if isinstance(c, str)))
    if not world:
        return None
    low, high = port_number(from_port), port_number(to_port)
    web_port = low is not None and low == high and low in PUBLIC_PORTS
    tcp = str(protocol).lower() in ("tcp", "6")
    if web_port and tcp and group is not None and group in public:
        return None
    ports = f"port {low}" if low == high else f"ports {from_port}-{to_port}"
    reason = ("only 80/443 to the public ALB's security group may be open"
              if web_port and tcp else "only tcp 80/443 may be open to the world")
    return f"ingress from {', '.join(world)} on {protocol} {ports}: {reason}"


class OpenIngress(Rule):
    id = "SEC001"
    family = "security"
    title = "no 0.0.0.0/0 (or ::/0) ingress except 80/443 on the public ALB"
    rationale = ("Everything except the public load balancer sits in private subnets and is "
                 "reached through the ALB or VPC endpoints; open ingress anywhere else exposes "
                 "it to the internet.")
    fix = ("allow the source security group (e.g. the ALB's) or the VPC CIDR instead of "
           "0.0.0.0/0; the ALB itself may only open tcp 80/443")

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        public = public_alb_groups(stack)
        for sg in stack.of_type("aws_security_group"):
            own = f"${{aws_security_group.{sg.name}.id}}"
            yield sg.address, from_problems(list(self._inline(sg.body, own, public)))
        for rule in stack.of_type("aws_security_group_rule"):
            if rule.get("type") != "ingress":
                yield rule.address, COMPLIANT
                continue
            cidrs = [*values_at(rule.body, "cidr_blocks"), *values_at(rule.body, "ipv6_cidr_blocks")]
            problem = _open_problem(cidrs, rule.get("from_port"), rule.get("to_port"),
                                    rule.get("protocol"), _group_key(rule.get("security_group_id")),
                                    public)
            yield rule.address, from_problems([problem] if problem else [])
        for rule in stack.of_type("aws_vpc_security_group_ingress_rule"):
            cidrs = [rule.get("cidr_ipv4"), rule.get("cidr_ipv6")]
            protocol = rule.get("ip_protocol")
            problem = _open_problem(cidrs, rule.get("from_port"), rule.get("to_port"), protocol,
                                    _group_key(rule.get("security_group_id")), public)
            yield rule.address, from_problems([problem] if problem else [])

    @staticmethod
    def _inline(body: dict, own: str, public: set[str]) -> Iterator[str]:
        for block in values_at(body, "ingress"):
            if not isinstance(block, dict):
                continue
            cidrs = [*values_at(block, "cidr_blocks"), *values_at(block, "ipv6_cidr_blocks")]
            problem = _open_problem(cidrs, block.get("from_port"), block.get("to_port"),
                                    block.get("protocol"), own, public)
            if problem:
                yield problem


RULE = OpenIngress()
