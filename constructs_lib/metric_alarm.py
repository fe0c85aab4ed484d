"""CloudWatch metric alarm named `<environment>-<stack>-<what>-<severity>`, and that
naming rule itself: the monitoring stack routes alarms to its topics by it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from constructs_lib.errors import Problems
from constructs_lib.formats import is_kebab
from constructs_lib.refs import TopicRef
from constructs_lib.tags import RequiredTags

SEVERITIES = ("critical", "warning", "info")
"""The last part of every alarm name; the monitoring stack has one topic per severity."""
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
"""The EventBridge detail-type of an alarm's state changes, which routing rules match."""
STATISTICS = ("Average", "Maximum", "Minimum", "SampleCount", "Sum")
COMPARISONS = ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
               "LessThanOrEqualToThreshold", "LessThanThreshold")
"""The static-threshold operators (the anomaly-band ones need a threshold metric)."""
TREAT_MISSING_DATA = ("breaching", "ignore", "missing", "notBreaching")
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
"""Periods below a minute CloudWatch accepts; longer ones are whole minutes."""
MAX_NAME = 255
MAX_DESCRIPTION = 1024


def stack_alarms_prefix(environment: str, stack: str) -> str:
    """`<environment>-<stack>-`: what every alarm name of `stack` starts with."""
    return f"{environment}-{stack}-"


def alarm_name(environment: str, stack: str, what: str, severity: str) -> str:
    """`<environment>-<stack>-<what>-<severity>`, the name `MetricAlarm` gives."""
    return f"{stack_alarms_prefix(environment, stack)}{what}-{severity}"


def severity_wildcard(environment: str, stack: str, severity: str) -> str:
    """An EventBridge `wildcard` matching every alarm name of `stack` with `severity`."""
    return f"{stack_alarms_prefix(environment, stack)}*-{severity}"


@dataclass(frozen=True, kw_only=True)
class MetricAlarmProps:
    alarm: AlarmThresholdProps
    """The metric, the threshold and the `what`/`severity` parts of the name."""
    stack: str
    """Name of the stack that owns the alarm (kebab-case): the second part of
    the name, by which the monitoring stack finds the alarm."""
    tags: RequiredTags
    """The 8 required tags (values validated), with `Name` set to the alarm name;
    its environment is the first part of the name."""
    dimension_values: Mapping[str, str] = field(default_factory=dict)
    """Dimension name -> value (tokens welcome), at least those `alarm.dimensions`
    names; only those are used, so a stack can hand every alarm all its values.
    Left empty: no values (then `alarm.dimensions` must be empty too)."""
    actions: tuple[TopicRef, ...] = ()
    """Topics told when the alarm goes to ALARM and back to OK. Left empty: no
    actions; the monitoring stack routes the alarm's state changes by name."""
    provider: TerraformProvider | None = None
    """The AWS provider (Region) the alarm lives in, e.g. us-east-1 for Route 53
    health checks. Left out: the stack's default provider."""


@dataclass(frozen=True, kw_only=True)
class AlarmThresholdProps:
    """What one alarm watches and when it fires; stacks list these as module
    constants and hand each to a `MetricAlarm` with the stack's values."""

    what: str
    """Kebab-case middle part of the name (`cpu-high`): what is wrong."""
    severity: str
    """One of `critical`, `warning`, `info`: the last part of the name, so
    the topic the monitoring stack routes the alarm to."""
    namespace: str
    """Metric namespace, e.g. `AWS/RDS`."""
    metric_name: str
    """Metric name, e.g. `CPUUtilization`."""
    comparison_operator: str
    """A static-threshold operator such as `GreaterThanThreshold`."""
    threshold: float
    """The value compared against the statistic."""
    statistic: str
    """One of `Average`, `Maximum`, `Minimum`, `SampleCount`, `Sum`."""
    evaluation_periods: int
    """Periods evaluated; every one of them must breach (datapoints to alarm)."""
    description: str
    """The alarm description as people read it in the notification."""
    dimensions: tuple[str, ...] = ()
    """Names of the dimensions the metric is read with; their values come from
    `MetricAlarmProps.dimension_values`. Left empty: the metric without dimensions."""
    period: int = 300
    """Seconds per period: 10, 20, 30 or whole minutes. Left out: five minutes."""
    treat_missing_data: str = "notBreaching"
    """What a period without data counts as (`breaching`, `ignore`, `missing`,
    `notBreaching`). Left out: not breaching."""


class MetricAlarm(CloudwatchMetricAlarm):
    """A threshold alarm on one CloudWatch metric, named
    `<environment>-<stack>-<what>-<severity>` so that the monitoring stack routes
    it; actions stay enabled.

    It is the alarm resource itself (a subclass, not a wrapper), so its Terraform
    address is `aws_cloudwatch_metric_alarm.<id>` in `scope`: the alarms the
    stacks wrote out before this construct existed kept their addresses and
    `//` paths when they adopted it.
    """

    def __init__(self, scope: Construct, id: str, props: MetricAlarmProps):
        _validate(props, f"{scope.node.path}/{id}")
        spec = props.alarm
        name = alarm_name(props.tags.environment, props.stack, spec.what, spec.severity)
        values = props.dimension_values
        topics = [topic.arn for topic in props.actions] or None
        super().__init__(
            scope, id,
            provider=props.provider,
            alarm_name=name,
            alarm_description=spec.description,
            namespace=spec.namespace,
            metric_name=spec.metric_name,
            dimensions={dimension: values[dimension] for dimension in spec.dimensions} or None,
            statistic=spec.statistic,
            period=spec.period,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.evaluation_periods,
            threshold=spec.threshold,
            comparison_operator=spec.comparison_operator,
            treat_missing_data=spec.treat_missing_data,
            # Explicit, so that switching the actions off shows in review (CKV_AWS_319).
            actions_enabled=True,
            alarm_actions=topics,
            ok_actions=topics,
            tags=props.tags.resource_tags(name),
        )
        # The name as a plain string: `alarm_name` reads back as a token.
        self.name = name
        self.props = props


def _validate(props: MetricAlarmProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    spec = props.alarm
    if not isinstance(spec, AlarmThresholdProps):
        problems.add("alarm", spec, "allowed is an AlarmThresholdProps")
        problems.raise_if_any()
    if not isinstance(props.stack, str) or not props.stack or not is_kebab(props.stack):
        problems.add("stack", props.stack, "allowed is the kebab-case name of a stack")
    if not isinstance(spec.what, str) or not spec.what or not is_kebab(spec.what):
        problems.add("alarm.what", spec.what, "allowed is a kebab-case name such as 'cpu-high'")
    if spec.severity not in SEVERITIES:
        problems.add("alarm.severity", spec.severity, f"allowed is one of {SEVERITIES}")
    name = alarm_name(props.tags.environment, props.stack, spec.what, spec.severity)
    if len(name) > MAX_NAME:
        problems.add("alarm.what", spec.what,
                     f"the alarm name {name!r} may have at most {MAX_NAME} characters")
    for attribute in ("namespace", "metric_name"):
        value = getattr(spec, attribute)
        if not isinstance(value, str) or not value.strip():
            problems.add(f"alarm.{attribute}", value, "allowed is a non-empty name")
    if spec.statistic not in STATISTICS:
        problems.add("alarm.statistic", spec.statistic, f"allowed is one of {STATISTICS}")
    if spec.comparison_operator not in COMPARISONS:
        problems.add("alarm.comparison_operator", spec.comparison_operator,
                     f"allowed is one of {COMPARISONS}")
    if isinstance(spec.threshold, bool) or not isinstance(spec.threshold, int | float):
        problems.add("alarm.threshold", spec.threshold, "allowed is a number")
    if not _is_period(spec.period):
        problems.add("alarm.period", spec.period,
                     f"allowed are {HIGH_RESOLUTION_PERIODS} or a multiple of 60 seconds")
    if isinstance(spec.evaluation_periods, bool) or not isinstance(spec.evaluation_periods, int) \
            or spec.evaluation_periods < 1:
        problems.add("alarm.evaluation_periods", spec.evaluation_periods,
                     "allowed is a whole number of at least 1")
    if spec.treat_missing_data not in TREAT_MISSING_DATA:
        problems.add("alarm.treat_missing_data", spec.treat_missing_data,
                     f"allowed is one of {TREAT_MISSING_DATA}")
    if not isinstance(spec.description, str) or not spec.description.strip():
        problems.add("alarm.description", spec.description,
                     "a description that tells the reader what is wrong is required")
    elif len(spec.description) > MAX_DESCRIPTION:
        problems.add("alarm.description", spec.description,
                     f"allowed are at most {MAX_DESCRIPTION} characters")
    values = props.dimension_values
    if not isinstance(spec.dimensions, tuple) or not all(
            isinstance(name, str) for name in spec.dimensions):
        problems.add("alarm.dimensions", spec.dimensions,
                     "allowed is a tuple of dimension names such as ('DBInstanceIdentifier',)")
        missing = []
    else:
        missing = [name for name in spec.dimensions if name not in values]
    if missing:
        problems.add("dimension_values", dict(values),
                     f"alarm.dimensions also names {', '.join(map(repr, missing))}, "
                     "which needs a value here")
    if not isinstance(props.actions, tuple):
        problems.add("actions", props.actions,
                     "allowed is a tuple of TopicRefs, e.g. `(topic.ref,)`")
    for topic in props.actions if isinstance(props.actions, tuple) else ():
        if not isinstance(topic, TopicRef):
            problems.add("actions", topic, "allowed are TopicRefs (e.g. `SnsTopic(...).ref`)")
    problems.raise_if_any()


def _is_period(period: object) -> bool:
    if isinstance(period, bool) or not isinstance(period, int) or period <= 0:
        return False
    return period in HIGH_RESOLUTION_PERIODS or period % 60 == 0
