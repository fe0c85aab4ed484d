"""Central CloudWatch log groups (application, infrastructure, security), encrypted
with the logs key, each with the retention that fits what it holds."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.refs import KeyRef
from stacks.base import BuildContext, GovernedStack
from stacks.spec import StackSpec

APPLICATION_RETENTION_DAYS = 90
"""Application logs serve debugging and incident follow-up; a quarter covers
both, and the reference asks to shorten log retention nobody needs."""
SECURITY_RETENTION_DAYS = 731
"""Security logs are audit evidence: investigations look back beyond a year,
so two years (at least the environment's default)."""


@dataclass(frozen=True, kw_only=True)
class CentralLogGroup:
    """One central log group: its purpose (the last path segment and the SSM
    name prefix), its retention, and why a retention below a year is enough."""

    purpose: str
    retention_in_days: int
    short_retention_reason: str | None = None


class LoggingStack(GovernedStack):
    """Three central log groups `/<env>/central/<purpose>`; names and ARNs go to
    SSM as `<purpose>-log-group-name` / `<purpose>-log-group-arn`."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        logs_key = KeyRef(arn=self.consume("kms", "logs-key-arn"))
        default_days = self.settings.log_retention_days
        groups = (
            CentralLogGroup(
                purpose="application",
                retention_in_days=APPLICATION_RETENTION_DAYS,
                short_retention_reason=(
                    "application logs are operational (debugging, incident follow-up) and "
                    "lose their value after a quarter; audit evidence is kept in the "
                    "security log group and CloudTrail"),
            ),
            # Infrastructure logs (load balancers, ECS, network) follow the
            # environment's default, at least a year.
            CentralLogGroup(purpose="infrastructure", retention_in_days=default_days),
            CentralLogGroup(purpose="security",
                            retention_in_days=max(default_days, SECURITY_RETENTION_DAYS)),
        )
        self.log_groups: dict[str, CloudwatchLogGroup] = {}
        for group in groups:
            log_group = CloudwatchLogGroup(self, f"{group.purpose}-log-group", CloudwatchLogGroupProps(
                name=f"/{self.settings.name}/central/{group.purpose}",
                tags=self.tags,
                kms_key=logs_key,
                retention_in_days=group.retention_in_days,
                short_retention_reason=group.short_retention_reason,
            ))
            self.log_groups[group.purpose] = log_group
            self.publish(f"{group.purpose}-log-group-name", log_group.log_group.name,
                         f"Name of the central {group.purpose} log group")
            self.publish(f"{group.purpose}-log-group-arn", log_group.arn,
                         f"ARN of the central {group.purpose} log group")
