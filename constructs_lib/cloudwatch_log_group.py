"""CloudWatch log group encrypted with a customer key, with a validated retention."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_log_group import (
    CloudwatchLogGroup as CloudwatchLogGroupResource,
)
from constructs import Construct

from constructs_lib import waivers
from constructs_lib.errors import Problems
from constructs_lib.formats import LOG_RETENTION_DAYS, is_unresolved
from constructs_lib.prop_checks import check_name, check_reason
from constructs_lib.refs import KeyRef, LogGroupRef
from constructs_lib.tags import RequiredTags

# Log group names are paths by AWS convention (/aws/<service>/...); each
# segment is kebab-case, dots allowed for DNS names (/aws/route53/set-of.com).
PATH_SEGMENT = re.compile(r"^[a-z0-9]+([-.][a-z0-9]+)*$")
MIN_AUDIT_RETENTION_DAYS = 365
"""Below this, checkov's CKV_AWS_338 fails; shorter retention needs a reason."""


@dataclass(frozen=True, kw_only=True)
class CloudwatchLogGroupProps:
    name: str
    """Either kebab-case starting with `<environment>-`, or a path whose first
    segment is `aws` or the environment (`/aws/ecs/atlantis/application`,
    `/prod/app/audit`), each segment kebab-case (dots allowed)."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    kms_key: KeyRef
    """Customer-managed key; its policy must let `logs.<region>.amazonaws.com` use it."""
    retention_in_days: int = 365
    """One of the values CloudWatch accepts. Left out: 365."""
    short_retention_reason: str | None = None
    """Needed when `retention_in_days` is below 365; recorded as waiver
    CKV_AWS_338. Left out: retention must be at least 365 days."""
    provider: TerraformProvider | None = None
    """The AWS provider (region) the group lives in, e.g. us-east-1 for Route 53
    query logs. Left out: the stack's default provider."""


class CloudwatchLogGroup(Construct):
    """An encrypted log group; `.ref` is what other constructs take."""

    def __init__(self, scope: Construct, id: str, props: CloudwatchLogGroupProps):
        super().__init__(scope, id)
        _validate(props, self.node.path)
        self.props = props
        self.name = props.name
        self.log_group = CloudwatchLogGroupResource(
            self,
            "log-group",
            name=props.name,
            kms_key_id=props.kms_key.arn,
            retention_in_days=props.retention_in_days,
            tags=props.tags.resource_tags(_tag_name(props.name)),
            provider=props.provider,
        )
        if props.retention_in_days < MIN_AUDIT_RETENTION_DAYS:
            waivers.record(self.log_group, "CKV_AWS_338", props.short_retention_reason,
                           where=self.node.path)

    @property
    def arn(self) -> str:
        return self.log_group.arn

    @property
    def ref(self) -> LogGroupRef:
        # The literal name, not the resource attribute: consumers (ECS log
        # configuration, flow logs) need it as text; the ARN carries the dependency.
        return LogGroupRef(name=self.name, arn=self.log_group.arn)


def _tag_name(name: str) -> str:
    """A kebab-case `Name` tag for path-style names (tag values are kebab-case)."""
    return "-".join(part for part in re.split(r"[/.]", name) if part)


def _validate(props: CloudwatchLogGroupProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    env = props.tags.environment
    name = props.name
    if isinstance(name, str) and name.startswith("/"):
        segments = name[1:].split("/")
        if segments[0] not in ("aws", env) or len(segments) < 2 or not all(
                PATH_SEGMENT.match(s) for s in segments):
            problems.add("name", name, f"allowed is a path '/aws/...' or '/{env}/...' of "
                         "kebab-case segments, or a kebab-case name starting with "
                         f"'{env}-'")
        elif len(name) > 512:
            problems.add("name", name, "allowed are at most 512 characters")
    elif not is_unresolved(name):
        check_name(problems, "name", name, env, max_length=512)
    if not isinstance(props.kms_key, KeyRef):
        problems.add("kms_key", props.kms_key, "allowed is a KeyRef (customer-managed key)")
    if props.retention_in_days not in LOG_RETENTION_DAYS:
        problems.add("retention_in_days", props.retention_in_days,
                     f"allowed is one of {LOG_RETENTION_DAYS}")
    elif props.retention_in_days < MIN_AUDIT_RETENTION_DAYS and not props.short_retention_reason:
        problems.add("retention_in_days", props.retention_in_days,
                     f"below {MIN_AUDIT_RETENTION_DAYS} needs short_retention_reason")
    check_reason(problems, "short_retention_reason", props.short_retention_reason)
    problems.raise_if_any()
