"""EventBridge forwarding from another Region's default bus (us-east-1, where the
global services' events arrive) to the home Region's default bus, with its role."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from constructs_lib.errors import Problems
from constructs_lib.formats import ACCOUNT_ID, PARTITION, REGION, is_unresolved
from constructs_lib.iam_role_policy import IamRoleWithPolicies, IamRoleWithPoliciesProps
from constructs_lib.policy_document import Condition, PolicyStatement
from constructs_lib.prop_checks import check_name
from constructs_lib.tags import RequiredTags

MAX_NAME = 64
"""Both IAM role names and EventBridge rule names."""
MAX_DESCRIPTION = 512
"""EventBridge rule descriptions."""
TARGET_ID = "home-region-bus"


@dataclass(frozen=True, kw_only=True)
class EventForwarderProps:
    name: str
    """Name of the forwarding role: kebab-case, starting with `<environment>-`,
    at most 64 characters (`prod-alarms-forward`)."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on the role and on every rule,
    with `Name` added."""
    events: str
    """What is forwarded, in words, for the role's description (`alarm state changes`)."""
    source_provider: AwsProvider
    """The AWS provider of the Region whose default bus the events arrive on
    (us-east-1 for IAM, console sign-in and Route 53); its Region must not be the
    home Region."""
    home_region: str
    """The Region whose default bus receives the events, where the stack's own
    rules match them."""
    account_id: str
    """This account's id (a token of aws_caller_identity): the home bus's ARN and
    the role's confused-deputy condition."""
    partition: str
    """The AWS partition (a token of aws_partition) of the home bus's ARN."""


@dataclass(frozen=True, kw_only=True)
class ForwardRuleProps:
    name: str
    """Rule name: kebab-case, starting with `<environment>-`, at most 64 characters."""
    description: str
    """Rule description, at most 512 characters."""
    pattern: Mapping[str, object]
    """The EventBridge event pattern (rendered with sorted keys); forwarded events
    keep their content, so a home rule with the same pattern matches them again."""


class EventForwarder(Construct):
    """A role that lets EventBridge put events on the home Region's default bus,
    and `forward()` rules in the source Region that send matching events there.

    The role and the rules are created in `scope` (ids `<id>-role`, and the id given
    to `forward()` with `-bus` for its target), not under the construct, so their
    Terraform addresses are those of resources created in `scope` directly: the
    stacks that built them by hand before this construct kept every address.
    """

    def __init__(self, scope: Construct, id: str, props: EventForwarderProps):
        super().__init__(scope, id)
        _validate(props, self.node.path)
        self.props = props
        self.source_region = props.source_provider.region
        self.home_bus_arn = (f"arn:{props.partition}:events:{props.home_region}:"
                             f"{props.account_id}:event-bus/default")
        self.role = IamRoleWithPolicies(scope, f"{id}-role", IamRoleWithPoliciesProps(
            name=props.name,
            tags=props.tags,
            description=(f"Lets EventBridge in {self.source_region} forward {props.events} "
                         f"to the default bus in {props.home_region}"),
            service_principals=("events.amazonaws.com",),
            trust_conditions=(Condition(test="StringEquals", variable="aws:SourceAccount",
                                        values=(props.account_id,)),),
            inline_policies={"put-events": (
                PolicyStatement(actions=("events:PutEvents",), resources=(self.home_bus_arn,)),
            )},
        ))
        self.rules: dict[str, CloudwatchEventRule] = {}

    def forward(self, id: str, props: ForwardRuleProps) -> CloudwatchEventRule:
        """A rule `id` in the source Region and its target `<id>-bus`, the home bus."""
        scope = self.node.scope
        _validate_rule(props, self.props.tags.environment, f"{scope.node.path}/{id}")
        rule = CloudwatchEventRule(
            scope, id,
            provider=self.props.source_provider,
            name=props.name,
            description=props.description,
            event_pattern=json.dumps(dict(props.pattern), sort_keys=True),
            tags=self.props.tags.resource_tags(props.name),
        )
        CloudwatchEventTarget(
            scope, f"{id}-bus",
            provider=self.props.source_provider,
            rule=rule.name,
            target_id=TARGET_ID,
            arn=self.home_bus_arn,
            role_arn=self.role.arn,
        )
        self.rules[id] = rule
        return rule


def _validate(props: EventForwarderProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=MAX_NAME)
    if not isinstance(props.events, str) or not props.events.strip():
        problems.add("events", props.events,
                     "a few words saying what is forwarded (for the role description) "
                     "are required")
    if not is_unresolved(props.account_id) and not ACCOUNT_ID.match(str(props.account_id)):
        problems.add("account_id", props.account_id, "allowed is a 12-digit AWS account id")
    if not is_unresolved(props.partition) and not PARTITION.match(str(props.partition)):
        problems.add("partition", props.partition,
                     "allowed is an AWS partition such as 'aws' or 'aws-cn'")
    if not isinstance(props.home_region, str) or not REGION.match(props.home_region):
        problems.add("home_region", props.home_region, "allowed is a Region such as "
                     "'ap-northeast-2'")
    if not isinstance(props.source_provider, AwsProvider):
        problems.add("source_provider", props.source_provider, "allowed is an AwsProvider")
    elif props.source_provider.region == props.home_region:
        problems.add("source_provider", props.source_provider.node.path,
                     f"its Region {props.home_region!r} is the home Region; forwarding a "
                     "default bus to itself would loop, so build no forwarder there")
    problems.raise_if_any()


def _validate_rule(props: ForwardRuleProps, environment: str, where: str) -> None:
    problems = Problems(where)
    check_name(problems, "name", props.name, environment, max_length=MAX_NAME)
    if not isinstance(props.description, str) or not props.description.strip():
        problems.add("description", props.description, "a description is required")
    elif len(props.description) > MAX_DESCRIPTION:
        problems.add("description", props.description,
                     f"allowed are at most {MAX_DESCRIPTION} characters")
    if not isinstance(props.pattern, Mapping) or not props.pattern:
        problems.add("pattern", props.pattern, "allowed is a non-empty event pattern mapping")
    problems.raise_if_any()
