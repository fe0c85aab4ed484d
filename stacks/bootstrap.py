"""Terraform state for every stack: the state key, bucket and lock table, and
the GitHub Actions OIDC role that may read and write that state."""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from constructs import Construct

from constructs_lib.iam_role_policy import FederatedTrust, IamRolePolicy, IamRolePolicyProps
from constructs_lib.kms_key import KmsKey, KmsKeyProps
from constructs_lib.policy_document import Condition, PolicyStatement
from constructs_lib.refs import KeyRef
from constructs_lib.s3_bucket import S3Bucket, S3BucketProps
from stacks.base import BuildContext, GovernedStack
from stacks.registry import StackSpec

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# The certificate thumbprints AWS documents for GitHub's OIDC endpoint. IAM
# trusts GitHub through its CA library today; the list is kept so the provider
# also works where that is not (yet) the case.
GITHUB_OIDC_THUMBPRINTS = (
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
    "6938fd4d98bab03faadb97b34396831e3780aea1",
)
STS_AUDIENCE = "sts.amazonaws.com"


class BootstrapStack(GovernedStack):
    """State key, state bucket, lock table, GitHub OIDC provider and CI role."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        state = self.settings.state
        region = self.settings.region
        self.state_key = KmsKey(self, "state-key", KmsKeyProps(
            name=state.kms_alias.removeprefix("alias/"),
            description="Terraform state of every stack (S3 objects and the lock table)",
            tags=self.tags,
            # Principals of the account may use the key only through S3 and
            # DynamoDB; DynamoDB also holds it through a grant for the table.
            via_services=(f"s3.{region}.amazonaws.com", f"dynamodb.{region}.amazonaws.com"),
        ))
        key = KeyRef(arn=self.state_key.arn, alias=self.state_key.alias_name)

        self.state_bucket = S3Bucket(self, "state-bucket", S3BucketProps(
            name=state.bucket,
            tags=self.tags,
            kms_key=key,
        ))

        self.lock_table = DynamodbTable(
            self, "lock-table",
            name=state.lock_table,
            hash_key="LockID",
            attribute=[DynamodbTableAttribute(name="LockID", type="S")],
            billing_mode="PAY_PER_REQUEST",
            server_side_encryption=DynamodbTableServerSideEncryption(
                enabled=True, kms_key_arn=self.state_key.arn),
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            deletion_protection_enabled=True,
            tags=self.tags.resource_tags(state.lock_table),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )

        self.github_oidc = IamOpenidConnectProvider(
            self, "github-oidc",
            url=f"https://{GITHUB_OIDC_HOST}",
            client_id_list=[STS_AUDIENCE],
            thumbprint_list=list(GITHUB_OIDC_THUMBPRINTS),
            tags=self.tags.resource_tags(self.resource_name("github-actions-oidc")),
        )
        self.github_role = self._github_actions_role()

        self.publish("state-bucket-name", self.state_bucket.name,
                     "Bucket holding the Terraform state of every stack")
        self.publish("lock-table-name", self.lock_table.name,
                     "DynamoDB table holding the Terraform state locks")
        self.publish("state-key-arn", self.state_key.arn,
                     "ARN of the KMS key encrypting the Terraform state")
        self.publish("github-actions-role-arn", self.github_role.arn,
                     "Role GitHub Actions assumes (OIDC) to reach the Terraform state")

    def _github_actions_role(self) -> IamRolePolicy:
        github = self.settings.github
        subjects = tuple(f"repo:{github.repository}:ref:refs/heads/{b}" for b in github.branches)
        bucket = self.state_bucket.arn
        return IamRolePolicy(self, "github-actions-role", IamRolePolicyProps(
            name=self.resource_name("github-actions"),
            description=f"GitHub Actions of {github.repository} ({', '.join(github.branches)}): "
                        "Terraform state access",
            tags=self.tags,
            federated=FederatedTrust(
                provider_arn=self.github_oidc.arn,
                # Exact subjects: only workflows on the configured branches of the
                # configured repository (no pull requests, forks or other refs).
                conditions=(
                    Condition(test="StringEquals", variable=f"{GITHUB_OIDC_HOST}:aud",
                              values=(STS_AUDIENCE,)),
                    Condition(test="StringEquals", variable=f"{GITHUB_OIDC_HOST}:sub",
                              values=subjects),
                ),
            ),
            # State access only; what a workflow may change in the account is
            # granted per stack, not here.
            inline_policies={"terraform-state": (
                PolicyStatement(sid="ListStateBucket", actions=("s3:ListBucket",),
                                resources=(bucket,)),
                PolicyStatement(sid="ReadWriteStateObjects",
                                actions=("s3:DeleteObject", "s3:GetObject", "s3:PutObject"),
                                resources=(f"{bucket}/*",)),
                PolicyStatement(sid="LockState",
                                actions=("dynamodb:DeleteItem", "dynamodb:DescribeTable",
                                         "dynamodb:GetItem", "dynamodb:PutItem"),
                                resources=(self.lock_table.arn,)),
                PolicyStatement(sid="UseStateKey",
                                actions=("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
                                         "kms:GenerateDataKey"),
                                resources=(self.state_key.arn,)),
            )},
        ))

