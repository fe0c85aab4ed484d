"""The production VPC exactly as the reference draws it: subnets, IGW, NAT,
route tables, flow logs, the closed default security group and endpoints."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
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
from constructs_lib.policy_document import Condition, PolicyStatement
from constructs_lib.refs import KeyRef, VpcRef
from constructs_lib.security_group import EgressRule, SecurityGroup, SecurityGroupProps
from environments.settings import SubnetSettings
from stacks.base import BuildContext, GovernedStack
from stacks.spec import StackSpec

ANYWHERE = "0.0.0.0/0"


class NetworkStack(GovernedStack):
    """VPC, two public and two private subnets, IGW, NAT, routes, flow logs,
    S3 gateway endpoint, the application security group; optional Transit Gateway."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        self.account_id = DataAwsCallerIdentity(self, "account").account_id
        self._vpc_and_subnets()
        self._closed_default_security_group()
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
        # The default network ACL is left as AWS creates it (allow all): the
        # stateful security groups are the control; a stateless deny list here
        # would have to re-open the ephemeral ports the NAT return path needs.

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
        self.s3_endpoint = VpcEndpoint(
            self, "s3-endpoint",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{self.settings.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[t.id for t in self.private_route_tables],
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
            description="Transit Gateway of the production VPC",
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
        self.publish("vpc-id", self.vpc.id, "ID of the production VPC")
        self.publish("vpc-cidr", self.vpc.cidr_block, "CIDR block of the production VPC")
        self.publish_list("public-subnet-ids", [s.id for s in self.public_subnets],
                          "IDs of the public subnets, in settings order")
        self.publish_list("private-subnet-ids", [s.id for s in self.private_subnets],
                          "IDs of the private subnets, in settings order")
        self.publish("s3-endpoint-id", self.s3_endpoint.id, "ID of the S3 gateway endpoint")
        self.publish("app-security-group-id", self.app_security_group.id,
                     "ID of the application tier's security group (RDS admits 3306 from it)")
        self.publish("flow-log-group-name", self.flow_log_group.name,
                     "Name of the VPC flow log group")
