"""What the local deploy proves about the Atlantis roles while moto enforces IAM, and
what moto cannot enforce.

moto authorizes every call after the administrator's setup (local_deploy/local_aws.py) against
the caller's identity policies, AWS managed policies included. So the PR runs already
show that the plan role (ReadOnlyAccess plus the state lock) plans every stack and that
the apply role applies every stack. The checks here add the refusals: an apply with the
plan role, and the apply role's guard rails (stacks/bootstrap.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from botocore.exceptions import ClientError

from local_deploy.local_overrides import STAND_IN_TASK_ROLE

DENIED_CODES = ("AccessDenied", "AccessDeniedException")
XML_CODE = re.compile(r"<Code>(\w+)</Code>")

MOTO_UNENFORCED: tuple[tuple[str, str], ...] = (
    ("resource-scoped statements on KMS, CloudTrail and most other services",
     "moto authorizes their calls against Resource '*' (only IAM roles, S3, SQS, STS "
     "AssumeRole and, patched, DynamoDB and Glue name the resource), so a statement naming "
     "one resource never matches: the apply role's NoWeakerStateKey, NoTrailStopped, "
     "NoBackupVaultUnlocked, NoBackupPlanDeleted and NoWeakerBackupKeys denies are not "
     "evaluated; on AWS they are"),
    ("the apply role's NoBackupDeleted deny",
     "it names every resource, but moto 5.2.5 serves none of its calls (DeleteRecoveryPoint, "
     "DisassociateRecoveryPoint, UpdateRecoveryPointLifecycle) and runs no backup job, so "
     "there is no recovery point to try it on"),
    ("conditions of identity and bucket policies",
     "moto gives a call no request context (aws:SecureTransport, kms:ViaService, ...); with "
     "the conditions patch a conditional statement does not apply, so only the trusts' "
     "aws:PrincipalArn is checked"),
    ("resource policies other than S3 bucket policies on object calls",
     "moto 5.2.5 evaluates no KMS key policy, secret policy or SNS topic policy"),
    ("KMS use implied by SSE-KMS",
     "moto does not authorize the kms:Decrypt and kms:GenerateDataKey behind reading and "
     "writing the state objects, so the plan role's DecryptState statement is not exercised"),
    ("service principals",
     "moto runs no service as its role (CloudTrail delivery, RDS enhanced monitoring, "
     "the rotation Lambda): their trusts and the buckets' service statements are not used"),
)
"""What IAM enforces on AWS that the moto run cannot show, with the reason."""


@dataclass
class Refusal:
    """One call that must be refused."""

    role: str
    call: str
    target: str
    outcome: str = ""
    """'AccessDenied', or what happened instead."""

    @property
    def refused(self) -> bool:
        return self.outcome in DENIED_CODES


def session_keys(credentials: dict) -> dict[str, str]:
    """An STS `Credentials` answer as the AWS_* keys `LocalAws.client` takes."""
    return {"AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"]}


def role_session(aws, region: str, role_arn: str, name: str,
             credentials: dict[str, str] | None = None) -> dict[str, str]:
    """Keys of a session of `role_arn`, assumed from the stand-in task role (the
    route the Atlantis workflows' profiles take) of the account `credentials` (an
    administrator's) reach."""
    sts = aws.client("sts", region, credentials)
    account = sts.get_caller_identity()["Account"]
    task = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{STAND_IN_TASK_ROLE}",
                           RoleSessionName="ecs-task")["Credentials"]
    role = aws.client("sts", region, session_keys(task)).assume_role(
        RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    return session_keys(role)


def error_code(error: ClientError) -> str:
    """The AWS error code. Where moto still answers an authorization failure in IAM's
    XML to a client that expects another protocol (the JSON services are patched:
    local_deploy/local_aws.py), botocore reports code '403' with the XML as the message."""
    details = error.response.get("Error", {})
    embedded = XML_CODE.search(details.get("Message") or "")
    return embedded.group(1) if embedded else details.get("Code") or "error"


def _attempt(refusal: Refusal, call) -> Refusal:
    try:
        call()
        refusal.outcome = "allowed"
    except ClientError as error:
        refusal.outcome = error_code(error)
    return refusal


def apply_role_guard_rails(aws, region: str, apply_role_arn: str, plan_role_arn: str,
                           state_bucket: str,
                           credentials: dict[str, str] | None = None) -> list[Refusal]:
    """The apply role's explicit denies that moto evaluates, tried as that role. Each call
    is one AWS would refuse too; none changes anything when refused (DeleteBucket of a
    bucket holding objects would fail anyway). `credentials`: an administrator of the
    account the Atlantis task runs in."""
    keys = role_session(aws, region, apply_role_arn, "guard-rail-check", credentials)
    s3 = aws.client("s3", region, keys)
    iam = aws.client("iam", region, keys)
    apply_name = apply_role_arn.rsplit("/", 1)[-1]
    plan_name = plan_role_arn.rsplit("/", 1)[-1]
    wider = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    admin_s3 = aws.client("s3", region, credentials)
    # A state version no state points at: should the deny not hold, nothing breaks.
    version = next((v for v in admin_s3.list_object_versions(Bucket=state_bucket).get(
        "Versions", []) if not v["IsLatest"]), None)
    checks = [
        (Refusal(apply_name, "s3:DeleteBucket", state_bucket),
         lambda: s3.delete_bucket(Bucket=state_bucket)),
        (Refusal(apply_name, "s3:PutBucketVersioning (Suspended)", state_bucket),
         lambda: s3.put_bucket_versioning(Bucket=state_bucket,
                                          VersioningConfiguration={"Status": "Suspended"})),
        (Refusal(apply_name, "iam:PutRolePolicy", apply_name),
         lambda: iam.put_role_policy(RoleName=apply_name, PolicyName="wider",
                                     PolicyDocument=wider)),
        (Refusal(apply_name, "iam:DeleteRolePolicy", apply_name),
         lambda: iam.delete_role_policy(RoleName=apply_name,
                                        PolicyName=f"{apply_name}-guard-rails")),
        (Refusal(apply_name, "iam:AttachRolePolicy (AdministratorAccess)", plan_name),
         lambda: iam.attach_role_policy(
             RoleName=plan_name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")),
    ]
    if version is not None:
        checks.append((Refusal(apply_name, "s3:DeleteObjectVersion",
                               f"{state_bucket}/{version['Key']}"),
                       lambda: s3.delete_object(Bucket=state_bucket, Key=version["Key"],
                                                VersionId=version["VersionId"])))
    return [_attempt(refusal, call) for refusal, call in checks]
