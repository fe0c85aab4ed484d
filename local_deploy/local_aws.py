"""A moto server on 127.0.0.1 standing in for AWS during the local e2e deploy.

Run as a module (`python -m local_deploy.local_aws -p PORT`) it is moto's own server with
the patches in MOTO_PATCHES applied; `LocalAws` starts it on a free port and stops it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"
"""The account moto's STS reports; the harness makes real GetCallerIdentity calls."""

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
"""Keys moto accepts while it does not authenticate: only for the calls that create the
administrator (ADMIN_SETUP_CALLS)."""

ADMIN_USER = "local-admin"
"""The IAM user whose keys the harness and the hand-run steps (bootstrap, destroy) use:
an administrator, as the README's bootstrap runbook asks for."""

ADMIN_SETUP_CALLS = 3
"""CreateUser, AttachUserPolicy, CreateAccessKey: the calls moto serves before it enforces
IAM (INITIAL_NO_AUTH_ACTION_COUNT); every later call is authorized against its caller's
policies, the harness's own included."""

ACCOUNT_SETUP_CALLS = 1 + ADMIN_SETUP_CALLS
"""For each further account (an environment's own): AssumeRole into it (moto serves a
role ARN of any account id, and that session's calls reach that account's backends),
then the administrator's three calls there. moto counts every call, STS's included."""

ACCOUNT_SETUP_ROLE = "local-setup"
"""The role name the setup session assumes in a further account (moto does not check
that it exists while it does not authenticate)."""

MOTO_SETTINGS = {
    # Certificates validate at once instead of after moto's default 60 s wait.
    "MOTO_ACM_VALIDATION_WAIT": "0",
    # AWS-managed policies (arn:aws:iam::aws:policy/...) exist, so attachments succeed and
    # ReadOnlyAccess and AdministratorAccess grant what they grant on AWS.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}

def enforcing_settings(accounts: int = 0) -> dict[str, str]:
    """Added to moto's environment when IAM is enforced (moto/core/authorization.py
    counts the calls): the administrator's setup, and `accounts` further accounts'."""
    return {"INITIAL_NO_AUTH_ACTION_COUNT": str(ADMIN_SETUP_CALLS
                                                + accounts * ACCOUNT_SETUP_CALLS)}


ENFORCING_SETTINGS = enforcing_settings()
"""Those of a server with the default account only."""
"""Environment of the moto server process (names as moto/settings.py reads them)."""

MOTO_RUNTIME_CONFIG = {"lambda": {"use_docker": False}, "batch": {"use_docker": False}}
"""Posted to /moto-api/config: Lambda functions are stored, never run in Docker."""

MOTO_PATCHES = (
    "kms ReplicateKey: moto shallow-copies the primary key, so the replica and the primary "
    "share one multi-Region configuration (and aliases: the replica's own alias then "
    "'already exists') and DescribeKey on the replica turns the primary "
    "into a REPLICA; the patch gives the replica its own copy, as AWS keeps them apart. "
    "moto also ignores ReplicateKey's Description, Policy and Tags (the provider then waits "
    "minutes for tags that never come); the patch applies them to the replica.",
    "policy conditions: moto evaluates a Condition on a key the request does not carry as "
    "met, so the state bucket's 'Deny unless aws:SecureTransport' statement denied every "
    "object request; moto passes no request context at all, and IAM treats a condition on "
    "a missing key as not met, so the patch makes conditional statements not apply "
    "(as for TLS requests on AWS).",
    "secretsmanager RotateSecret on a secret without a value yet (ours: the tokens are "
    "stored out of band): moto crashes (UnboundLocalError in rotate_secret); the patch "
    "records the rotation configuration without invoking the function (moto without "
    "Docker would not run it anyway).",
    "efs PutBackupPolicy: not implemented in moto 5.2.5 (the route exists); the patch stores "
    "the status, and DescribeBackupPolicy reports it, DISABLED included.",
    "efs DeleteFileSystemPolicy: not implemented in moto 5.2.5 (destroy of "
    "aws_efs_file_system_policy fails); the patch clears the stored policy.",
    "sts AssumeRole: recorded (role and session name) in the run's assumed-roles.jsonl, "
    "so the summary can say which roles the Atlantis workflows assumed; the call itself "
    "is unchanged.",
    "iam trust policies: moto 5.2.5 compares a trust's AWS principal with the caller's ARN "
    "as a string, so `arn:aws:iam::<account>:root` trusts nobody, and it evaluates only "
    "StringEquals (any other condition counts as met). The patch makes an account's root "
    "trust every principal of that account (IAM's rule: the caller's own policy must still "
    "allow sts:AssumeRole), gives the request the caller's aws:PrincipalArn (the role ARN "
    "for a role session, as IAM does) and evaluates ArnEquals, ArnLike and StringLike.",
    "dynamodb and glue authorization: moto authorizes their calls against Resource '*', so "
    "a statement scoped to a table (the plan role's state lock, its Glue partition-index "
    "read) never matches; the patch passes the table's ARN (Glue: the table's, else the "
    "database's), the resources IAM authorizes these calls against.",
    "s3 HeadBucket: moto authorizes it as s3:HeadBucket, an action IAM does not have (AWS "
    "authorizes HeadBucket as s3:ListBucket), so ReadOnlyAccess was refused and the provider "
    "took the state bucket for deleted; the patch authorizes it as s3:ListBucket.",
    "signature check: moto re-signs a request without a body (Route 53's GET and DELETE) "
    "over its parsed parameters instead of the empty payload the client signed, so every "
    "such call failed with SignatureDoesNotMatch once IAM is enforced; the patch re-signs "
    "the empty payload.",
    "iam action names: moto names an action after the service's signing name, so "
    "CloudWatch's calls were `monitoring:DescribeAlarms`, which no policy grants (IAM's "
    "prefix is `cloudwatch`: ReadOnlyAccess has `cloudwatch:Describe*`); the patch uses "
    "IAM's prefix.",
    "access denied on JSON-protocol services (SSM, KMS, DynamoDB, ...): moto answers in "
    "IAM's XML, which the AWS SDKs cannot read (Terraform printed 'deserialization failed' "
    "instead of the refused action); the patch answers as AWS does, HTTP 400 with "
    "`{\"__type\": \"AccessDeniedException\", \"message\": ...}`.",
    "backup ListTags: moto 5.2.5 reads the ARN as the path's second-to-last segment, which "
    "holds it only with a trailing slash; the provider sends `GET /tags/<arn>` without one, "
    "so every vault and plan read back without tags (a tag diff in every re-plan); the "
    "patch reads the ARN after `/tags/`, with or without the slash.",
    "iam policy matching: moto turns each of a policy's patterns into a regex on every "
    "request (ReadOnlyAccess has about 3,000: 45 ms a call); the patch caches them "
    "compiled (3 ms), with the same result.",
)
"""Patches applied inside the moto server process, with the reason for each."""


def _patch_kms_replicate_key() -> None:
    from copy import copy, deepcopy

    from moto.kms.models import KmsBackend, kms_backends
    from moto.kms.responses import KmsResponse

    def replicate_key(self, key_id: str, replica_region: str):
        primary = self.keys[key_id]
        replica = copy(primary)
        replica.region = replica_region
        replica.arn = primary.arn.replace(self.region_name, replica_region)
        # Aliases, grants and rotations belong to one Region's key, not to the pair.
        replica.aliases, replica.grants, replica.rotations = {}, {}, []
        if primary.multi_region:
            config = primary.multi_region_configuration
            if not any(r["Region"] == replica_region for r in config["ReplicaKeys"]):
                config["ReplicaKeys"].append({"Arn": replica.arn, "Region": replica_region})
            replica.multi_region_configuration = deepcopy(config)
            replica.multi_region_configuration["MultiRegionKeyType"] = "REPLICA"
        kms_backends[self.account_id][replica_region].keys[replica.id] = replica
        return replica

    KmsBackend.replicate_key = replicate_key
    original_response = KmsResponse.replicate_key

    def replicate_key_response(self) -> str:
        body = json.loads(original_response(self))
        replica_id = body["ReplicaKeyMetadata"]["KeyId"]
        backend = kms_backends[self.current_account][self._get_param("ReplicaRegion")]
        replica = backend.keys[replica_id]
        if self._get_param("Description") is not None:
            replica.description = self._get_param("Description")
        if self._get_param("Policy"):
            replica.policy = self._get_param("Policy")
        tags = self._get_param("Tags") or []
        if tags:
            backend.tag_resource(replica_id, {t["TagKey"]: t.get("TagValue") for t in tags})
        body["ReplicaKeyMetadata"] = replica.to_dict()["KeyMetadata"]
        return json.dumps(body)

    KmsResponse.replicate_key = replicate_key_response


def _patch_policy_conditions() -> None:
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self, action, resource="*", principal=None,
                            incoming_condition_values=None):
        conditions = self._statement.get("Condition") or {}
        keys = {key for block in conditions.values() for key in block}
        if keys - set(incoming_condition_values or {}):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted


def _patch_trust_principals() -> None:
    import fnmatch

    from moto.iam import policy_conditions
    from moto.iam.access_control import (
        IAMPolicy,
        IAMPolicyStatement,
        IAMRequestBase,
        PermissionResult,
    )
    from moto.iam.utils import format_incoming_conditional_values

    def arn_like(expected, actual: str) -> bool:
        patterns = [expected] if isinstance(expected, str) else expected
        return any(fnmatch.fnmatchcase(actual, p) for p in patterns)

    policy_conditions.CONDITION_OPERATIONS.update(
        ArnEquals=policy_conditions.string_equals_operation,
        ArnLike=arn_like, StringLike=arn_like)

    def principal_arn(caller: str) -> str:
        # arn:aws:sts::<acct>:assumed-role/<role>/<session> -> arn:aws:iam::<acct>:role/<role>
        _, partition, _, _, account, resource = caller.split(":", 5)
        if resource.startswith("assumed-role/"):
            return f"arn:{partition}:iam::{account}:role/{resource.split('/')[1]}"
        return caller

    def check_principal(self, principal: str) -> bool:
        expected = (self._statement.get("Principal") or {})
        if not expected:
            return True
        listed = expected.get("AWS") if isinstance(expected, dict) else expected
        if listed is None:
            return False  # a Service or Federated principal: not an IAM caller
        listed = [listed] if isinstance(listed, str) else listed
        account = principal.split(":")[4]
        return any(p in ("*", principal, principal_arn(principal), account,
                         f"arn:{principal.split(':')[1]}:iam::{account}:root")
                   for p in listed)

    IAMPolicyStatement._check_principal = check_principal

    def check_trust(self, role_arn: str) -> bool:
        # IAMRequestBase._check_role_trust_relationship, with aws:PrincipalArn in the
        # request context as IAM puts it there.
        values = format_incoming_conditional_values(self._data)
        values["aws:PrincipalArn"] = principal_arn(self._access_key.arn)
        trust = IAMPolicy(self.backend.get_role_by_arn(role_arn).assume_role_policy_document)
        return trust.is_action_permitted(self._action, role_arn, self._access_key.arn,
                                         values) == PermissionResult.PERMITTED

    IAMRequestBase._check_role_trust_relationship = check_trust


def _patch_resource_arns() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.glue.responses import GlueResponse

    def dynamodb_resource(self) -> str:
        # DynamoHandler.call_action has set self.body to the parsed parameters.
        table = self.body.get("TableName") if isinstance(self.body, dict) else None
        if not table:
            return "*"
        if table.startswith("arn:"):
            return table
        return f"arn:aws:dynamodb:{self.region}:{self.current_account}:table/{table}"

    def glue_resource(self) -> str:
        # IAM authorizes a table call against the catalog, the database and the table;
        # moto checks one resource, so the most specific one named.
        try:
            params = json.loads(self.body or "{}")
        except ValueError:
            return "*"
        base = f"arn:aws:glue:{self.region}:{self.current_account}"
        database, table = params.get("DatabaseName"), params.get("TableName")
        if database and table:
            return f"{base}:table/{database}/{table}"
        if database:
            return f"{base}:database/{database}"
        return "*"

    DynamoHandler._determine_resource = dynamodb_resource
    GlueResponse._determine_resource = glue_resource


def _patch_empty_payload_signature() -> None:
    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase._create_aws_request

    def create_aws_request(self):
        request = original(self)
        # A query-protocol call's parameters are its form body (moto may have consumed
        # it); any other request without a body was signed over an empty payload.
        form = "x-www-form-urlencoded" in (self._headers.get("Content-Type") or "")
        if not self._body and not form:
            request.data = b""
        return request

    IAMRequestBase._create_aws_request = create_aws_request


IAM_PREFIXES = {"monitoring": "cloudwatch"}
"""Signing name -> IAM action prefix, where the two differ (for the services we call)."""


def _patch_action_prefix() -> None:
    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase.__init__

    def init(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        service, _, action = self._action.partition(":")
        if service in IAM_PREFIXES:
            self._action = f"{IAM_PREFIXES[service]}:{action}"

    IAMRequestBase.__init__ = init


def _patch_json_access_denied() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.iam.access_control import IAMRequest

    original = IAMRequest._raise_access_denied

    class AccessDeniedException(JsonRESTError):
        code = 400

    def raise_access_denied(self) -> None:
        if "x-amz-json" not in (self._headers.get("Content-Type") or ""):
            original(self)
        raise AccessDeniedException(
            "AccessDeniedException",
            f"User: {self._access_key.arn} is not authorized to perform: {self._action}")

    IAMRequest._raise_access_denied = raise_access_denied


def _patch_head_bucket_action() -> None:
    from moto.s3 import responses

    responses.ACTION_MAP["BUCKET"]["HEAD"]["DEFAULT"] = "ListBucket"


def _patch_policy_matching() -> None:
    import functools
    import re

    from moto.iam.access_control import IAMPolicyStatement

    @functools.cache
    def compiled(pattern: str) -> re.Pattern[str]:
        # The regex moto builds in IAMPolicyStatement._match, compiled once.
        return re.compile("^" + pattern.replace("*", ".*") + "$")

    IAMPolicyStatement._match = staticmethod(lambda pattern, string: compiled(pattern).match(
        string))


def _patch_rotation_without_value() -> None:
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.rotate_secret

    def rotate_secret(self, secret_id, client_request_token=None, rotation_lambda_arn=None,
                      rotation_rules=None, rotate_immediately=True):
        secret = self.secrets[secret_id] if self._is_valid_identifier(secret_id) else None
        if secret is None or getattr(secret, "versions", True) or not rotation_lambda_arn:
            return original(self, secret_id, client_request_token, rotation_lambda_arn,
                            rotation_rules, rotate_immediately)
        from moto.awslambda.utils import get_backend

        get_backend(self.account_id, self.region_name).get_function(rotation_lambda_arn)
        result = original(self, secret_id, client_request_token, None, rotation_rules,
                          rotate_immediately)
        secret.rotation_lambda_arn = rotation_lambda_arn
        return result

    SecretsManagerBackend.rotate_secret = rotate_secret


def _patch_efs_backup_policy() -> None:
    from moto.efs.models import EFSBackend
    from moto.efs.responses import EFSResponse

    def put_backup_policy(self):
        file_system = self.efs_backend.file_systems_by_id[self._get_param("FileSystemId")]
        status = "ENABLED" if self._get_param("BackupPolicy")["Status"] in (
            "ENABLED", "ENABLING") else "DISABLED"
        file_system._backup = status == "ENABLED"
        file_system.backup_status = status
        return json.dumps({"BackupPolicy": {"Status": status}}), {
            "Content-Type": "application/json"}

    original = EFSBackend.describe_backup_policy

    def describe_backup_policy(self, file_system_id):
        status = getattr(self.file_systems_by_id.get(file_system_id), "backup_status", None)
        if status is not None:
            return {"Status": status}
        return original(self, file_system_id)

    EFSResponse.put_backup_policy = put_backup_policy

    def delete_file_system_policy(self):
        file_system = self.efs_backend.file_systems_by_id[self._get_param("FileSystemId")]
        file_system.file_system_policy = None
        return json.dumps({}), {"Content-Type": "application/json"}

    EFSResponse.delete_file_system_policy = delete_file_system_policy
    EFSBackend.describe_backup_policy = describe_backup_policy


def _patch_backup_list_tags() -> None:
    from urllib.parse import unquote

    from moto.backup.responses import BackupResponse

    def list_tags(self) -> str:
        arn = unquote(self.path.split("/tags/", 1)[1].rstrip("/"))
        return json.dumps({"Tags": self.backup_backend.list_tags(resource_arn=arn)})

    BackupResponse.list_tags = list_tags


ASSUMED_ROLES_LOG = "MOTO_ASSUMED_ROLES_LOG"
"""Environment variable of the moto process: the file AssumeRole calls are recorded in."""


def _record_assume_role() -> None:
    from moto.sts.models import STSBackend

    original = STSBackend.assume_role
    log = os.environ.get(ASSUMED_ROLES_LOG)

    def assume_role(self, **kwargs):
        role = original(self, **kwargs)
        if log:
            with open(log, "a") as handle:
                handle.write(json.dumps({"role_arn": kwargs.get("role_arn"),
                                         "session": kwargs.get("role_session_name")}) + "\n")
        return role

    STSBackend.assume_role = assume_role


def assumed_roles(log_path: Path) -> dict[str, int]:
    """`<role name>/<session>` -> how often it was assumed, from the run's record."""
    counts: dict[str, int] = {}
    if log_path.exists():
        for line in log_path.read_text().splitlines():
            entry = json.loads(line)
            key = f"{entry['role_arn'].rsplit('/', 1)[-1]}/{entry['session']}"
            counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def apply_patches() -> None:
    _record_assume_role()
    _patch_action_prefix()
    _patch_resource_arns()
    _patch_backup_list_tags()
    _patch_efs_backup_policy()
    _patch_empty_payload_signature()
    _patch_head_bucket_action()
    _patch_json_access_denied()
    _patch_kms_replicate_key()
    _patch_policy_conditions()
    _patch_policy_matching()
    _patch_rotation_without_value()
    _patch_trust_principals()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalAws:
    """A moto server subprocess; use as a context manager (stopped on any exit, Ctrl-C too).

    With `enforce_iam` (the default) moto authorizes every call after the setup calls
    against its caller's policies; `credentials` are then the administrator's keys in
    moto's default account, and `account_credentials[<id>]` an administrator's keys in
    each of `accounts` (the environments' own accounts)."""

    log_path: Path
    port: int = 0
    enforce_iam: bool = True
    accounts: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    credentials: dict[str, str] = field(default_factory=lambda: dict(FAKE_CREDENTIALS))
    account_credentials: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def settings(self) -> dict[str, str]:
        """The server's moto settings (environment variables)."""
        extra = [a for a in self.accounts if a != ACCOUNT_ID]
        return {**MOTO_SETTINGS,
                **(enforcing_settings(len(extra)) if self.enforce_iam else {})}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def assumed_roles_log(self) -> Path:
        return self.log_path.parent / "assumed-roles.jsonl"

    def start(self, timeout: float = 60.0) -> LocalAws:
        self.port = self.port or free_port()
        env = {**os.environ, **self.settings, **FAKE_CREDENTIALS,
               ASSUMED_ROLES_LOG: str(self.assumed_roles_log)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local_deploy.local_aws",
             "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited at start:\n{self.log_path.read_text()}")
            try:
                self._post("/moto-api/config", MOTO_RUNTIME_CONFIG)
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server not ready after {timeout:.0f} s") from None
                time.sleep(0.2)
        if self.enforce_iam:
            # The last calls moto serves without authorization.
            self.credentials = self._create_admin(FAKE_CREDENTIALS)
            for account in self.accounts:
                self.account_credentials[account] = (
                    self.credentials if account == ACCOUNT_ID else self._create_admin(
                        self._setup_session(account)))
        return self

    def _setup_session(self, account: str) -> dict[str, str]:
        answer = self.client("sts", "us-east-1", FAKE_CREDENTIALS).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ACCOUNT_SETUP_ROLE}",
            RoleSessionName="setup")["Credentials"]
        return {"AWS_ACCESS_KEY_ID": answer["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": answer["SecretAccessKey"],
                "AWS_SESSION_TOKEN": answer["SessionToken"]}

    def _create_admin(self, session: dict[str, str]) -> dict[str, str]:
        """The administrator `local-admin` of the account `session` reaches, and its keys."""
        iam = self.client("iam", "us-east-1", session)
        iam.create_user(UserName=ADMIN_USER)
        iam.attach_user_policy(UserName=ADMIN_USER,
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    def _post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read() or b"{}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client(self, service: str, region: str, credentials: dict[str, str] | None = None):
        """A boto3 client against this server, as the administrator unless `credentials`
        (AWS_* names) say otherwise."""
        import boto3

        keys = credentials or self.credentials
        return boto3.client(
            service, region_name=region, endpoint_url=self.url,
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=keys.get("AWS_SESSION_TOKEN"),
        )


if __name__ == "__main__":
    apply_patches()
    from moto.server import main

    main(sys.argv[1:])
