"""The nine customer-managed KMS keys of the environment, one per consumer
purpose, each with a key policy naming exactly the services that use it."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from constructs import Construct

from constructs_lib.kms_key import KmsKey, KmsKeyProps
from constructs_lib.policy_document import Condition, PolicyStatement, Principal
from stacks.base import BuildContext, GovernedStack
from stacks.spec import StackSpec


@dataclass(frozen=True, kw_only=True)
class _Account:
    """Who and where the keys are: account id, partition and region tokens."""

    id: str
    partition: str
    region: str

    @property
    def root(self) -> str:
        return f"arn:{self.partition}:iam::{self.id}:root"

    def via(self, *services: str) -> tuple[str, ...]:
        """The kms:ViaService values of `services` in this Region."""
        return tuple(f"{s}.{self.region}.amazonaws.com" for s in services)


class KmsStack(GovernedStack):
    """The nine keys (s3, rds, secrets, logs, sns, ecr, efs, cloudtrail,
    monitoring); their ARNs and aliases go to SSM."""

    PURPOSES = ("s3", "rds", "secrets", "logs", "sns", "ecr", "efs", "cloudtrail", "monitoring")

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        account = _Account(
            id=DataAwsCallerIdentity(self, "account").account_id,
            partition=DataAwsPartition(self, "partition").partition,
            region=self.settings.region,
        )
        self.keys: dict[str, KmsKey] = {}
        for purpose in self.PURPOSES:
            description, extra = _POLICIES[purpose]
            props = KmsKeyProps(
                name=self.resource_name(purpose),
                description=description,
                tags=self.tags,
                multi_region=purpose == "logs",
                **extra(account),
            )
            key = KmsKey(self, f"{purpose}-key", props)
            self.keys[purpose] = key
            self.publish(f"{purpose}-key-arn", key.arn, f"ARN of the {purpose} key")
            self.publish(f"{purpose}-key-alias", key.alias_name, f"Alias of the {purpose} key")


def _service_account(account: _Account) -> tuple[Condition, ...]:
    return (Condition(test="StringEquals", variable="aws:SourceAccount", values=(account.id,)),)


def _logs(account: _Account) -> dict:
    # CloudWatch Logs may use the key only for log groups of this account and
    # Region (the construct leaves this condition off DescribeKey, whose requests
    # carry no encryption context).
    return {
        "service_principals": (f"logs.{account.region}.amazonaws.com",),
        "service_conditions": (Condition(
            test="ArnLike",
            variable="kms:EncryptionContext:aws:logs:arn",
            values=(f"arn:{account.partition}:logs:{account.region}:{account.id}:log-group:*",),
        ),),
    }


def _sns(account: _Account) -> dict:
    # SNS itself plus the publishers of alarm and event notifications to the
    # encrypted topics (CloudWatch alarms, EventBridge rules).
    return {
        "service_principals": ("cloudwatch.amazonaws.com", "events.amazonaws.com",
                               "sns.amazonaws.com"),
        "service_conditions": _service_account(account),
    }


def _cloudtrail(account: _Account) -> dict:
    trails = f"arn:{account.partition}:cloudtrail:*:{account.id}:trail/*"
    cloudtrail = (Principal(type="Service", identifiers=("cloudtrail.amazonaws.com",)),)
    source = Condition(test="StringLike", variable="aws:SourceArn", values=(trails,))
    context = Condition(test="StringLike", variable="kms:EncryptionContext:aws:cloudtrail:arn",
                        values=(trails,))
    in_account = Condition(test="StringEquals", variable="kms:CallerAccount", values=(account.id,))
    account_principal = (Principal(type="AWS", identifiers=(account.root,)),)
    # The statements of the CloudTrail documentation ("Configure AWS KMS key
    # policies for CloudTrail"), scoped to this account's trails.
    return {
        "extra_statements": (
            PolicyStatement(sid="CloudTrailEncryptLogs", principals=cloudtrail,
                            actions=("kms:GenerateDataKey*",), resources=("*",),
                            conditions=(source, context)),
            PolicyStatement(sid="CloudTrailDescribeKey", principals=cloudtrail,
                            actions=("kms:DescribeKey",), resources=("*",), conditions=(source,)),
            PolicyStatement(sid="AccountDecryptTrailLogs", principals=account_principal,
                            actions=("kms:Decrypt", "kms:ReEncryptFrom"), resources=("*",),
                            conditions=(in_account, context)),
        ),
        # Athena reads the trail objects (and writes its results) through S3.
        "via_services": account.via("s3"),
    }


def _via(*services: str):
    return lambda account: {"via_services": account.via(*services)}


# purpose -> (description, key policy props for the account)
_POLICIES = {
    "s3": ("S3 buckets (SSE-KMS)", _via("s3")),
    "rds": ("RDS storage and Performance Insights", _via("rds")),
    "secrets": ("Secrets Manager secrets", _via("secretsmanager")),
    "logs": ("CloudWatch Logs log groups (multi-Region: replicated for Route 53 query logs)",
             _logs),
    "sns": ("SNS topics", _sns),
    "ecr": ("ECR repositories", _via("ecr")),
    "efs": ("EFS file systems", _via("elasticfilesystem")),
    "cloudtrail": ("CloudTrail log files", _cloudtrail),
    "monitoring": ("Amazon Managed Prometheus and Grafana workspaces", _via("aps", "grafana")),
}
