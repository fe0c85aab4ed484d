"""The environment's MySQL database: the instance, its security group and its CloudWatch alarms."""

from __future__ import annotations

from dataclasses import replace

from constructs import Construct

from constructs_lib.metric_alarm import AlarmThresholdProps, MetricAlarm, MetricAlarmProps
from constructs_lib.rds import RdsInstance, RdsInstanceProps
from constructs_lib.refs import KeyRef, SecurityGroupRef, SubnetsRef, VpcRef
from constructs_lib.security_group import IngressRule, SecurityGroup, SecurityGroupProps
from stacks.base import BuildContext, GovernedStack
from stacks.spec import StackSpec

MYSQL_PORT = 3306
GIB = 1024**3
MIB = 1024**2


RDS = "AWS/RDS"
INSTANCE = ("DBInstanceIdentifier",)

# Over five-minute periods, with missing data not breaching (the defaults):
# metrics pause during reboots and Multi-AZ failovers, which is no resource
# shortage (availability is watched by RDS events). The description gets the
# instance name in front. No actions: the monitoring stack (phase 4) routes
# these to its topics by name and severity, so nothing points at a later stack.
ALARMS = (
    AlarmThresholdProps(
        what="cpu-high", severity="critical", namespace=RDS, metric_name="CPUUtilization",
        dimensions=INSTANCE, comparison_operator="GreaterThanThreshold", threshold=80,
        statistic="Average", evaluation_periods=3,
        description="CPU above 80 % for 15 minutes."),
    # Storage autoscaling grows the volume at 10 % free; this fires before
    # that (at 80 % of the initial 50 GiB), and again if the ceiling is reached.
    AlarmThresholdProps(
        what="free-storage-low", severity="warning", namespace=RDS,
        metric_name="FreeStorageSpace", dimensions=INSTANCE,
        comparison_operator="LessThanThreshold", threshold=10 * GIB,
        statistic="Minimum", evaluation_periods=1,
        description="less than 10 GiB of storage left; check storage autoscaling's ceiling."),
    AlarmThresholdProps(
        what="freeable-memory-low", severity="warning", namespace=RDS,
        metric_name="FreeableMemory", dimensions=INSTANCE,
        comparison_operator="LessThanThreshold", threshold=256 * MIB,
        statistic="Minimum", evaluation_periods=3,
        description="less than 256 MiB of freeable memory for 15 minutes."),
    # The default max_connections of a 4 GiB db.t3.medium is about 340
    # (DBInstanceClassMemory / 12582880); 200 leaves time to act.
    AlarmThresholdProps(
        what="connections-high", severity="warning", namespace=RDS,
        metric_name="DatabaseConnections", dimensions=INSTANCE,
        comparison_operator="GreaterThanThreshold", threshold=200,
        statistic="Maximum", evaluation_periods=3,
        description="more than 200 connections for 15 minutes (max_connections is about 340)."),
)


class RdsStack(GovernedStack):
    """MySQL 8.0 on db.t3.medium, Multi-AZ, in the private subnets, reachable
    only from the application security group; alarms routed by the monitoring stack."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        rds_key = KeyRef(arn=self.consume("kms", "rds-key-arn"))
        secrets_key = KeyRef(arn=self.consume("kms", "secrets-key-arn"))
        vpc = VpcRef(vpc_id=self.consume("network", "vpc-id"))
        private_subnets = SubnetsRef(ids=self.consume_list("network", "private-subnet-ids"))
        app_group = SecurityGroupRef(id=self.consume("network", "app-security-group-id"))

        name = self.resource_name("mysql")
        security_group = SecurityGroup(self, "security-group", SecurityGroupProps(
            name=self.resource_name("rds"),
            description=f"MySQL {name}: {MYSQL_PORT} from the application tier only",
            vpc=vpc,
            tags=self.tags,
            ingress=(IngressRule(
                from_port=MYSQL_PORT, to_port=MYSQL_PORT,
                description="MySQL from the application security group",
                source_security_group=app_group),),
            # No egress: the database never opens connections (RDS's own
            # monitoring and backups do not go through the instance's ENI).
        ))

        # The master user is the construct's default `dbmaster`, not RDS's
        # `admin` (Security Hub RDS.25). RDS fixes the name when it creates the
        # instance (ModifyDBInstance cannot change it, a restored snapshot keeps
        # its own), so on an instance created as `admin` Terraform plans a
        # replacement, and prevent_destroy stops that plan ("Instance cannot be
        # destroyed"): a new instance would start empty. Nothing goes into
        # address_changes: the address stays, and the ledger refuses a Replace
        # of an address still synthesized. An instance holding data moves as a
        # second RdsInstance under a new id, the data copied (mysqldump or DMS)
        # and the contracts published from it, then a Remove of the old one.
        database = self.settings.database
        self.database = RdsInstance(self, "mysql", RdsInstanceProps(
            name=name,
            tags=self.tags,
            kms_key=rds_key,
            performance_insights_kms_key=rds_key,
            master_user_secret_kms_key=secrets_key,
            subnets=private_subnets,
            security_groups=[security_group.ref],
            engine_version="8.0",
            instance_class=database.instance_class,
            allocated_storage=database.allocated_storage_gib,
            max_allocated_storage=database.max_allocated_storage_gib,
            enable_multi_az=database.multi_az,
            multi_az_off_reason=database.single_az_reason,
            backup_retention_period=7,
        ))

        for alarm in ALARMS:
            MetricAlarm(self, f"alarm-{alarm.what}", MetricAlarmProps(
                alarm=replace(alarm, description=f"{name}: {alarm.description}"),
                stack=self.name,
                tags=self.tags,
                dimension_values={"DBInstanceIdentifier": self.database.identifier},
            ))

        self.publish("db-instance-id", self.database.identifier,
                     f"Identifier of the {self.settings.name} MySQL instance")
        self.publish("db-endpoint", self.database.endpoint,
                     f"host:port of the {self.settings.name} MySQL instance")
        self.publish("db-address", self.database.address,
                     f"Host name of the {self.settings.name} MySQL instance")
        self.publish("db-master-secret-arn", self.database.master_user_secret_arn,
                     "ARN of the RDS-managed secret holding the master user's password")
        self.publish("db-security-group-id", security_group.id,
                     f"Security group of the {self.settings.name} MySQL instance")
