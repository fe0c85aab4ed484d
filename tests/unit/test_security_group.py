"""SecurityGroup: separate described rules, no default egress, SEC001 guard, errors."""

from __future__ import annotations

import pytest

from constructs_lib.errors import ConfigError
from constructs_lib.refs import SecurityGroupRef, VpcRef
from constructs_lib.security_group import (
    EgressRule,
    IngressRule,
    SecurityGroup,
    SecurityGroupProps,
)
from tests.unit.synth_helpers import (
    assert_no_resource,
    assert_resource,
    governance_findings,
    matchable,
    one_under,
    under,
)

VPC = VpcRef(vpc_id="vpc-0123456789abcdef0")
REASON = "internet-facing ALB serves HTTPS to users"


def props(tags, **overrides) -> SecurityGroupProps:
    values = {"name": "prod-atlantis-alb", "description": "Atlantis load balancer", "vpc": VPC, "tags": tags}
    values.update(overrides)
    return SecurityGroupProps(**values)


@pytest.fixture(scope="module")
def built(make_stack, synth, tags):
    stack = make_stack()
    alb = SecurityGroup(stack, "alb", props(
        tags,
        ingress=(IngressRule(from_port=443, to_port=443, description="HTTPS from anywhere",
                             cidr_blocks=("0.0.0.0/0", "::/0")),),
        egress=(EgressRule(from_port=4141, to_port=4141, description="to Atlantis tasks",
                           cidr_blocks=("10.0.32.0/19",)),),
        allow_public_ingress_reason=REASON,
    ))
    task = SecurityGroup(stack, "task", props(
        tags, name="prod-atlantis-task", description="Atlantis tasks",
        egress=(EgressRule(from_port=443, to_port=443, description="S3 via gateway endpoint",
                           prefix_list_ids=("pl-78a54011",)),
                EgressRule(from_port=0, to_port=0, protocol="-1", description="anything in VPC",
                           cidr_blocks=("10.0.0.0/16",))),
    ))
    task.allow_from(alb.ref, 4141, "Atlantis from the ALB")
    SecurityGroup(stack, "closed", props(tags, name="prod-closed", description="no traffic"))
    return alb, synth(stack), matchable(stack)


def test_group_revokes_rules_and_has_no_inline_rules(built, tags):
    _, doc, received = built
    assert_resource(received, "aws_security_group", {
        "name": "prod-atlantis-alb", "description": "Atlantis load balancer",
        "vpc_id": VPC.vpc_id, "revoke_rules_on_delete": True})
    group = one_under(doc, "aws_security_group", "alb")
    assert group["name"] == "prod-atlantis-alb"
    assert "ingress" not in group and "egress" not in group
    assert group["tags"] == tags.resource_tags("prod-atlantis-alb")


def test_public_ingress_one_rule_per_cidr_with_waiver(built):
    _, doc, _ = built
    rules = under(doc, "aws_vpc_security_group_ingress_rule", "alb")
    assert [r.get("cidr_ipv4") or r.get("cidr_ipv6") for r in rules] == ["0.0.0.0/0", "::/0"]
    for rule in rules:
        assert rule["from_port"] == rule["to_port"] == 443
        assert rule["ip_protocol"] == "tcp"
        assert rule["description"] == "HTTPS from anywhere"
        assert rule["//"]["waivers"]["SEC001"] == REASON


def test_no_egress_unless_given(built, stack, tags):
    _, doc, received = built
    assert under(doc, "aws_vpc_security_group_egress_rule", "closed") == []
    assert under(doc, "aws_vpc_security_group_ingress_rule", "closed") == []
    # Alone in a stack, the closed group synthesizes no rule at all; beside the
    # groups with rules, the same matcher finds them.
    SecurityGroup(stack, "closed", props(tags, name="prod-closed", description="no traffic"))
    alone = matchable(stack)
    assert_resource(alone, "aws_security_group", {"name": "prod-closed"})
    for kind in ("aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"):
        assert_no_resource(alone, kind)
        assert_resource(received, kind, {})


def test_egress_targets(built):
    _, doc, _ = built
    rules = under(doc, "aws_vpc_security_group_egress_rule", "task")
    assert rules[0]["prefix_list_id"] == "pl-78a54011"
    assert rules[1]["ip_protocol"] == "-1" and "from_port" not in rules[1]
    assert rules[1]["cidr_ipv4"] == "10.0.0.0/16"


def test_allow_from_references_the_other_group(built):
    _, doc, _ = built
    (rule,) = under(doc, "aws_vpc_security_group_ingress_rule", "task")
    assert rule["referenced_security_group_id"].startswith("${aws_security_group.alb_")
    assert rule["from_port"] == rule["to_port"] == 4141
    assert rule["description"] == "Atlantis from the ALB"
    assert "//" not in rule or "waivers" not in rule["//"]


def test_ref(built):
    alb, _, _ = built
    assert isinstance(alb.ref, SecurityGroupRef)


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props (no rules), the group leaves no governance
    finding."""
    SecurityGroup(stack, "alb", props(tags))
    assert governance_findings(stack) == []


def _public(port, **kw):
    return IngressRule(from_port=port, to_port=port, description="public", cidr_blocks=("0.0.0.0/0",), **kw)


@pytest.mark.parametrize("overrides, field, shown, allowed", [
    ({"name": "alb"}, "name", "'alb'", "starting with 'prod-'"),
    ({"description": ""}, "description", "''", "non-empty description"),
    ({"ingress": (_public(22),), "allow_public_ingress_reason": REASON},
     r"ingress[0].cidr_blocks", "'0.0.0.0/0'", "only allowed on port 80 or 443"),
    ({"ingress": (_public(443),)}, "ingress[0].cidr_blocks", "'0.0.0.0/0'",
     "needs allow_public_ingress_reason"),
    ({"ingress": (IngressRule(from_port=443, to_port=443, description=" ",
                               cidr_blocks=("10.0.0.0/16",)),)},
     "ingress[0].description", "' '", "needs a description"),
    ({"ingress": (IngressRule(from_port=443, to_port=80, description="x",
                               cidr_blocks=("10.0.0.0/16",)),)},
     "ingress[0].to_port", "80", "must not be below from_port 443"),
    ({"egress": (EgressRule(from_port=443, to_port=443, description="x",
                             cidr_blocks=("10.0.0.1/16",)),)},
     "egress[0].cidr_blocks", "'10.0.0.1/16'", "CIDR block"),
    ({"egress": (EgressRule(from_port=1, to_port=70000, description="x",
                             cidr_blocks=("10.0.0.0/16",)),)},
     "egress[0].to_port", "70000", "0..65535"),
    ({"egress": (EgressRule(from_port=1, to_port=2, protocol="sctp", description="x",
                             cidr_blocks=("10.0.0.0/16",)),)},
     "egress[0].protocol", "'sctp'", "allowed is one of"),
    ({"allow_public_ingress_reason": "ok"}, "allow_public_ingress_reason", "'ok'",
     "at least 10 characters"),
])
def test_rejects_bad_props(stack, tags, overrides, field, shown, allowed):
    with pytest.raises(ConfigError) as err:
        SecurityGroup(stack, "bad", props(tags, **overrides))
    assert f"unit/bad: {field} is {shown}; " in str(err.value)
    assert allowed in str(err.value)
    assert stack.node.try_find_child("bad").node.children == []


def test_rejects_rule_without_target(stack, tags):
    rule = EgressRule(from_port=443, to_port=443, description="nowhere")
    with pytest.raises(ConfigError, match=r"unit/bad: egress\[0\] is .*needs cidr_blocks or a security group"):
        SecurityGroup(stack, "bad", props(tags, egress=(rule,)))


def test_allow_from_validates(stack, tags):
    group = SecurityGroup(stack, "sg", props(tags))
    with pytest.raises(ConfigError, match=r"unit/sg: allow_from.description is ''"):
        group.allow_from(SecurityGroupRef(id="sg-1"), 443, "")
