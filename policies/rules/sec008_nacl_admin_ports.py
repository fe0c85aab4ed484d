"""SEC008: no network ACL allows ingress from 0.0.0.0/0 or ::/0 to the remote
administration ports 22 and 3389 (CIS AWS Foundations 5.1, Security Hub EC2.21),
the default ACL of every VPC included, which is therefore managed."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from policies.model import (
    WORLD,
    Result,
    Rule,
    StackView,
    from_problems,
    is_token,
    port_number,
    values_at,
)

ADMIN_PORTS = (22, 3389)
# Protocols whose entries reach a port: every protocol, TCP and UDP (RDP speaks both).
ALL = frozenset({"-1", "all"})
PORTED = frozenset({"6", "tcp", "17", "udp"})
ACL_TYPES = ("aws_network_acl", "aws_default_network_acl")



def opened_ports(entry: dict, *, action_key: str) -> list[int]:
    """The admin ports an allow entry opens to the world (empty for any other entry).

    Order is not considered: a lower-numbered deny would hide the allow, but the
    benchmark's scanners flag the allow itself; an allow list needs no such deny."""
    if str(entry.get(action_key, "")).lower() != "allow":
        return []
    if not WORLD.intersection({entry.get("cidr_block"), entry.get("ipv6_cidr_block")}):
        return []
    protocol = str(entry.get("protocol", "")).lower()
    if protocol in ALL:
        return list(ADMIN_PORTS)
    if protocol not in PORTED:
        return []
    low, high = entry.get("from_port"), entry.get("to_port")
    if is_token(low) or is_token(high):
        return []
    low, high = port_number(low), port_number(high)
    return [p for p in ADMIN_PORTS if (low or 0) <= p <= (65535 if high is None else high)]


def _problem(entry: dict, where: str, *, action_key: str) -> str | None:
    ports = opened_ports(entry, action_key=action_key)
    if not ports:
        return None
    source = entry.get("cidr_block") or entry.get("ipv6_cidr_block")
    return (f"{where} allows {source} on protocol {entry.get('protocol')} ports "
            f"{entry.get('from_port')}-{entry.get('to_port')}, which includes "
            f"{' and '.join(map(str, ports))}")


class NaclAdminPorts(Rule):
    id = "SEC008"
    family = "security"
    title = "no network ACL allows ingress from 0.0.0.0/0 or ::/0 to ports 22 or 3389"
    rationale = ("SSH and RDP open to the internet at the subnet boundary leave only the "
                 "security groups between an attacker and every instance of the subnet; "
                 "CIS 5.1 wants the ACL to refuse them too. The default network ACL allows "
                 "everything until it is managed.")
    fix = ("manage the ACL (aws_default_network_acl for the VPC's default one) with allow "
           "entries only: the VPC CIDR, the public ports the ALB serves, and the ephemeral "
           "return ports split around 3389 (1024-3388, 3390-65535); see stacks/network.py")
    resource_types = frozenset({*ACL_TYPES, "aws_network_acl_rule", "aws_vpc"})

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        # AWS gives every VPC a default ACL that allows everything: unmanaged,
        # it is nowhere in the JSON, so the VPC answers for it.
        adopted = {r.address for acl in stack.of_type("aws_default_network_acl")
                   for r in stack.resolve(acl.get("default_network_acl_id"))}
        for vpc in stack.of_type("aws_vpc"):
            yield vpc.address, from_problems([] if vpc.address in adopted else [
                "its default network ACL is left as AWS creates it, allowing all inbound "
                "traffic from 0.0.0.0/0 (22 and 3389 included): adopt it with an "
                "aws_default_network_acl on its default_network_acl_id"])
        for acl_type in ACL_TYPES:
            for acl in stack.of_type(acl_type):
                yield acl.address, from_problems(list(self._ingress(acl.body)))
        for rule in stack.of_type("aws_network_acl_rule"):
            egress = rule.get("egress", False)
            problem = None if egress is True or str(egress).lower() == "true" else _problem(
                rule.body, f"rule {rule.get('rule_number')}", action_key="rule_action")
            yield rule.address, from_problems([problem] if problem else [])

    @staticmethod
    def _ingress(body: dict) -> Iterator[str]:
        for entry in values_at(body, "ingress"):
            if isinstance(entry, dict):
                problem = _problem(entry, f"ingress {entry.get('rule_no')}", action_key="action")
                if problem:
                    yield problem


RULE = NaclAdminPorts()
