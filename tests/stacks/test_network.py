"""network stack: the reference topology, one NAT in 2a, flow logs, the closed
default security group, the S3 endpoint, the app security group, and the
Transit Gateway only when the setting asks for it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from stacks.network import DEFAULT_ACL_EGRESS, DEFAULT_ACL_INGRESS
from tests.stacks.synth_json import (
    by_name,
    conditions,
    one,
    policy,
    policy_at,
    published,
    ref,
    resources,
    statements,
)

PUBLIC = {"10.0.0.0/20": "ap-northeast-2a", "10.0.16.0/20": "ap-northeast-2c"}
PRIVATE = {"10.0.32.0/19": "ap-northeast-2a", "10.0.64.0/19": "ap-northeast-2c"}


@pytest.fixture(scope="module")
def net(stack_json):
    return stack_json("network")


def test_vpc(net):
    vpc = one(net, "aws_vpc")
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["enable_dns_support"] is True and vpc["enable_dns_hostnames"] is True


def test_subnets_exactly_as_the_reference(net):
    subnets = resources(net, "aws_subnet")
    public = {s["cidr_block"]: s["availability_zone"]
              for i, s in subnets.items() if i.startswith("public")}
    private = {s["cidr_block"]: s["availability_zone"]
               for i, s in subnets.items() if i.startswith("private")}
    assert (public, private) == (PUBLIC, PRIVATE)
    assert all(s["map_public_ip_on_launch"] is False for s in subnets.values())


def test_one_nat_gateway_with_eip_in_the_first_public_subnet(net):
    nat = one(net, "aws_nat_gateway")
    assert nat["subnet_id"] == ref("aws_subnet.public-subnet-ap-northeast-2a")
    eip = one(net, "aws_eip")
    assert eip["domain"] == "vpc"
    assert nat["allocation_id"] == "${aws_eip.nat-eip-ap-northeast-2a.allocation_id}"


def test_routes(net):
    routes = by_name(net, "aws_route", "route_table_id")
    public = routes[ref("aws_route_table.public-route-table")]
    assert public["destination_cidr_block"] == "0.0.0.0/0"
    assert public["gateway_id"] == ref("aws_internet_gateway.internet-gateway")
    for az in PRIVATE.values():
        private = routes[ref(f"aws_route_table.private-route-table-{az}")]
        assert private["destination_cidr_block"] == "0.0.0.0/0"
        # A single NAT gateway (2a) serves both AZs unless multi_az_nat is set.
        assert private["nat_gateway_id"] == ref("aws_nat_gateway.nat-gateway-ap-northeast-2a")
    associations = {(a["subnet_id"], a["route_table_id"])
                    for a in resources(net, "aws_route_table_association").values()}
    assert associations == {
        (ref(f"aws_subnet.public-subnet-{az}"), ref("aws_route_table.public-route-table"))
        for az in PUBLIC.values()
    } | {
        (ref(f"aws_subnet.private-subnet-{az}"),
         ref(f"aws_route_table.private-route-table-{az}"))
        for az in PRIVATE.values()
    }


def test_flow_logs_capture_all_traffic_into_an_encrypted_group(net):
    flow = one(net, "aws_flow_log")
    assert flow["traffic_type"] == "ALL"
    assert flow["log_destination_type"] == "cloud-watch-logs"
    group = one(net, "aws_cloudwatch_log_group")
    assert group["name"] == "/prod/network/vpc-flow-logs"
    assert group["retention_in_days"] == 365
    assert group["kms_key_id"] == "${data.aws_ssm_parameter.from-kms-logs-key-arn.insecure_value}"


def test_flow_log_role_is_scoped(net):
    role = one(net, "aws_iam_role")
    assert role["name"] == "prod-vpc-flow-logs"
    (trust,) = policy_at(net, "network/flow-log-role/trust-policy")["statement"]
    assert trust["principals"] == [
        {"type": "Service", "identifiers": ["vpc-flow-logs.amazonaws.com"]}]
    assert trust["condition"][0]["variable"] == "aws:SourceAccount"
    (delivery,) = policy_at(net, "network/flow-log-role/policy-delivery-document")["statement"]
    assert all("aws_cloudwatch_log_group" in r for r in delivery["resources"])


def test_default_security_group_is_closed(net):
    default = one(net, "aws_default_security_group")
    assert "ingress" not in default and "egress" not in default


def test_s3_gateway_endpoint_on_the_private_route_tables(net):
    endpoint = one(net, "aws_vpc_endpoint")
    assert endpoint["service_name"] == "com.amazonaws.ap-northeast-2.s3"
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert sorted(endpoint["route_table_ids"]) == sorted(
        ref(f"aws_route_table.private-route-table-{az}") for az in PRIVATE.values())


ACCOUNT_ID = "${data.aws_caller_identity.account.account_id}"
EVERYONE = [{"type": "*", "identifiers": ["*"]}]


def test_s3_endpoint_serves_our_principals_on_our_buckets_and_ecr_layers(net):
    endpoint = one(net, "aws_vpc_endpoint")
    found = statements(policy(net, endpoint["policy"]))
    assert set(found) == {"OwnPrincipalsOnOwnBuckets", "EcrImageLayers"}
    own = found["OwnPrincipalsOnOwnBuckets"]
    assert (own["effect"], own["actions"], own["resources"], own["principals"]) == (
        "Allow", ["s3:*"], ["*"], EVERYONE)
    assert conditions(own) == {("StringEquals", "aws:PrincipalAccount"): [ACCOUNT_ID],
                               ("StringEquals", "aws:ResourceAccount"): [ACCOUNT_ID]}
    # Fargate's image pulls: AWS's layer bucket, read only, whoever signed the URL.
    layers = found["EcrImageLayers"]
    assert (layers["effect"], layers["actions"], layers["principals"]) == (
        "Allow", ["s3:GetObject"], EVERYONE)
    assert layers["resources"] == ["arn:${data.aws_partition.partition.partition}:s3:::"
                                   "prod-ap-northeast-2-starport-layer-bucket/*"]
    assert "condition" not in layers


@pytest.fixture(scope="module")
def acl(net):
    return one(net, "aws_default_network_acl")


def covers(entry, port):
    return entry["protocol"] == "-1" or entry["from_port"] <= port <= entry["to_port"]


def test_default_network_acl_is_managed_for_every_subnet(acl):
    assert acl["default_network_acl_id"] == "${aws_vpc.vpc.default_network_acl_id}"
    # Listed, or the provider plans to remove the subnets on every run.
    assert sorted(acl["subnet_ids"]) == sorted(
        ref(f"aws_subnet.{tier}-subnet-{az}")
        for tier, subnets in (("public", PUBLIC), ("private", PRIVATE)) for az in subnets.values())
    assert acl["tags"]["Name"] == "prod-default-acl"


def test_default_network_acl_admits_no_ssh_or_rdp_from_the_internet(acl):
    """CIS 5.1: no allow from 0.0.0.0/0 covers 22 or 3389; the VPC talks freely."""
    assert all(e["action"] == "allow" for e in acl["ingress"] + acl["egress"])
    assert not [e for e in acl["ingress"] if "ipv6_cidr_block" in e], "the VPC has no IPv6"
    world = [e for e in acl["ingress"] if e["cidr_block"] == "0.0.0.0/0"]
    assert not [e for e in world for port in (22, 3389) if covers(e, port)]
    assert {e["protocol"] for e in world} == {"6"}, "only TCP from the internet"
    assert sorted((e["from_port"], e["to_port"]) for e in world) == [
        (80, 80), (443, 443), (1024, 3388), (3390, 65535)]
    (vpc,) = [e for e in acl["ingress"] if e["cidr_block"] != "0.0.0.0/0"]
    assert (vpc["cidr_block"], vpc["protocol"], vpc["rule_no"]) == ("10.0.0.0/16", "-1", 100)


def test_default_network_acl_keeps_the_return_paths_open(acl):
    world = [e for e in acl["ingress"] if e["cidr_block"] == "0.0.0.0/0"]
    # Replies to the NAT gateway (ports 1024-65535) and to the tasks (Linux
    # 32768-60999) from S3 through the gateway endpoint: every port but 3389.
    ephemeral = [p for p in range(1024, 65536) if not any(covers(e, p) for e in world)]
    assert ephemeral == [3389]
    assert acl["egress"] == [{"action": "allow", "cidr_block": "0.0.0.0/0", "from_port": 0,
                              "protocol": "-1", "rule_no": 100, "to_port": 0}]


def test_every_acl_entry_says_why_and_has_its_own_number():
    for table in (DEFAULT_ACL_INGRESS, DEFAULT_ACL_EGRESS):
        assert all(len(rule.why) >= 20 for rule in table)
        assert len({rule.rule_no for rule in table}) == len(table)


def test_app_security_group(net):
    group = one(net, "aws_security_group")
    assert group["name"] == "prod-app"
    assert "aws_vpc_security_group_ingress_rule" not in net["resource"]
    egress = sorted((r["from_port"], r["cidr_ipv4"])
                    for r in resources(net, "aws_vpc_security_group_egress_rule").values())
    assert egress == [(443, "0.0.0.0/0"), (3306, "10.0.32.0/19"), (3306, "10.0.64.0/19")]


def test_no_transit_gateway_by_default(net):
    assert "aws_ec2_transit_gateway" not in net["resource"]
    assert "aws_ec2_transit_gateway_vpc_attachment" not in net["resource"]


def test_ssm_parameters(net):
    assert set(published(net)) == {f"/prod/network/{n}" for n in (
        "vpc-id", "vpc-cidr", "public-subnet-ids", "private-subnet-ids", "s3-endpoint-id",
        "app-security-group-id", "flow-log-group-name")}


@pytest.fixture(scope="module")
def optional_network(tmp_path_factory):
    """The network stack built in-process with a Transit Gateway and a NAT per AZ."""
    import fast_synth

    fast_synth.enable()
    from cdktf import Testing

    from environments.prod import SETTINGS
    from stacks.app import build_app

    network = dataclasses.replace(SETTINGS.network, create_transit_gateway=True,
                                  multi_az_nat=True)
    # Testing.synth writes nothing, but the App still needs an outdir: not the repo.
    app, _ = build_app(dataclasses.replace(SETTINGS, network=network),
                       str(tmp_path_factory.mktemp("optional-network")), only=("kms", "network"))
    return json.loads(Testing.synth(app.node.find_child("network")))


def test_transit_gateway_and_per_az_nat_when_enabled(optional_network):
    tgw = one(optional_network, "aws_ec2_transit_gateway")
    assert tgw["auto_accept_shared_attachments"] == "disable"
    attachment = one(optional_network, "aws_ec2_transit_gateway_vpc_attachment")
    assert sorted(attachment["subnet_ids"]) == sorted(
        ref(f"aws_subnet.private-subnet-{az}") for az in PRIVATE.values())
    assert len(resources(optional_network, "aws_nat_gateway")) == 2
    routes = {r["route_table_id"]: r["nat_gateway_id"]
              for r in resources(optional_network, "aws_route").values() if "nat_gateway_id" in r}
    assert routes == {ref(f"aws_route_table.private-route-table-{az}"):
                      ref(f"aws_nat_gateway.nat-gateway-{az}") for az in PRIVATE.values()}
