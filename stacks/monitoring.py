"""Metrics and alerting: AMP and AMG workspaces, the three alert topics, platform
alarms, and EventBridge routing of earlier stacks' alarms to the topics."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import (
    CloudwatchEventTarget,
    CloudwatchEventTargetInputTransformer,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.grafana_workspace import GrafanaWorkspace
from cdktf_cdktf_provider_aws.prometheus_workspace import (
    PrometheusWorkspace,
    PrometheusWorkspaceLoggingConfiguration,
)
from constructs import Construct

from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.iam_role_policy import (
    Condition,
    IamRolePolicy,
    IamRolePolicyProps,
    PolicyStatement,
)
from constructs_lib.refs import KeyRef
from constructs_lib.sns import SnsTopic, SnsTopicProps
from stacks.base import GLOBAL_REGION, BuildContext, GovernedStack
from stacks.registry import STACKS, StackSpec

SEVERITIES = ("critical", "warning", "info")
"""One topic per severity; alarms end their names with one of them."""
GRAFANA_VERSION = "10.4"
"""Pinned so that plans do not drift when AWS changes the default."""
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


@dataclass(frozen=True, kw_only=True)
class Alarm:
    """One threshold alarm of this stack on a metric of the Atlantis service."""

    what: str
    severity: str
    namespace: str
    metric: str
    dimensions: tuple[str, ...]
    """Which of LoadBalancer, TargetGroup, ClusterName, ServiceName apply."""
    comparison: str
    threshold: float
    statistic: str
    period: int
    periods: int
    description: str
    treat_missing_data: str = "notBreaching"


# Names are `<env>-monitoring-<what>-<severity>` like the other stacks' alarms;
# these carry their actions directly (the topics are in this stack).
ALARMS = (
    # Atlantis runs a single task: no healthy target means Atlantis is down.
    Alarm(what="atlantis-healthy-hosts-low", severity="critical",
          namespace="AWS/ApplicationELB", metric="HealthyHostCount",
          dimensions=("LoadBalancer", "TargetGroup"), comparison="LessThanThreshold",
          threshold=1, statistic="Minimum", period=60, periods=3,
          description="no healthy Atlantis target behind the ALB for 3 minutes",
          treat_missing_data="breaching"),
    Alarm(what="atlantis-unhealthy-hosts", severity="warning",
          namespace="AWS/ApplicationELB", metric="UnHealthyHostCount",
          dimensions=("LoadBalancer", "TargetGroup"), comparison="GreaterThanOrEqualToThreshold",
          threshold=1, statistic="Maximum", period=60, periods=5,
          description="an Atlantis target failed its health checks for 5 minutes"),
    Alarm(what="atlantis-alb-5xx", severity="critical",
          namespace="AWS/ApplicationELB", metric="HTTPCode_ELB_5XX_Count",
          dimensions=("LoadBalancer",), comparison="GreaterThanThreshold",
          threshold=10, statistic="Sum", period=300, periods=1,
          description="the Atlantis ALB answered more than 10 requests with 5xx in 5 minutes"),
    Alarm(what="atlantis-target-5xx", severity="warning",
          namespace="AWS/ApplicationELB", metric="HTTPCode_Target_5XX_Count",
          dimensions=("LoadBalancer", "TargetGroup"), comparison="GreaterThanThreshold",
          threshold=10, statistic="Sum", period=300, periods=1,
          description="Atlantis answered more than 10 requests with 5xx in 5 minutes"),
    Alarm(what="atlantis-cpu-high", severity="warning",
          namespace="AWS/ECS", metric="CPUUtilization",
          dimensions=("ClusterName", "ServiceName"), comparison="GreaterThanThreshold",
          threshold=80, statistic="Average", period=300, periods=3,
          description="Atlantis service CPU above 80 % for 15 minutes"),
    # Memory at the limit gets the task killed (OOM), hence critical.
    Alarm(what="atlantis-memory-high", severity="critical",
          namespace="AWS/ECS", metric="MemoryUtilization",
          dimensions=("ClusterName", "ServiceName"), comparison="GreaterThanThreshold",
          threshold=90, statistic="Average", period=300, periods=2,
          description="Atlantis service memory above 90 % for 10 minutes"),
)

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
    the Atlantis alarms, and the rules routing alarms of earlier stacks."""

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
        self.grafana_role = IamRolePolicy(self, "grafana-role", IamRolePolicyProps(
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
        dimension_values = {
            "LoadBalancer": self.consume("atlantis", "alb-arn-suffix"),
            "TargetGroup": self.consume("atlantis", "target-group-arn-suffix"),
            "ClusterName": self.consume("atlantis", "ecs-cluster-name"),
            "ServiceName": self.consume("atlantis", "ecs-service-name"),
        }
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        for alarm in ALARMS:
            alarm_name = self.resource_name("monitoring", alarm.what, alarm.severity)
            topic = self.topics[alarm.severity].arn
            self.alarms[alarm.what] = CloudwatchMetricAlarm(
                self, f"alarm-{alarm.what}",
                alarm_name=alarm_name,
                alarm_description=f"{alarm.description}.",
                namespace=alarm.namespace,
                metric_name=alarm.metric,
                dimensions={d: dimension_values[d] for d in alarm.dimensions},
                statistic=alarm.statistic,
                period=alarm.period,
                evaluation_periods=alarm.periods,
                datapoints_to_alarm=alarm.periods,
                threshold=alarm.threshold,
                comparison_operator=alarm.comparison,
                treat_missing_data=alarm.treat_missing_data,
                actions_enabled=True,
                alarm_actions=[topic],
                ok_actions=[topic],
                tags=self.tags.resource_tags(alarm_name),
            )

    # --- routing of earlier stacks' alarms ------------------------------------
    def _earlier_alarm_names(self, severity: str) -> list[dict]:
        """`<env>-<stack>-*-<severity>` for every stack of an earlier phase:
        the alarm naming rule, so new alarms there are routed without a change here."""
        return [{"wildcard": f"{self.resource_name(spec.name)}-*-{severity}"}
                for spec in self._earlier_stacks()]

    def _earlier_stacks(self) -> list[StackSpec]:
        return [spec for spec in STACKS if spec.phase.number < self.spec.phase.number]

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

    def _forward_route53_alarms(self) -> None:
        """Route 53 health-check alarms live in us-east-1 and their state changes
        reach only that Region's default bus: forward them to this Region's
        default bus, where the routing rules above match them."""
        global_provider = self.provider_in(GLOBAL_REGION)
        if global_provider is self.provider:
            return
        home_bus = (f"arn:{self.partition}:events:{self.settings.region}:{self.account_id}"
                    ":event-bus/default")
        name = self.resource_name("alarms", "forward")
        role = IamRolePolicy(self, "alarms-forward-role", IamRolePolicyProps(
            name=name,
            tags=self.tags,
            description=(f"Lets EventBridge in {GLOBAL_REGION} forward alarm state "
                         f"changes to the default bus in {self.settings.region}"),
            service_principals=("events.amazonaws.com",),
            trust_conditions=(Condition(test="StringEquals", variable="aws:SourceAccount",
                                        values=(self.account_id,)),),
            inline_policies={"put-events": (
                PolicyStatement(actions=("events:PutEvents",), resources=(home_bus,)),
            )},
        ))
        # Prefixes are enough here: the home rules pick the severity.
        pattern = {
            "source": ["aws.cloudwatch"],
            "detail-type": [ALARM_STATE_CHANGE],
            "detail": {"alarmName": [{"prefix": f"{self.resource_name(spec.name)}-"}
                                     for spec in self._earlier_stacks()]},
        }
        self.forward_rule = CloudwatchEventRule(
            self, "forward-alarms",
            provider=global_provider,
            name=name,
            description=f"Alarms of earlier stacks in {GLOBAL_REGION} -> "
                        f"default bus in {self.settings.region}",
            event_pattern=json.dumps(pattern, sort_keys=True),
            tags=self.tags.resource_tags(name),
        )
        CloudwatchEventTarget(
            self, "forward-alarms-bus",
            provider=global_provider,
            rule=self.forward_rule.name,
            target_id="home-region-bus",
            arn=home_bus,
            role_arn=role.arn,
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
