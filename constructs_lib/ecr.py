"""ECR repository: immutable tags, scan on push, customer-key encryption, lifecycle
policy, pull grants."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository as EcrRepositoryResource,
)
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib.errors import Problems
from constructs_lib.grants import attach_role_policy
from constructs_lib.policy_document import PolicyStatement
from constructs_lib.prop_checks import check_name
from constructs_lib.refs import KeyRef, RoleRef
from constructs_lib.tags import RequiredTags

PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)


@dataclass(frozen=True, kw_only=True)
class EcrRepositoryProps:
    name: str
    """Repository name: kebab-case, starting with `<environment>-`, at most 256 characters."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    kms_key: KeyRef
    """Customer-managed key that encrypts the images."""
    keep_last_images: int = 30
    """How many images (newest first) the lifecycle policy keeps, 1 to 1000."""
    untagged_expiry_days: int = 14
    """Days after which untagged images expire, 1 to 365."""


class EcrRepository(Construct):
    """A private ECR repository with immutable tags, scan on push and a lifecycle policy.

    The repository is not protected by `prevent_destroy` (images are rebuilt
    from source), but `force_delete` stays off, so a repository that still
    holds images cannot be deleted.
    """

    def __init__(self, scope: Construct, id: str, props: EcrRepositoryProps):
        super().__init__(scope, id)
        self.props = props
        _validate(props, self.node.path)

        self.repository = EcrRepositoryResource(
            self, "repository",
            name=props.name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(
                encryption_type="KMS", kms_key=props.kms_key.arn)],
            force_delete=False,
            tags=props.tags.resource_tags(props.name),
        )
        self.lifecycle_policy = EcrLifecyclePolicy(
            self, "lifecycle-policy",
            repository=self.repository.name,
            policy=json.dumps(lifecycle_rules(props), sort_keys=True),
        )

    @property
    def arn(self) -> str:
        return self.repository.arn

    @property
    def name(self) -> str:
        return self.repository.name

    @property
    def url(self) -> str:
        """`<account>.dkr.ecr.<region>.amazonaws.com/<name>`, to use as the image prefix."""
        return self.repository.repository_url

    def pull_statements(self) -> tuple[PolicyStatement, ...]:
        """Identity-policy statements to pull images from this repository. No KMS
        permission is needed: ECR decrypts through its own grant on the key."""
        return (
            PolicyStatement(sid="PullImages", actions=PULL_ACTIONS,
                            resources=(self.repository.arn,)),
            # GetAuthorizationToken is account-wide: it has no resource-level form.
            PolicyStatement(sid="GetRegistryToken", actions=("ecr:GetAuthorizationToken",),
                            resources=("*",)),
        )

    def grant_pull(self, role: RoleRef, *, id: str) -> IamRolePolicy:
        """Attach an inline policy `<name>-pull-<id>` with `pull_statements()` to
        `role` (grant shape: constructs_lib/grants.py)."""
        return attach_role_policy(self, method="grant_pull", verb="pull", id=id, role=role,
                                  name_prefix=self.props.name, statements=self.pull_statements())


def lifecycle_rules(props: EcrRepositoryProps) -> dict:
    """The ECR lifecycle policy document; the `any` rule must have the highest priority number."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {props.untagged_expiry_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": props.untagged_expiry_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {props.keep_last_images} images",
                "selection": {
                    "tagStatus": "any",
                    "countType": "imageCountMoreThan",
                    "countNumber": props.keep_last_images,
                },
                "action": {"type": "expire"},
            },
        ]
    }


def _validate(props: EcrRepositoryProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=256)
    if not 1 <= props.keep_last_images <= 1000:
        problems.add("keep_last_images", props.keep_last_images, "allowed is 1 to 1000")
    if not 1 <= props.untagged_expiry_days <= 365:
        problems.add("untagged_expiry_days", props.untagged_expiry_days, "allowed is 1 to 365 days")
    problems.raise_if_any()
