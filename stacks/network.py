"""The environment's VPC as the reference draws it: subnets, IGW, NAT,
route tables, flow logs, the closed default security group and endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.default_network_acl import (
    DefaultNetworkAcl,
    DefaultNetworkAclEgress,
    DefaultNetworkAclIngress,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.ec2_transit_gateway import Ec2TransitGateway
from cdktf_cdktf_provider_aws.ec2_transit_gateway_vpc_attachment import (
    Ec2TransitGatewayVpcAttachment,
)
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.iam_role_policy import IamRoleWithPolicies, IamRoleWithPoliciesProps
from constructs_lib.policy_document import (
    EVERYONE,
    Condition,
    PolicyStatement,
    policy_document,
)
from constructs_lib.refs import KeyRef, VpcRef
from constructs_lib.security_group import EgressRule, SecurityGroup, SecurityGroupProps
from environments.settings import SubnetSettings
from stacks.base import BuildContext, GovernedStack
from stacks.spec import StackSpec

ANYWHERE = "0.0.0.0/0"
ALL_PROTOCOLS, TCP = "-1", "6"
VPC_CIDR = "vpc-cidr"
"""`AclRule.cidr` for the VPC's own range (`network.vpc_cidr` of the settings)."""
# Endpoint policies name every principal and narrow it by conditions: an
# endpoint policy cannot name the callers, only what their requests carry.


ECR_LAYER_BUCKET = "prod-{region}-starport-layer-bucket"
"""AWS's own bucket that ECR serves image layers from (ECR's VPC endpoint guide,
"Minimum Amazon S3 bucket permissions"); `prod` is part of AWS's name for it, not
one of our environments."""

@dataclass(frozen=True, kw_only=True)
class AclRule:
    """One allow entry of the default network ACL, and the traffic it is there for."""

    rule_no: int
    protocol: str
    """ALL_PROTOCOLS (ports 0-0) or TCP: numbers, as the API answers, so the state
    read back matches the configuration."""
    ports: tuple[int, int]
    """First and last port."""
    cidr: str
    """ANYWHERE, or VPC_CIDR."""
    why: str


# CIS 5.1: no ingress from 0.0.0.0/0 to 22 or 3389. A network ACL is stateless,
# so the ingress list also admits the replies to what is opened from inside, and
# everything it does not list is denied by the ACL's final `*` entry. Not listed,
# on purpose:
# - UDP: the Amazon DNS server, task metadata and Amazon Time Sync are never
#   filtered by an ACL, and nothing here speaks UDP to the internet;
# - ICMP "fragmentation needed" (path MTU discovery): every flow to the internet
#   is TCP with an MSS of at most 1460 on 1500-byte paths; add
#   `icmp`, type 3, code 4 from ANYWHERE if clients behind tunnels see stalls;
# - networks behind the transit gateway (when enabled) may answer connections
#   the VPC opens (the ephemeral rules), but opening connections into the VPC
#   takes an entry for their CIDR.
DEFAULT_ACL_INGRESS = (
    AclRule(rule_no=100, protocol=ALL_PROTOCOLS, ports=(0, 0), cidr=VPC_CIDR,
            why="between the subnets: the ALB to the tasks, the tasks to RDS, EFS and the "
                "Secrets Manager endpoint, the private subnets to the NAT gateway, and the "
                "replies to all of them"),
    AclRule(rule_no=110, protocol=TCP, ports=(443, 443), cidr=ANYWHERE,
            why="HTTPS to the public ALB (its security group narrows who may connect)"),
    AclRule(rule_no=120, protocol=TCP, ports=(80, 80), cidr=ANYWHERE,
            why="HTTP to the public ALB, which redirects it to HTTPS"),
    AclRule(rule_no=130, protocol=TCP, ports=(1024, 3388), cidr=ANYWHERE,
            why="replies from the internet to the NAT gateway (it translates to source ports "
                "1024-65535) and from S3 through the gateway endpoint to the tasks: below RDP"),
    AclRule(rule_no=140, protocol=TCP, ports=(3390, 65535), cidr=ANYWHERE,
            why="the same replies above RDP; 3389 stays closed, so the rare NAT connection "
                "that draws source port 3389 gets no reply and is retried by its client"),
)
DEFAULT_ACL_EGRESS = (
    AclRule(rule_no=100, protocol=ALL_PROTOCOLS, ports=(0, 0), cidr=ANYWHERE,
            why="replies of the ALB to its clients and every connection opened from inside; "
                "the security groups decide what may leave"),
)


class NetworkStack(GovernedStack):
    """VPC, two public and two private subnets, IGW, NAT, routes, flow logs,
    S3 gateway endpoint, the application security group; optional Transit Gateway."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        self.account_id = DataAwsCallerIdentity(self, "account").account_id
        self.partition = DataAwsPartition(self, "partition").partition
        self._vpc_and_subnets()
        self._closed_default_security_group()
        self._default_network_acl()
        self._public_routing()
        self._private_routing()
        self._s3_endpoint()
        self._flow_logs()
        self.app_security_group = self._app_security_group()
        if self.settings.network.create_transit_gateway:
            self._transit_gateway()
        self._publish_contract()

    def _vpc_and_subnets(self) -> None:
        net = self.settings.network
        self.vpc = Vpc(
            self, "vpc",
            cidr_block=net.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=self.tags.resource_tags(self.resource_name("vpc")),
        )
        # No public IPs on launch, even in public subnets: only the NAT gateway
        # (an Elastic IP) and the ALB (AWS-managed addresses) live there, so an
        # instance placed there by mistake must not become reachable (CKV_AWS_130).
        self.public_subnets = [self._subnet("public", s) for s in net.public_subnets]
        self.private_subnets = [self._subnet("private", s) for s in net.private_subnets]

    def _subnet(self, tier: str, setting: SubnetSettings) -> Subnet:
        az = setting.availability_zone
        return Subnet(
            self, f"{tier}-subnet-{az}",
            vpc_id=self.vpc.id,
            cidr_block=setting.cidr,
            availability_zone=az,
            map_public_ip_on_launch=False,
            tags=self.tags.resource_tags(self.resource_name(tier, az)),
        )

    def _closed_default_security_group(self) -> None:
        # Adopt the default security group and strip every rule: anything that
        # lands in it by accident can neither send nor receive.
        DefaultSecurityGroup(
            self, "default-security-group",
            vpc_id=self.vpc.id,
            tags=self.tags.resource_tags(self.resource_name("default-closed")),
        )

    def _default_network_acl(self) -> None:
        """Adopt the default network ACL, the one every subnet uses, with the
        entries of DEFAULT_ACL_INGRESS and DEFAULT_ACL_EGRESS in place of AWS's
        allow-all (the provider removes every entry it does not list). The
        stateful security groups stay the fine-grained control."""
        def cidr(rule: AclRule) -> str:
            return self.settings.network.vpc_cidr if rule.cidr == VPC_CIDR else rule.cidr

        self.default_network_acl = DefaultNetworkAcl(
            self, "default-network-acl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            # Listed, although every subnet is in it already: the provider plans
            # to remove (and never can) any member the configuration leaves out.
            subnet_ids=[s.id for s in (*self.public_subnets, *self.private_subnets)],
            ingress=[DefaultNetworkAclIngress(
                rule_no=r.rule_no, action="allow", protocol=r.protocol, from_port=r.ports[0],
                to_port=r.ports[1], cidr_block=cidr(r)) for r in DEFAULT_ACL_INGRESS],
            egress=[DefaultNetworkAclEgress(
                rule_no=r.rule_no, action="allow", protocol=r.protocol, from_port=r.ports[0],
                to_port=r.ports[1], cidr_block=cidr(r)) for r in DEFAULT_ACL_EGRESS],
            tags=self.tags.resource_tags(self.resource_name("default-acl")),
        )

    def _public_routing(self) -> None:
        """The internet gateway and the one route table all public subnets share."""
        self.internet_gateway = InternetGateway(
            self, "internet-gateway",
            vpc_id=self.vpc.id,
            tags=self.tags.resource_tags(self.resource_name("igw")),
        )
        public_routes = RouteTable(
            self, "public-route-table",
            vpc_id=self.vpc.id,
            tags=self.tags.resource_tags(self.resource_name("public")),
        )
        Route(self, "public-default-route", route_table_id=public_routes.id,
              destination_cidr_block=ANYWHERE, gateway_id=self.internet_gateway.id)
        for setting, subnet in zip(self.settings.network.public_subnets, self.public_subnets,
                                   strict=True):
            RouteTableAssociation(self, f"public-route-table-{setting.availability_zone}",
                                  subnet_id=subnet.id, route_table_id=public_routes.id)

    def _private_routing(self) -> None:
        """NAT gateways and a default route through them for each private subnet."""
        net = self.settings.network
        nat_by_az = self._nat_gateways(net.public_subnets)
        first_nat = next(iter(nat_by_az.values()))
        # One route table per private subnet, so switching multi_az_nat only
        # changes where the default route points, not the table addresses.
        self.private_route_tables = []
        for setting, subnet in zip(net.private_subnets, self.private_subnets, strict=True):
            az = setting.availability_zone
            table = RouteTable(
                self, f"private-route-table-{az}",
                vpc_id=self.vpc.id,
                tags=self.tags.resource_tags(self.resource_name("private", az)),
            )
            Route(self, f"private-default-route-{az}", route_table_id=table.id,
                  destination_cidr_block=ANYWHERE,
                  nat_gateway_id=nat_by_az.get(az, first_nat).id)
            RouteTableAssociation(self, f"private-route-table-{az}-association",
                                  subnet_id=subnet.id, route_table_id=table.id)
            self.private_route_tables.append(table)

    def _nat_gateways(self, public: tuple[SubnetSettings, ...]) -> dict[str, NatGateway]:
        """az -> NAT gateway: one in the first public subnet, or one per AZ."""
        placed = public if self.settings.network.multi_az_nat else public[:1]
        gateways: dict[str, NatGateway] = {}
        for setting, subnet in zip(placed, self.public_subnets, strict=False):
            az = setting.availability_zone
            eip = Eip(self, f"nat-eip-{az}", domain="vpc",
                      tags=self.tags.resource_tags(self.resource_name("nat", az)),
                      depends_on=[self.internet_gateway])
            gateways[az] = NatGateway(
                self, f"nat-gateway-{az}",
                allocation_id=eip.allocation_id,
                subnet_id=subnet.id,
                tags=self.tags.resource_tags(self.resource_name("nat", az)),
                depends_on=[self.internet_gateway],
            )
        return gateways

    def _s3_endpoint(self) -> None:
        # S3 traffic of the private subnets (ECR layers, state, logs) bypasses the NAT.
        account = (self.account_id,)
        layers = f"arn:{self.partition}:s3:::{ECR_LAYER_BUCKET.format(region=self.settings.region)}/*"
        self.s3_endpoint_policy = policy_document(self, "s3-endpoint-policy", (
            # Our principals on our buckets only: nothing in the VPC copies data
            # to another account's bucket or works with another account's keys.
            PolicyStatement(
                sid="OwnPrincipalsOnOwnBuckets", actions=("s3:*",), resources=("*",),
                principals=(EVERYONE,),
                conditions=(Condition(test="StringEquals", variable="aws:PrincipalAccount",
                                      values=account),
                            Condition(test="StringEquals", variable="aws:ResourceAccount",
                                      values=account))),
            # Fargate pulls ECR image layers from this AWS-owned bucket with URLs
            # ECR signs: neither the bucket nor the signer is ours (AWS's minimum
            # for ECR behind an S3 endpoint).
            PolicyStatement(sid="EcrImageLayers", actions=("s3:GetObject",),
                            resources=(layers,), principals=(EVERYONE,)),
        ))
        self.s3_endpoint = VpcEndpoint(
            self, "s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{self.settings.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in self.private_route_tables],
            policy=self.s3_endpoint_policy.json,
            tags=self.tags.resource_tags(self.resource_name("s3-endpoint")),
        )

    def _flow_logs(self) -> None:
        logs_key = KeyRef(arn=self.consume("kms", "logs-key-arn"))
        self.flow_log_group = CloudwatchLogGroup(self, "flow-log-group", CloudwatchLogGroupProps(
            name=f"/{self.settings.name}/network/vpc-flow-logs",
            tags=self.tags,
            kms_key=logs_key,
            retention_in_days=self.settings.network.flow_log_retention_days,
        ))
        group = self.flow_log_group.arn
        self.flow_log_role = IamRoleWithPolicies(self, "flow-log-role", IamRoleWithPoliciesProps(
            name=self.resource_name("vpc-flow-logs"),
            description="Lets VPC Flow Logs deliver to the flow log group",
            tags=self.tags,
            service_principals=("vpc-flow-logs.amazonaws.com",),
            # Only flow logs of this account may use the role (confused deputy).
            trust_conditions=(Condition(test="StringEquals", variable="aws:SourceAccount",
                                        values=(self.account_id,)),),
            inline_policies={"delivery": (
                PolicyStatement(
                    sid="DeliverToFlowLogGroup",
                    actions=("logs:CreateLogStream", "logs:DescribeLogStreams",
                             "logs:PutLogEvents"),
                    # Streams are `<group arn>:log-stream:<name>`, covered by `:*`.
                    resources=(group, f"{group}:*"),
                ),
            )},
        ))
        self.flow_log = FlowLog(
            self, "flow-log",
            vpc_id=self.vpc.id,
            iam_role_arn=self.flow_log_role.arn,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            tags=self.tags.resource_tags(self.resource_name("vpc-flow-logs")),
        )

    def _app_security_group(self) -> SecurityGroup:
        """The application tier (Atlantis tasks, rotation Lambda): nothing in
        (the load balancer's group is allowed in by the stack that owns it),
        HTTPS out to AWS APIs and GitHub through the NAT, and MySQL only to the
        private subnets where the database lives."""
        private_cidrs = tuple(s.cidr for s in self.settings.network.private_subnets)
        return SecurityGroup(self, "app-security-group", SecurityGroupProps(
            name=self.resource_name("app"),
            description="Application tier: no ingress, HTTPS out, MySQL to private subnets",
            vpc=VpcRef(vpc_id=self.vpc.id, cidr_block=self.vpc.cidr_block),
            tags=self.tags,
            egress=(
                EgressRule(from_port=443, to_port=443, cidr_blocks=(ANYWHERE,),
                           description="HTTPS to AWS APIs, ECR and GitHub"),
                EgressRule(from_port=3306, to_port=3306, cidr_blocks=private_cidrs,
                           description="MySQL to the database in the private subnets"),
            ),
        ))

    def _transit_gateway(self) -> None:
        self.transit_gateway = Ec2TransitGateway(
            self, "transit-gateway",
            description=f"Transit Gateway of the {self.settings.name} VPC",
            # Attachments shared from other accounts need an explicit accept (CKV_AWS_331).
            auto_accept_shared_attachments="disable",
            tags=self.tags.resource_tags(self.resource_name("tgw")),
        )
        Ec2TransitGatewayVpcAttachment(
            self, "transit-gateway-attachment",
            transit_gateway_id=self.transit_gateway.id,
            vpc_id=self.vpc.id,
            subnet_ids=[s.id for s in self.private_subnets],
            tags=self.tags.resource_tags(self.resource_name("tgw-attachment")),
        )
        self.publish("transit-gateway-id", self.transit_gateway.id,
                     "ID of the Transit Gateway (only when enabled in settings)")

    def _publish_contract(self) -> None:
        """What later stacks read; the transit gateway publishes its own id."""
        self.publish("vpc-id", self.vpc.id, f"ID of the {self.settings.name} VPC")
        self.publish("vpc-cidr", self.vpc.cidr_block, f"CIDR block of the {self.settings.name} VPC")
        self.publish_list("public-subnet-ids", [s.id for s in self.public_subnets],
                          "IDs of the public subnets, in settings order")
        self.publish_list("private-subnet-ids", [s.id for s in self.private_subnets],
                          "IDs of the private subnets, in settings order")
        self.publish("s3-endpoint-id", self.s3_endpoint.id, "ID of the S3 gateway endpoint")
        self.publish("app-security-group-id", self.app_security_group.id,
                     "ID of the application tier's security group (RDS admits 3306 from it)")
        self.publish("flow-log-group-name", self.flow_log_group.name,
                     "Name of the VPC flow log group")
