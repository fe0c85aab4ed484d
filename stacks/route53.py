"""The public hosted zone, its DNS query logging (in us-east-1, as Route 53
requires) and the health check of the Atlantis endpoint with its alarm."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_replica_key import KmsReplicaKey
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_query_log import Route53QueryLog
from cdktf_cdktf_provider_aws.route53_zone import Route53Zone
from constructs import Construct

from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.formats import KMS_DELETION_WINDOW_DAYS
from constructs_lib.kms_key import service_use_statements
from constructs_lib.metric_alarm import AlarmThresholdProps, MetricAlarm, MetricAlarmProps
from constructs_lib.policy_document import Condition, PolicyStatement, Principal, policy_document
from constructs_lib.refs import KeyRef
from stacks.base import GLOBAL_REGION, BuildContext, GovernedStack
from stacks.spec import StackSpec


class Route53Stack(GovernedStack):
    """Public zone `<domain>`, query logs to an encrypted us-east-1 log group,
    the Atlantis health check and its alarm."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        domain = self.settings.domain
        self.home = self.provider_in(GLOBAL_REGION)
        self.account_id = DataAwsCallerIdentity(self, "account").account_id
        self.partition = DataAwsPartition(self, "partition").partition

        self.zone = Route53Zone(
            self, "zone",
            name=domain,
            comment=f"Public zone of {domain}",
            tags=self.tags.resource_tags(self.resource_name("zone")),
            # Recreating the zone changes its name servers and breaks the delegation.
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self._query_logging(domain)

        self.publish("zone-id", self.zone.zone_id, f"ID of the public hosted zone {domain}")
        self.publish("zone-name", self.zone.name, "Name of the public hosted zone")
        # Only where the environment runs its own Atlantis server (atlantis stack).
        if self.settings.atlantis is not None:
            self.health_check = self._atlantis_health_check(domain)
            self.publish("atlantis-health-check-id", self.health_check.id,
                         "ID of the Route 53 health check of the Atlantis endpoint")

    def _arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"

    def _query_logging(self, domain: str) -> None:
        log_group_name = f"/aws/route53/{domain}"
        log_group_arn = self._arn("logs", GLOBAL_REGION, f"log-group:{log_group_name}")
        account_root = f"arn:{self.partition}:iam::{self.account_id}:root"
        root = (Principal(type="AWS", identifiers=(account_root,)),)

        # A replica of the multi-Region logs key: the log group needs a customer
        # key in its own Region. Replicas share the primary's rotation; their
        # policy is their own, so it names the us-east-1 logs service, for this
        # log group only (DescribeKey, which carries no encryption context, gets
        # a statement of its own from the KmsKey construct's helper).
        key_policy = policy_document(self, "query-log-key-policy", (
            PolicyStatement(sid="AccountAdministration", principals=root,
                            actions=("kms:*",), resources=("*",)),
            *service_use_statements(
                "QueryLogGroupUse", (f"logs.{GLOBAL_REGION}.amazonaws.com",),
                (Condition(test="ArnEquals", variable="kms:EncryptionContext:aws:logs:arn",
                           values=(log_group_arn,)),),
            ),
        ))
        self.query_log_key = KmsReplicaKey(
            self, "query-log-key",
            provider=self.home,
            primary_key_arn=self.consume("kms", "logs-key-arn"),
            description=f"Replica of the logs key for the Route 53 query logs of {domain}",
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS,
            policy=key_policy.json,
            tags=self.tags.resource_tags(self.resource_name("logs", GLOBAL_REGION)),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        KmsAlias(self, "query-log-key-alias", provider=self.home,
                 name=f"alias/{self.resource_name('logs')}",
                 target_key_id=self.query_log_key.key_id)

        self.query_log_group = CloudwatchLogGroup(self, "query-log-group", CloudwatchLogGroupProps(
            name=log_group_name,
            tags=self.tags,
            kms_key=KeyRef(arn=self.query_log_key.arn),
            retention_in_days=self.settings.log_retention_days,
            provider=self.home,
        ))

        # Route 53 writes as a service, so the log group needs a resource policy.
        # Log stream ARNs are the group ARN plus `:*` (the provider strips it from `arn`).
        writer = policy_document(self, "query-log-writer", (
            PolicyStatement(
                sid="Route53QueryLogs",
                principals=(Principal(type="Service", identifiers=("route53.amazonaws.com",)),),
                actions=("logs:CreateLogStream", "logs:PutLogEvents"),
                resources=(f"{self.query_log_group.arn}:*",),
                conditions=(
                    Condition(test="StringEquals", variable="aws:SourceAccount",
                              values=(self.account_id,)),
                    Condition(test="ArnLike", variable="aws:SourceArn", values=(self.zone.arn,)),
                ),
            ),
        ))
        policy = CloudwatchLogResourcePolicy(
            self, "query-log-writer-policy",
            provider=self.home,
            policy_name=self.resource_name("route53-query-logs"),
            policy_document=writer.json,
        )
        Route53QueryLog(
            self, "query-log",
            zone_id=self.zone.zone_id,
            cloudwatch_log_group_arn=self.query_log_group.arn,
            depends_on=[policy],
        )

    def _atlantis_health_check(self, domain: str) -> Route53HealthCheck:
        fqdn = f"atlantis.{domain}"
        check = Route53HealthCheck(
            self, "atlantis-health-check",
            type="HTTPS",
            fqdn=fqdn,
            port=443,
            resource_path="/healthz",
            enable_sni=True,
            failure_threshold=3,
            request_interval=30,
            # Latency graphs help tell a slow ALB from a dead task; this cannot
            # be switched on later without recreating the check.
            measure_latency=True,
            tags=self.tags.resource_tags(self.resource_name("atlantis-healthz")),
        )
        # No actions: the monitoring stack (deployed later) routes alarm state
        # changes to its topics by name prefix and severity. Health-check
        # metrics exist only in us-east-1, so the alarm lives there.
        alarm = MetricAlarm(self, "atlantis-health-alarm", MetricAlarmProps(
            alarm=AlarmThresholdProps(
                what="atlantis-health", severity="critical",
                namespace="AWS/Route53", metric_name="HealthCheckStatus",
                dimensions=("HealthCheckId",), comparison_operator="LessThanThreshold",
                threshold=1, statistic="Minimum", period=60, evaluation_periods=3,
                description=f"https://{fqdn}/healthz fails the Route 53 health check",
                treat_missing_data="breaching"),
            stack=self.name,
            tags=self.tags,
            dimension_values={"HealthCheckId": check.id},
            provider=self.home,
        ))
        # Kept as deployed before the MetricAlarm construct: the Name tag
        # without the severity and actions_enabled left to the provider's
        # default (true). Dropping these two lines aligns the alarm with the
        # construct (an in-place tag update, nothing else) in a reviewed
        # output change of its own.
        alarm.reset_actions_enabled()
        alarm.tags = self.tags.resource_tags(self.resource_name("route53", "atlantis-health"))
        return check
