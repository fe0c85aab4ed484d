"""ApplicationLoadBalancer: HTTPS with a TLS 1.2+ policy, HTTP redirect, target groups, waivers."""

from __future__ import annotations

import pytest
from cdktf import TerraformOutput

from constructs_lib.alb import ApplicationLoadBalancer, ApplicationLoadBalancerProps
from constructs_lib.errors import ConfigError
from constructs_lib.refs import CertificateRef, SecurityGroupRef, SubnetsRef, VpcRef
from tests.unit.synth_helpers import assert_resource, governance_findings, matchable, one_under

CERT = CertificateRef(arn="arn:aws:acm:ap-northeast-2:123456789012:certificate/abc")
SUBNETS = SubnetsRef(ids=["subnet-public-a", "subnet-public-c"])
GROUPS = [SecurityGroupRef(id="sg-alb")]
VPC = VpcRef(vpc_id="vpc-123")


def props(tags, **overrides) -> ApplicationLoadBalancerProps:
    values = {"name": "prod-atlantis", "tags": tags, "subnets": SUBNETS, "security_groups": GROUPS,
                  "certificate": CERT}
    values.update(overrides)
    return ApplicationLoadBalancerProps(**values)


@pytest.fixture(scope="module")
def synthesized(make_stack, synth, tags):
    stack = make_stack()
    alb = ApplicationLoadBalancer(stack, "alb", props(tags, access_logs_bucket="prod-alb-logs"))
    alb.add_target_group("prod-atlantis", 4141, "/healthz", VPC)
    alb.add_target_group("prod-atlantis-api", 8080, "/ready", VPC, target_type="ip",
                         path_patterns=("/api/*",), priority=10)
    ApplicationLoadBalancer(stack, "internal", props(
        tags, name="prod-internal", internal=True, enable_deletion_protection=False,
        deletion_protection_off_reason="short-lived internal test load balancer"))
    TerraformOutput(stack, "dns_name", value=alb.dns_name)
    TerraformOutput(stack, "zone_id", value=alb.zone_id)
    return alb, synth(stack), matchable(stack)


def test_load_balancer_is_hardened(synthesized, tags):
    _, doc, received = synthesized
    assert_resource(received, "aws_lb", {
        "name": "prod-atlantis", "load_balancer_type": "application", "internal": False,
        "drop_invalid_header_fields": True, "enable_deletion_protection": True,
        "desync_mitigation_mode": "defensive", "subnets": SUBNETS.ids,
        "security_groups": ["sg-alb"],
    })
    # Whole dicts: the matcher would accept extra keys.
    lb = one_under(doc, "aws_lb", "alb")
    assert lb["access_logs"] == {"bucket": "prod-alb-logs", "enabled": True}
    assert lb["tags"] == tags.resource_tags("prod-atlantis")


def test_https_listener_forwards_to_the_default_target_group(synthesized):
    _, doc, received = synthesized
    # The internal load balancer's HTTPS listener answers with a fixed response.
    assert_resource(received, "aws_lb_listener", {
        "port": 443, "protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "certificate_arn": CERT.arn, "default_action": [{"type": "forward"}]})
    [action] = one_under(doc, "aws_lb_listener", "alb/https")["default_action"]
    assert action["target_group_arn"].startswith("${aws_lb_target_group.alb_target-prod-atlantis_")


def test_http_listener_redirects_to_https(synthesized):
    _, doc, _ = synthesized
    http = one_under(doc, "aws_lb_listener", "alb/http")
    assert (http["port"], http["protocol"]) == (80, "HTTP")
    assert http["default_action"] == [{"type": "redirect", "redirect": {
        "protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"}}]


def test_target_groups_and_rule(synthesized, tags):
    _, doc, received = synthesized
    assert_resource(received, "aws_lb_target_group", {
        "port": 4141, "protocol": "HTTP", "target_type": "ip", "vpc_id": "vpc-123",
        "health_check": {"path": "/healthz", "matcher": "200"}})
    group = one_under(doc, "aws_lb_target_group", "alb/target-prod-atlantis")
    assert group["port"] == 4141
    assert group["tags"] == tags.resource_tags("prod-atlantis")
    rule = one_under(doc, "aws_lb_listener_rule", "alb")
    assert rule["priority"] == 10
    assert rule["condition"] == [{"path_pattern": {"values": ["/api/*"]}}]
    assert rule["action"][0]["target_group_arn"].startswith(
        "${aws_lb_target_group.alb_target-prod-atlantis-api_")


def test_internal_without_deletion_protection_is_waived(synthesized):
    _, doc, _ = synthesized
    lb = one_under(doc, "aws_lb", "internal")
    assert lb["internal"] is True
    assert lb["enable_deletion_protection"] is False
    assert "access_logs" not in lb
    assert set(lb["//"]["waivers"]) == {"CKV_AWS_150"}
    https = one_under(doc, "aws_lb_listener", "internal/https")
    assert https["default_action"][0]["type"] == "fixed-response"


def test_outputs(synthesized):
    _, doc, _ = synthesized
    assert doc["output"]["dns_name"]["value"].endswith(".dns_name}")
    assert doc["output"]["zone_id"]["value"].endswith(".zone_id}")


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props, the load balancer leaves no governance finding."""
    ApplicationLoadBalancer(stack, "alb", props(tags))
    assert governance_findings(stack) == []


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("name", "atlantis", "starting with 'prod-'"),
    ("name", "prod-a-very-long-load-balancer-name", "at most 32 characters"),
    ("ssl_policy", "ELBSecurityPolicy-2016-08", "TLS 1.2+ policies"),
    ("desync_mitigation_mode", "monitor", "defensive, strictest"),
    ("security_groups", [], "at least one security group"),
    ("deletion_protection_off_reason", "short",
     "turning deletion protection off needs a reason of at least 10 characters"),
])
def test_rejects_bad_props(stack, tags, field, value, fragment):
    overrides = {field: value}
    if field == "deletion_protection_off_reason":
        overrides["enable_deletion_protection"] = False
    with pytest.raises(ConfigError) as error:
        ApplicationLoadBalancer(stack, "bad", props(tags, **overrides))
    message = str(error.value)
    assert "unit/bad" in message
    assert field in message
    assert repr(value) in message
    assert fragment in message


def test_rejects_a_single_subnet(stack, tags):
    with pytest.raises(ConfigError) as error:
        ApplicationLoadBalancer(stack, "bad", props(tags, subnets=SubnetsRef(ids=["subnet-a"])))
    assert "unit/bad: subnets.ids is ['subnet-a']" in str(error.value)


@pytest.mark.parametrize(("kwargs", "field", "fragment"), [
    ({"name": "atlantis"}, "add_target_group name is 'atlantis'", "starting with 'prod-'"),
    ({"name": "${TfToken[TOKEN.1]}"}, "add_target_group name is '${TfToken[TOKEN.1]}'",
     "a literal name, not a token"),
    ({"health_check_path": "healthz"}, "health_check_path is 'healthz'", "absolute path"),
    ({"target_type": "lambda"}, "target_type is 'lambda'", "ip, instance"),
    ({"path_patterns": ("/x/*",)}, "priority is None", "priority of 1 to 50000"),
])
def test_rejects_bad_target_groups(stack, tags, kwargs, field, fragment):
    alb = ApplicationLoadBalancer(stack, "alb", props(tags))
    arguments = {"name": "prod-app", "port": 80, "health_check_path": "/", "vpc": VPC}
    arguments.update(kwargs)
    with pytest.raises(ConfigError) as error:
        alb.add_target_group(**arguments)
    assert "unit/alb" in str(error.value)
    assert field in str(error.value)
    assert fragment in str(error.value)


def test_only_one_default_target_group(stack, tags):
    alb = ApplicationLoadBalancer(stack, "alb", props(tags))
    alb.add_target_group("prod-app", 80, "/", VPC)
    with pytest.raises(ConfigError) as error:
        alb.add_target_group("prod-other", 80, "/", VPC)
    assert "already has a default target group" in str(error.value)


HOOKS = ("192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20",
         "9.234.98.160/28", "9.234.98.176/28", "9.234.106.48/28")


@pytest.fixture(scope="module")
def routed(make_stack, synth, tags):
    stack = make_stack()
    alb = ApplicationLoadBalancer(stack, "alb", props(tags))
    group = alb.add_target_group("prod-app", 4141, "/healthz", VPC,
                                 path_patterns=("/healthz",), priority=1)
    rules = alb.forward("events", group, priority=10, path_patterns=("/events",),
                        source_ips=HOOKS)
    alb.forward("operators", group, priority=100, source_ips=("198.51.100.0/24",))
    return rules, synth(stack)


def _rule_conditions(body):
    return {kind: condition[kind]["values"] for condition in body["condition"]
            for kind in ("path_pattern", "source_ip") if condition.get(kind)}


def test_forward_spreads_source_ranges_over_rules_of_five_values(routed):
    rules, doc = routed
    assert len(rules) == 2
    bodies = sorted(doc["resource"]["aws_lb_listener_rule"].items())
    events = {name: body for name, body in bodies if name.startswith("alb_rule-events-")}
    assert sorted(b["priority"] for b in events.values()) == [10, 11]
    conditions = [_rule_conditions(b) for b in sorted(events.values(), key=lambda b: b["priority"])]
    assert conditions == [{"path_pattern": ["/events"], "source_ip": list(HOOKS[:4])},
                          {"path_pattern": ["/events"], "source_ip": list(HOOKS[4:])}]
    operators = one_under(doc, "aws_lb_listener_rule", "alb/rule-operators-0")
    assert _rule_conditions(operators) == {"source_ip": ["198.51.100.0/24"]}
    assert operators["action"][0]["type"] == "forward"


def test_routed_target_group_leaves_the_listener_answering_404(routed):
    _, doc = routed
    (https,) = [b for b in doc["resource"]["aws_lb_listener"].values() if b["port"] == 443]
    assert https["default_action"][0]["type"] == "fixed-response"
    assert https["default_action"][0]["fixed_response"]["status_code"] == "404"


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({}, "give at least one of host_headers, path_patterns and source_ips"),
    ({"source_ips": ("0.0.0.0/0",)}, "forward source_ips[0] is '0.0.0.0/0'"),
    ({"source_ips": ("10.0.0.1/8",)}, "forward source_ips[0] is '10.0.0.1/8'"),
    ({"name": "Events", "path_patterns": ("/x",)}, "forward name is 'Events'"),
    ({"path_patterns": ("/a", "/b", "/c", "/d", "/e"), "source_ips": ("10.0.0.0/8",)},
     "with source_ips at most 4 values are allowed"),
    ({"priority": 0, "path_patterns": ("/x",)}, "forward priority is 0"),
])
def test_forward_rejects_bad_routes(stack, tags, kwargs, fragment):
    alb = ApplicationLoadBalancer(stack, "alb", props(tags))
    group = alb.add_target_group("prod-app", 80, "/", VPC, path_patterns=("/",), priority=1)
    arguments = {"name": "events", "priority": 10, **kwargs}
    with pytest.raises(ConfigError) as error:
        alb.forward(arguments.pop("name"), group, **arguments)
    assert "unit/alb" in str(error.value)
    assert fragment in str(error.value)
