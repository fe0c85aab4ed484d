"""SNS topic encrypted with a customer key, publishable only by the named AWS services."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic as SnsTopicResource
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from constructs_lib.errors import Problems
from constructs_lib.formats import (
    ACCOUNT_ID,
    PARTITION,
    SERVICE_PRINCIPAL,
    is_email,
    is_unresolved,
)
from constructs_lib.policy_document import (
    EVERYONE,
    Condition,
    PolicyStatement,
    Principal,
    check_statements,
    policy_document,
)
from constructs_lib.prop_checks import check_name
from constructs_lib.refs import KeyRef, TopicRef
from constructs_lib.tags import RequiredTags

# What the owning account may do to the topic; deliberately not sns:* so that
# the policy names every power it hands out.
OWNER_ACTIONS = (
    "sns:AddPermission",
    "sns:DeleteTopic",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:Publish",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
)


@dataclass(frozen=True, kw_only=True)
class SnsTopicProps:
    name: str
    """Topic name: kebab-case, starting with `<environment>-` (e.g. `prod-alerts-critical`)."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    kms_key: KeyRef
    """Customer-managed key for server-side encryption (`kms_master_key_id`)."""
    publisher_services: tuple[str, ...] = ()
    """Service principals (e.g. `cloudwatch.amazonaws.com`, `events.amazonaws.com`)
    allowed to publish, each only on behalf of this account (aws:SourceAccount).
    When left empty, only principals of the owning account can publish."""
    email_subscriptions: tuple[str, ...] = ()
    """E-mail addresses to subscribe (each must confirm by mail). When left
    empty, the topic has no subscriptions from this construct."""
    account_id: str | None = None
    """Owning account id. When left out, the account of the stack's provider
    (aws_caller_identity) is used."""
    partition: str | None = None
    """Partition of the owning account (`aws`, `aws-cn`, ...), e.g. the stack's
    `aws_partition` data source. When left out, the construct reads it with an
    `aws_partition` data source of its own."""
    display_name: str | None = None
    """Display name used as the e-mail sender name. When left out, the topic
    name is shown."""


class SnsTopic(Construct):
    """An encrypted SNS topic with an explicit topic policy.

    The policy allows the owning account to manage and publish, allows exactly
    `publisher_services` to publish on behalf of the account, and denies
    publishing over plain HTTP.
    """

    def __init__(self, scope: Construct, id: str, props: SnsTopicProps):
        super().__init__(scope, id)
        self.props = props
        _validate(props, self.node.path)

        self.topic = SnsTopicResource(
            self,
            "topic",
            name=props.name,
            display_name=props.display_name,
            kms_master_key_id=props.kms_key.arn,
            tags=props.tags.resource_tags(props.name),
        )
        account = props.account_id or DataAwsCallerIdentity(self, "account").account_id
        partition = props.partition or DataAwsPartition(self, "partition").partition
        statements = self._statements(account, partition)
        problems = Problems(self.node.path)
        check_statements(problems, "topic policy", statements, resource_policy=True)
        problems.raise_if_any()
        self.policy_document = policy_document(self, "policy-document", statements)
        self.policy = SnsTopicPolicy(
            self, "policy", arn=self.topic.arn, policy=self.policy_document.json
        )
        self.subscriptions = [
            SnsTopicSubscription(
                self,
                # Keyed by address so reordering the tuple does not replace subscriptions.
                f"email-{address}",
                topic_arn=self.topic.arn,
                protocol="email",
                endpoint=address,
            )
            for address in props.email_subscriptions
        ]

    @property
    def arn(self) -> str:
        return self.topic.arn

    @property
    def name(self) -> str:
        return self.topic.name

    @property
    def ref(self) -> TopicRef:
        return TopicRef(arn=self.topic.arn)

    def _statements(self, account: str, partition: str) -> list[PolicyStatement]:
        topic = (self.topic.arn,)
        statements = [
            PolicyStatement(
                sid="OwnerAccountManages",
                principals=(Principal(type="AWS",
                                      identifiers=(f"arn:{partition}:iam::{account}:root",)),),
                actions=OWNER_ACTIONS,
                resources=topic,
            ),
            PolicyStatement(
                sid="DenyInsecureTransport",
                effect="Deny",
                principals=(EVERYONE,),
                actions=("sns:Publish",),
                resources=topic,
                conditions=(Condition(test="Bool", variable="aws:SecureTransport",
                                      values=("false",)),),
            ),
        ]
        if self.props.publisher_services:
            statements.append(PolicyStatement(
                sid="ServicesPublish",
                principals=(Principal(type="Service",
                                      identifiers=tuple(sorted(self.props.publisher_services))),),
                actions=("sns:Publish",),
                resources=topic,
                # Confused-deputy guard: the service may publish only for our account.
                conditions=(Condition(test="StringEquals", variable="aws:SourceAccount",
                                      values=(account,)),),
            ))
        return statements


def _validate(props: SnsTopicProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=256)
    for service in props.publisher_services:
        if not SERVICE_PRINCIPAL.match(service):
            problems.add("publisher_services", service,
                         "allowed are AWS service principals such as 'events.amazonaws.com'")
    if len(set(props.publisher_services)) != len(props.publisher_services):
        problems.add("publisher_services", props.publisher_services,
                     "each service may be listed once")
    for address in props.email_subscriptions:
        if not is_unresolved(address) and not is_email(address):
            problems.add("email_subscriptions", address, "allowed are e-mail addresses")
    if len(set(props.email_subscriptions)) != len(props.email_subscriptions):
        problems.add("email_subscriptions", props.email_subscriptions,
                     "each address may be listed once")
    if props.account_id is not None and not is_unresolved(props.account_id) \
            and not ACCOUNT_ID.match(props.account_id):
        problems.add("account_id", props.account_id, "allowed is a 12-digit AWS account id")
    if props.partition is not None and not is_unresolved(props.partition) \
            and not PARTITION.match(props.partition):
        problems.add("partition", props.partition,
                     "allowed is an AWS partition such as 'aws' or 'aws-cn'")
    problems.raise_if_any()
