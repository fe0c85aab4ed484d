"""Metrics and alerting: AMP and AMG workspaces, the three alert topics, platform
alarms, and EventBridge routing of earlier stacks' alarms and of the database's
RDS events to the topics."""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
)
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.grafana_workspace import GrafanaWorkspace
from cdktf_cdktf_provider_aws.prometheus_workspace import (
    PrometheusWorkspace,
    PrometheusWorkspaceLoggingConfiguration,
)
from constructs import Construct

from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.event_forwarder import EventForwarder, EventForwarderProps, ForwardRuleProps
from constructs_lib.iam_role_policy import (
    Condition,
    IamRoleWithPolicies,
    IamRoleWithPoliciesProps,
    PolicyStatement,
)
from constructs_lib.metric_alarm import (
    ALARM_STATE_CHANGE,
    SEVERITIES,
    AlarmThresholdProps,
    MetricAlarm,
    MetricAlarmProps,
    severity_wildcard,
    stack_alarms_prefix,
)
from constructs_lib.refs import KeyRef
from constructs_lib.sns import SnsTopic, SnsTopicProps
from stacks.base import GLOBAL_REGION, BuildContext, GovernedStack
from stacks.spec import StackSpec

GRAFANA_VERSION = "10.4"
"""Pinned so that plans do not drift when AWS changes the default."""

# On metrics of the Atlantis service; dimensions are among LoadBalancer,
# TargetGroup, ClusterName and ServiceName. Unlike the earlier stacks' alarms
# these carry their actions directly (the topics are in this stack).
ALARMS = (
    # Atlantis runs a single task: no healthy target means Atlantis is down.
    AlarmThresholdProps(
        what="atlantis-healthy-hosts-low", severity="critical",
        namespace="AWS/ApplicationELB", metric_name="HealthyHostCount",
        dimensions=("LoadBalancer", "TargetGroup"), comparison_operator="LessThanThreshold",
        threshold=1, statistic="Minimum", period=60, evaluation_periods=3,
        description="no healthy Atlantis target behind the ALB for 3 minutes.",
        treat_missing_data="breaching"),
    AlarmThresholdProps(
        what="atlantis-unhealthy-hosts", severity="warning",
        namespace="AWS/ApplicationELB", metric_name="UnHealthyHostCount",
        dimensions=("LoadBalancer", "TargetGroup"),
        comparison_operator="GreaterThanOrEqualToThreshold",
        threshold=1, statistic="Maximum", period=60, evaluation_periods=5,
        description="an Atlantis target failed its health checks for 5 minutes."),
    AlarmThresholdProps(
        what="atlantis-alb-5xx", severity="critical",
        namespace="AWS/ApplicationELB", metric_name="HTTPCode_ELB_5XX_Count",
        dimensions=("LoadBalancer",), comparison_operator="GreaterThanThreshold",
        threshold=10, statistic="Sum", evaluation_periods=1,
        description="the Atlantis ALB answered more than 10 requests with 5xx in 5 minutes."),
    AlarmThresholdProps(
        what="atlantis-target-5xx", severity="warning",
        namespace="AWS/ApplicationELB", metric_name="HTTPCode_Target_5XX_Count",
        dimensions=("LoadBalancer", "TargetGroup"), comparison_operator="GreaterThanThreshold",
        threshold=10, statistic="Sum", evaluation_periods=1,
        description="Atlantis answered more than 10 requests with 5xx in 5 minutes."),
    AlarmThresholdProps(
        what="atlantis-cpu-high", severity="warning",
        namespace="AWS/ECS", metric_name="CPUUtilization",
        dimensions=("ClusterName", "ServiceName"), comparison_operator="GreaterThanThreshold",
        threshold=80, statistic="Average", evaluation_periods=3,
        description="Atlantis service CPU above 80 % for 15 minutes."),
    # Memory at the limit gets the task killed (OOM), hence critical.
    AlarmThresholdProps(
        what="atlantis-memory-high", severity="critical",
        namespace="AWS/ECS", metric_name="MemoryUtilization",
        dimensions=("ClusterName", "ServiceName"), comparison_operator="GreaterThanThreshold",
        threshold=90, statistic="Average", evaluation_periods=2,
        description="Atlantis service memory above 90 % for 10 minutes."),
)

# The database's RDS events by the topic that gets them. RDS puts them on the
# default bus by itself, so unlike an RDS event subscription (which would name a
# topic of this later stack from the rds stack) nothing points the wrong way.
RDS_INSTANCE_EVENT = "RDS DB Instance Event"
"""The EventBridge detail-type of an RDS DB instance's events."""
RDS_EVENT_CATEGORIES = {
    # Down, switched to the standby, or running out of storage: act now.
    "critical": ("failover", "failure", "low storage"),
    # Planned work and notices (patches, reboots, a stopped instance).
    "warning": ("maintenance", "notification"),
}

# Read-only CloudWatch and Logs Insights access for Grafana's CloudWatch data
# source (the AmazonGrafanaCloudWatchAccess policy of the AMG documentation),
# split by what each action can be limited to.
CLOUDWATCH_READ = (  # no resource-level permissions
    "cloudwatch:DescribeAlarmsForMetric", "cloudwatch:GetMetricData", "cloudwatch:ListMetrics",
    "ec2:DescribeInstances", "ec2:DescribeRegions", "ec2:DescribeTags",
    "logs:DescribeLogGroups", "logs:StopQuery", "tag:GetResources",
)
ALARM_READ = ("cloudwatch:DescribeAlarmHistory", "cloudwatch:DescribeAlarms")
INSIGHT_READ = ("cloudwatch:GetInsightRuleReport",)
LOGS_READ = ("logs:GetLogEvents", "logs:GetLogGroupFields", "logs:GetQueryResults",
             "logs:StartQuery")
PROMETHEUS_QUERY = (
    "aps:DescribeWorkspace", "aps:GetLabels", "aps:GetMetricMetadata", "aps:GetSeries",
    "aps:QueryMetrics",
)


class MonitoringStack(GovernedStack):
    """AMP `<env>-amp`, AMG `<env>-grafana`, topics `<env>-alerts-<severity>`,
    the Atlantis alarms, and the rules routing alarms of earlier stacks and the
    database's RDS events."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        self.monitoring_key = KeyRef(arn=self.consume("kms", "monitoring-key-arn"))
        self.logs_key = KeyRef(arn=self.consume("kms", "logs-key-arn"))
        self.sns_key = KeyRef(arn=self.consume("kms", "sns-key-arn"))
        self.account_id = DataAwsCallerIdentity(self, "account").account_id
        self.partition = DataAwsPartition(self, "partition").partition

        self.topics = self._topics()
        self._prometheus()
        self._grafana()
        self._alarms()
        self._route_earlier_alarms()
        self._route_rds_events()

        for severity, topic in self.topics.items():
            self.publish(f"{severity}-topic-arn", topic.arn, f"SNS topic for {severity} alerts")
        self.publish("prometheus-workspace-id", self.prometheus.id,
                     "ID of the Amazon Managed Prometheus workspace")
        self.publish("prometheus-endpoint", self.prometheus.prometheus_endpoint,
                     "Remote-write/query endpoint of the Prometheus workspace")
        self.publish("grafana-workspace-endpoint", self.grafana.endpoint,
                     "URL of the Amazon Managed Grafana workspace")

    # --- topics ---------------------------------------------------------------
    def _topics(self) -> dict[str, SnsTopic]:
        email = self.settings.alarm_email
        return {
            severity: SnsTopic(self, f"{severity}-topic", SnsTopicProps(
                name=self.resource_name("alerts", severity),
                tags=self.tags,
                kms_key=self.sns_key,
                # Alarms publish directly; EventBridge publishes routed alarms.
                publisher_services=("cloudwatch.amazonaws.com", "events.amazonaws.com"),
                # Only critical alerts page a human by mail; the others are
                # for dashboards and chat integrations subscribed later.
                email_subscriptions=(email,) if severity == "critical" and email else (),
                account_id=self.account_id,
                partition=self.partition,
            ))
            for severity in SEVERITIES
        }

    # --- AMP, AMG -------------------------------------------------------------
    def _prometheus(self) -> None:
        alias = self.resource_name("amp")
        # AMP's vended logs need a log group under /aws/vendedlogs/.
        self.prometheus_log_group = CloudwatchLogGroup(
            self, "prometheus-log-group", CloudwatchLogGroupProps(
                name=f"/aws/vendedlogs/prometheus/{alias}",
                tags=self.tags,
                kms_key=self.logs_key,
                retention_in_days=self.settings.log_retention_days,
            ))
        self.prometheus = PrometheusWorkspace(
            self, "prometheus",
            alias=alias,
            kms_key_arn=self.monitoring_key.arn,
            logging_configuration=PrometheusWorkspaceLoggingConfiguration(
                # AMP wants the log-stream wildcard on the group ARN.
                log_group_arn=f"{self.prometheus_log_group.arn}:*"),
            tags=self.tags.resource_tags(alias),
        )

    def _grafana(self) -> None:
        name = self.resource_name("grafana")
        region = self.settings.region
        arn_prefix = f"arn:{self.partition}"
        workspaces = f"{arn_prefix}:grafana:{region}:{self.account_id}:/workspaces/*"
        log_groups = f"{arn_prefix}:logs:{region}:{self.account_id}:log-group:*"
        cloudwatch = f"{arn_prefix}:cloudwatch:{region}:{self.account_id}"
        self.grafana_role = IamRoleWithPolicies(self, "grafana-role", IamRoleWithPoliciesProps(
            name=name,
            tags=self.tags,
            description="Lets the Grafana workspace read Prometheus and CloudWatch",
            service_principals=("grafana.amazonaws.com",),
            # Only Grafana workspaces of this account may assume the role.
            trust_conditions=(
                Condition(test="StringEquals", variable="aws:SourceAccount",
                          values=(self.account_id,)),
                Condition(test="ArnLike", variable="aws:SourceArn",
                          values=(workspaces,)),
            ),
            inline_policies={
                "prometheus-query": (
                    # Listing has no resource-level permission; everything
                    # else is limited to this stack's workspace.
                    PolicyStatement(actions=("aps:ListWorkspaces",), resources=("*",)),
                    PolicyStatement(actions=PROMETHEUS_QUERY, resources=(self.prometheus.arn,)),
                ),
                "cloudwatch-read": (
                    PolicyStatement(actions=CLOUDWATCH_READ, resources=("*",)),
                    PolicyStatement(actions=ALARM_READ, resources=(f"{cloudwatch}:alarm:*",)),
                    PolicyStatement(actions=INSIGHT_READ,
                                    resources=(f"{cloudwatch}:insight-rule/*",)),
                    PolicyStatement(actions=LOGS_READ, resources=(log_groups,)),
                ),
            },
        ))
        self.grafana = GrafanaWorkspace(
            self, "grafana",
            name=name,
            description="Dashboards over the Prometheus workspace and CloudWatch",
            account_access_type="CURRENT_ACCOUNT",
            authentication_providers=["AWS_SSO"],
            # Our own least-privilege role instead of the AWS-managed policies.
            permission_type="CUSTOMER_MANAGED",
            role_arn=self.grafana_role.arn,
            data_sources=["CLOUDWATCH", "PROMETHEUS"],
            grafana_version=GRAFANA_VERSION,
            tags=self.tags.resource_tags(name),
            depends_on=list(self.grafana_role.policies.values()),
        )

    # --- alarms ---------------------------------------------------------------
    def _alarms(self) -> None:
        self.alarms: dict[str, MetricAlarm] = {}
        if self.settings.atlantis is None:
            return  # no Atlantis server of this environment's own to watch
        dimension_values = {
            "LoadBalancer": self.consume("atlantis", "alb-arn-suffix"),
            "TargetGroup": self.consume("atlantis", "target-group-arn-suffix"),
            "ClusterName": self.consume("atlantis", "ecs-cluster-name"),
            "ServiceName": self.consume("atlantis", "ecs-service-name"),
        }
        for alarm in ALARMS:
            self.alarms[alarm.what] = MetricAlarm(self, f"alarm-{alarm.what}", MetricAlarmProps(
                alarm=alarm,
                stack=self.name,
                tags=self.tags,
                dimension_values=dimension_values,
                actions=(self.topics[alarm.severity].ref,),
            ))

    # --- routing of earlier stacks' alarms ------------------------------------
    def _earlier_alarm_names(self, severity: str) -> list[dict]:
        """`<env>-<stack>-*-<severity>` for every stack of an earlier phase:
        the alarm naming rule, so new alarms there are routed without a change here."""
        return [{"wildcard": severity_wildcard(self.tags.environment, spec.name, severity)}
                for spec in self._earlier_stacks()]

    def _earlier_stacks(self) -> list[StackSpec]:
        return [spec for spec in self.graph.stacks if spec.phase.number < self.spec.phase.number]

    def _route_earlier_alarms(self) -> None:
        """Alarms of phases 1-3 carry no actions (the topics are deployed later);
        EventBridge sends their state changes here by name."""
        self.routing_rules: dict[str, CloudwatchEventRule] = {}
        for severity in SEVERITIES:
            name = self.resource_name("alarms", severity)
            rule = CloudwatchEventRule(
                self, f"route-{severity}",
                name=name,
                description=f"Alarms of earlier stacks named *-{severity} -> {severity} topic",
                event_pattern=json.dumps(self._alarm_pattern(severity), sort_keys=True),
                tags=self.tags.resource_tags(name),
            )
            CloudwatchEventTarget(
                self, f"route-{severity}-topic",
                rule=rule.name,
                target_id=f"alerts-{severity}",
                arn=self.topics[severity].arn,
                input_transformer=_alarm_message(),
            )
            self.routing_rules[severity] = rule
        self._forward_route53_alarms()

    def _alarm_pattern(self, severity: str) -> dict:
        return {
            "source": ["aws.cloudwatch"],
            "detail-type": [ALARM_STATE_CHANGE],
            "detail": {
                "alarmName": self._earlier_alarm_names(severity),
                # Into ALARM, and back to OK from ALARM (not OK after creation).
                "$or": [
                    {"state": {"value": ["ALARM"]}},
                    {"state": {"value": ["OK"]}, "previousState": {"value": ["ALARM"]}},
                ],
            },
        }

    # --- RDS events ------------------------------------------------------------
    def _route_rds_events(self) -> None:
        """Events of the rds stack's instance (by the identifier it publishes),
        one rule per topic."""
        instance = self.consume("rds", "db-instance-id")
        self.rds_event_rules: dict[str, CloudwatchEventRule] = {}
        for severity, categories in RDS_EVENT_CATEGORIES.items():
            name = self.resource_name("rds-events", severity)
            rule = CloudwatchEventRule(
                self, f"rds-events-{severity}",
                name=name,
                description=f"RDS events of the database ({', '.join(categories)}) -> "
                            f"{severity} topic",
                event_pattern=json.dumps(_rds_event_pattern(instance, categories),
                                         sort_keys=True),
                tags=self.tags.resource_tags(name),
            )
            CloudwatchEventTarget(
                self, f"rds-events-{severity}-topic",
                rule=rule.name,
                target_id=f"alerts-{severity}",
                arn=self.topics[severity].arn,
                input_transformer=_rds_event_message(),
            )
            self.rds_event_rules[severity] = rule

    def _forward_route53_alarms(self) -> None:
        """Route 53 health-check alarms live in us-east-1 and their state changes
        reach only that Region's default bus: forward them to this Region's
        default bus, where the routing rules above match them."""
        global_provider = self.provider_in(GLOBAL_REGION)
        if global_provider is self.provider:
            return
        name = self.resource_name("alarms", "forward")
        forwarder = EventForwarder(self, "alarms-forward", EventForwarderProps(
            name=name,
            tags=self.tags,
            events="alarm state changes",
            source_provider=global_provider,
            home_region=self.settings.region,
            account_id=self.account_id,
            partition=self.partition,
        ))
        # Prefixes are enough here: the home rules pick the severity.
        pattern = {
            "source": ["aws.cloudwatch"],
            "detail-type": [ALARM_STATE_CHANGE],
            "detail": {"alarmName": [
                {"prefix": stack_alarms_prefix(self.tags.environment, spec.name)}
                for spec in self._earlier_stacks()]},
        }
        self.forward_rule = forwarder.forward("forward-alarms", ForwardRuleProps(
            name=name,
            description=f"Alarms of earlier stacks in {GLOBAL_REGION} -> "
                        f"default bus in {self.settings.region}",
            pattern=pattern,
        ))


def _rds_event_pattern(instance: str, categories: tuple[str, ...]) -> dict:
    """Events of the DB instance `instance` in any of `categories` (an event
    lists its categories; one in common matches)."""
    return {
        "source": ["aws.rds"],
        "detail-type": [RDS_INSTANCE_EVENT],
        "detail": {"SourceIdentifier": [instance], "EventCategories": list(categories)},
    }


def _rds_event_message() -> CloudwatchEventTargetInputTransformer:
    """One line naming the instance, what happened and the RDS event id."""
    return CloudwatchEventTargetInputTransformer(
        input_paths={
            "instance": "$.detail.SourceIdentifier",
            "event": "$.detail.EventID",
            "message": "$.detail.Message",
            "region": "$.region",
            "time": "$.time",
        },
        input_template=json.dumps("RDS <instance> in <region> at <time>: <message> (<event>)"),
    )


def _alarm_message() -> CloudwatchEventTargetInputTransformer:
    """A readable one-line message instead of the raw event JSON."""
    return CloudwatchEventTargetInputTransformer(
        input_paths={
            "alarm": "$.detail.alarmName",
            "state": "$.detail.state.value",
            "reason": "$.detail.state.reason",
            "region": "$.region",
            "time": "$.time",
        },
        input_template=json.dumps("<alarm> is <state> in <region> at <time>: <reason>"),
    )
