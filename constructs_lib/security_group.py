"""Security group whose every rule is a separate, described resource; nothing is
open by default and public ingress is limited to 80/443 with a recorded reason."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup as SecurityGroupResource
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from constructs_lib import waivers
from constructs_lib.errors import Problems
from constructs_lib.formats import is_unresolved
from constructs_lib.prop_checks import check_name, check_reason
from constructs_lib.refs import SecurityGroupRef, VpcRef
from constructs_lib.tags import RequiredTags

PROTOCOLS = ("tcp", "udp", "icmp", "-1")
PUBLIC_CIDRS = ("0.0.0.0/0", "::/0")
PUBLIC_PORTS = (80, 443)


@dataclass(frozen=True, kw_only=True)
class IngressRule:
    """Traffic allowed in: one resource per CIDR block or the source group."""

    from_port: int
    to_port: int
    description: str
    """Why the traffic is allowed; required and shown in the console."""
    protocol: str = "tcp"
    """tcp, udp, icmp or -1 (all; ports are then ignored). Left out: tcp."""
    cidr_blocks: tuple[str, ...] = ()
    """IPv4 or IPv6 CIDR blocks. Left empty: `source_security_group` is required."""
    source_security_group: SecurityGroupRef | None = None
    """Left out: `cidr_blocks` is required."""


@dataclass(frozen=True, kw_only=True)
class EgressRule:
    """Traffic allowed out: one resource per CIDR, prefix list or the group."""

    from_port: int
    to_port: int
    description: str
    protocol: str = "tcp"
    """tcp, udp, icmp or -1 (all). Left out: tcp."""
    cidr_blocks: tuple[str, ...] = ()
    """IPv4 or IPv6 CIDR blocks. Left empty: another destination is required."""
    destination_security_group: SecurityGroupRef | None = None
    """Left out: no group destination."""
    prefix_list_ids: tuple[str, ...] = ()
    """Managed prefix lists (e.g. the S3 gateway endpoint's). Left empty: none."""


@dataclass(frozen=True, kw_only=True)
class SecurityGroupProps:
    name: str
    """Kebab-case, starting with `<environment>-`."""
    description: str
    """What the group is for; required (it cannot be changed without replacement)."""
    vpc: VpcRef
    """VPC the group belongs to."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    ingress: tuple[IngressRule, ...] = ()
    """Left empty: no inbound traffic (add it later with `allow_from`)."""
    egress: tuple[EgressRule, ...] = ()
    """Left empty: no outbound traffic at all; callers state egress explicitly."""
    allow_public_ingress_reason: str | None = None
    """Needed for ingress from 0.0.0.0/0 or ::/0, which is only accepted on
    ports 80 and 443 (a public load balancer); recorded as waiver SEC001 on
    each such rule. Left out: public ingress is rejected."""


class SecurityGroup(Construct):
    """A security group with separate rule resources (never inline rules, so
    rules added elsewhere are not fought over), revoking rules on delete."""

    def __init__(self, scope: Construct, id: str, props: SecurityGroupProps):
        super().__init__(scope, id)
        _validate(props, self.node.path)
        self.props = props
        self.name = props.name
        self._rule_count = {"ingress": 0, "egress": 0}
        # Without inline `ingress`/`egress` Terraform removes AWS's default
        # allow-all egress rule on create and leaves the rule resources alone.
        self.security_group = SecurityGroupResource(
            self,
            "security-group",
            name=props.name,
            description=props.description,
            vpc_id=props.vpc.vpc_id,
            revoke_rules_on_delete=True,
            tags=props.tags.resource_tags(props.name),
        )
        self.ingress_rules: list[VpcSecurityGroupIngressRule] = []
        self.egress_rules: list[VpcSecurityGroupEgressRule] = []
        for rule in props.ingress:
            self._add_ingress(rule)
        for rule in props.egress:
            self._add_egress(rule)

    @property
    def id(self) -> str:
        return self.security_group.id

    @property
    def ref(self) -> SecurityGroupRef:
        return SecurityGroupRef(id=self.security_group.id)

    def allow_from(self, other: SecurityGroupRef, port: int, description: str,
                   protocol: str = "tcp") -> VpcSecurityGroupIngressRule:
        """Allow `port` in from members of `other` (e.g. the ALB to a task)."""
        rule = IngressRule(from_port=port, to_port=port, protocol=protocol,
                           description=description, source_security_group=other)
        problems = Problems(self.node.path)
        _check_rule(problems, "allow_from", rule, None)
        problems.raise_if_any()
        return self._add_ingress(rule)[0]

    def _add_ingress(self, rule: IngressRule) -> list[VpcSecurityGroupIngressRule]:
        created = []
        for target in _targets(rule.cidr_blocks, rule.source_security_group, ()):
            resource = VpcSecurityGroupIngressRule(
                self, self._next_id("ingress"), security_group_id=self.security_group.id,
                description=rule.description, **_ports(rule), **target,
                tags=self.props.tags.resource_tags(f"{self.name}-ingress"),
            )
            if target.get("cidr_ipv4") in PUBLIC_CIDRS or target.get("cidr_ipv6") in PUBLIC_CIDRS:
                waivers.record(resource, "SEC001", self.props.allow_public_ingress_reason,
                               where=self.node.path)
            created.append(resource)
        self.ingress_rules.extend(created)
        return created

    def _add_egress(self, rule: EgressRule) -> None:
        for target in _targets(rule.cidr_blocks, rule.destination_security_group,
                               rule.prefix_list_ids):
            self.egress_rules.append(VpcSecurityGroupEgressRule(
                self, self._next_id("egress"), security_group_id=self.security_group.id,
                description=rule.description, **_ports(rule), **target,
                tags=self.props.tags.resource_tags(f"{self.name}-egress"),
            ))

    def _next_id(self, direction: str) -> str:
        # Numbered in order: appending rules keeps existing ids (and resources).
        self._rule_count[direction] += 1
        return f"{direction}-{self._rule_count[direction]}"


def _ports(rule: IngressRule | EgressRule) -> dict:
    if rule.protocol == "-1":
        return {"ip_protocol": "-1"}
    return {"ip_protocol": rule.protocol, "from_port": rule.from_port, "to_port": rule.to_port}


def _targets(cidrs, group: SecurityGroupRef | None, prefix_lists) -> list[dict]:
    targets: list[dict] = []
    for cidr in cidrs:
        key = "cidr_ipv6" if not is_unresolved(cidr) and ":" in cidr else "cidr_ipv4"
        targets.append({key: cidr})
    if group is not None:
        targets.append({"referenced_security_group_id": group.id})
    targets.extend({"prefix_list_id": p} for p in prefix_lists)
    return targets


def _check_rule(problems: Problems, where: str, rule, public_reason: str | None) -> None:
    if not isinstance(rule.description, str) or not rule.description.strip():
        problems.add(f"{where}.description", rule.description,
                     "every rule needs a description of why it exists")
    if rule.protocol not in PROTOCOLS:
        problems.add(f"{where}.protocol", rule.protocol, f"allowed is one of {PROTOCOLS}")
    elif rule.protocol != "-1":
        for field in ("from_port", "to_port"):
            port = getattr(rule, field)
            low = -1 if rule.protocol == "icmp" else 0
            if not isinstance(port, int) or not low <= port <= 65535:
                problems.add(f"{where}.{field}", port, f"allowed is {low}..65535")
        if isinstance(rule.from_port, int) and isinstance(rule.to_port, int) \
                and rule.from_port > rule.to_port:
            problems.add(f"{where}.to_port", rule.to_port,
                         f"must not be below from_port {rule.from_port}")
    group = getattr(rule, "source_security_group", None) or getattr(
        rule, "destination_security_group", None)
    prefix_lists = getattr(rule, "prefix_list_ids", ())
    if not rule.cidr_blocks and group is None and not prefix_lists:
        problems.add(where, rule, "a rule needs cidr_blocks or a security group")
    if group is not None and not isinstance(group, SecurityGroupRef):
        problems.add(where, group, "allowed is a SecurityGroupRef")
    for cidr in rule.cidr_blocks:
        if is_unresolved(cidr):
            continue
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            problems.add(f"{where}.cidr_blocks", cidr, "allowed is an IPv4 or IPv6 CIDR block")
            continue
        if isinstance(rule, IngressRule) and cidr in PUBLIC_CIDRS:
            public_port = rule.protocol == "tcp" and rule.from_port == rule.to_port \
                and rule.from_port in PUBLIC_PORTS
            if not public_port:
                problems.add(f"{where}.cidr_blocks", cidr,
                             "ingress from anywhere is only allowed on port 80 or 443 "
                             "(rule SEC001)")
            elif not public_reason:
                problems.add(f"{where}.cidr_blocks", cidr,
                             "ingress from anywhere needs allow_public_ingress_reason "
                             "(rule SEC001)")


def _validate(props: SecurityGroupProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=255)
    if not isinstance(props.description, str) or not props.description.strip():
        problems.add("description", props.description, "a non-empty description is required")
    if not isinstance(props.vpc, VpcRef):
        problems.add("vpc", props.vpc, "allowed is a VpcRef")
    for i, rule in enumerate(props.ingress):
        if not isinstance(rule, IngressRule):
            problems.add(f"ingress[{i}]", rule, "allowed is an IngressRule")
        else:
            _check_rule(problems, f"ingress[{i}]", rule, props.allow_public_ingress_reason)
    for i, rule in enumerate(props.egress):
        if not isinstance(rule, EgressRule):
            problems.add(f"egress[{i}]", rule, "allowed is an EgressRule")
        else:
            _check_rule(problems, f"egress[{i}]", rule, None)
    check_reason(problems, "allow_public_ingress_reason", props.allow_public_ingress_reason)
    problems.raise_if_any()

