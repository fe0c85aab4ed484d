"""Lambda function from a local zip, in a VPC, traced, with its encrypted log group."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction as LambdaFunctionResource,
)
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from constructs import Construct

from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.errors import Problems
from constructs_lib.formats import LOG_RETENTION_DAYS, SERVICE_PRINCIPAL, is_unresolved
from constructs_lib.grants import check_grant_id
from constructs_lib.prop_checks import check_name
from constructs_lib.refs import (
    KeyRef,
    LogGroupRef,
    RoleRef,
    SecurityGroupRef,
    ServicePrincipalRef,
    SubnetsRef,
    TopicRef,
)
from constructs_lib.tags import RequiredTags

RUNTIMES = (
    "python3.10", "python3.11", "python3.12", "python3.13",
    "nodejs18.x", "nodejs20.x", "nodejs22.x",
    "java17", "java21", "dotnet8", "provided.al2023",
)
ARCHITECTURES = ("x86_64", "arm64")
HANDLER = re.compile(r"^[A-Za-z0-9_./-]+\.[A-Za-z0-9_$]+$")
ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# A key that names a secret ends in one of these words (DB_PASSWORD, GH_TOKEN);
# settings about secrets (PASSWORD_LENGTH, SECRET_FORMAT) do not.
SECRET_KEY = re.compile(r"(^|_)(PASSWORD|SECRET|TOKEN|API_KEY)$")
# Values under a secret-sounding key that are references, not secrets: an ARN
# to read at runtime, or an AWS endpoint URL (e.g. SECRETS_MANAGER_ENDPOINT).
SECRET_REFERENCE = re.compile(r"^(arn:aws[a-z-]*:.+|https://[a-z0-9.-]+\.amazonaws\.com/?)$")
RESERVED_ENV_KEYS = frozenset({
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV", "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
})
MIN_LOG_RETENTION_DAYS = 365


@dataclass(frozen=True, kw_only=True)
class LambdaFunctionProps:
    name: str
    """Function name: kebab-case, starting with `<environment>-`, at most 64
    characters. The log group is `/aws/lambda/<name>`."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    package: Path
    """A deterministic .zip built by the caller; it is copied into the stack's
    assets and its SHA-256 becomes `source_code_hash`."""
    handler: str
    """Entry point, e.g. `rotation.handler`."""
    role: RoleRef
    """Execution role (built by the caller with the iam_role_policy construct);
    it needs VPC ENI, X-Ray and log permissions, and sns:Publish on the
    dead-letter topic if one is set."""
    kms_key: KeyRef
    """Customer-managed key encrypting the environment variables (set on the
    function only when `environment` is not empty)."""
    log_kms_key: KeyRef
    """Customer-managed key encrypting the log group."""
    subnets: SubnetsRef
    """Private subnets the function runs in."""
    security_groups: list[SecurityGroupRef]
    """Security groups of the function's network interfaces (at least one)."""
    runtime: str = "python3.12"
    """A supported Lambda runtime (Python 3.10-3.13, Node.js 18-22, Java 17/21,
    .NET 8, provided.al2023). Left out: python3.12."""
    architecture: str = "x86_64"
    """'x86_64' or 'arm64'."""
    timeout: int = 30
    """Seconds, 1 to 900."""
    memory_size: int = 256
    """MiB, 128 to 10240."""
    description: str | None = None
    """When left out, the function has no description."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Environment variables. Keys naming a PASSWORD, SECRET or TOKEN must hold
    a reference (a cdktf token, an ARN or an AWS endpoint URL), never the
    secret itself. When left out, the function has no variables."""
    reserved_concurrent_executions: int | None = None
    """When left out, the function draws from the account's unreserved concurrency."""
    dead_letter_topic: TopicRef | None = None
    """Topic receiving failed asynchronous invocations. When left out, failed
    events are dropped after Lambda's retries."""
    log_retention_days: int = 365
    """Retention of `/aws/lambda/<name>`, at least 365 days."""


class LambdaFunction(Construct):
    """A VPC Lambda function with X-Ray tracing, KMS-encrypted environment and
    its own KMS-encrypted log group (created before the function so Lambda
    never creates an unencrypted one)."""

    def __init__(self, scope: Construct, id: str, props: LambdaFunctionProps):
        super().__init__(scope, id)
        self.props = props
        _validate(props, self.node.path)
        name = props.name
        log_group_name = f"/aws/lambda/{name}"

        self.logs = CloudwatchLogGroup(self, "logs", CloudwatchLogGroupProps(
            name=log_group_name,
            tags=props.tags,
            kms_key=props.log_kms_key,
            retention_in_days=props.log_retention_days,
        ))
        self.log_group = self.logs.log_group
        self.asset = TerraformAsset(
            self, "package", path=str(props.package.resolve()), type=AssetType.FILE)
        self.function = LambdaFunctionResource(
            self, "function",
            function_name=name,
            description=props.description,
            role=props.role.arn,
            handler=props.handler,
            runtime=props.runtime,
            architectures=[props.architecture],
            filename=self.asset.path,
            # Computed here rather than with filebase64sha256() so the JSON shows
            # the literal hash reviewers can compare with the built zip.
            source_code_hash=package_sha256(props.package),
            timeout=props.timeout,
            memory_size=props.memory_size,
            # Only with variables: a key without them never settles in state (perpetual diff).
            kms_key_arn=props.kms_key.arn if props.environment else None,
            environment=LambdaFunctionEnvironment(
                variables=dict(sorted(props.environment.items()))
            ) if props.environment else None,
            vpc_config=LambdaFunctionVpcConfig(
                subnet_ids=props.subnets.ids,
                security_group_ids=[group.id for group in props.security_groups],
            ),
            tracing_config=LambdaFunctionTracingConfig(mode="Active"),
            reserved_concurrent_executions=props.reserved_concurrent_executions,
            dead_letter_config=LambdaFunctionDeadLetterConfig(
                target_arn=props.dead_letter_topic.arn) if props.dead_letter_topic else None,
            tags=props.tags.resource_tags(name),
            depends_on=[self.log_group],
        )

    @property
    def arn(self) -> str:
        return self.function.arn

    @property
    def name(self) -> str:
        return self.function.function_name

    @property
    def log_group_ref(self) -> LogGroupRef:
        return self.logs.ref

    def grant_invoke(self, service: ServicePrincipalRef, *, id: str) -> LambdaPermission:
        """Let `service` invoke the function, only on behalf of its `source_arn`
        (confused-deputy guard), with the permission statement `allow-<id>`
        (grant shape: constructs_lib/grants.py)."""
        problems = Problems(self.node.path)
        construct_id = check_grant_id(problems, self, "grant_invoke", "invoke", id)
        if not isinstance(service, ServicePrincipalRef):
            problems.add("grant_invoke grantee", service, "allowed is a ServicePrincipalRef")
            problems.raise_if_any()
        if not SERVICE_PRINCIPAL.match(service.service):
            problems.add("grant_invoke service", service.service,
                         "allowed are AWS service principals such as 'events.amazonaws.com'")
        arn = service.source_arn
        if not arn or not (is_unresolved(arn) or arn.startswith("arn:")):
            problems.add("grant_invoke source_arn", arn,
                         "allowed is the ARN of the resource that invokes the function")
        problems.raise_if_any()
        return LambdaPermission(
            self, construct_id,
            statement_id=f"allow-{id}",
            action="lambda:InvokeFunction",
            function_name=self.function.function_name,
            principal=service.service,
            source_arn=arn,
        )


def package_sha256(package: Path) -> str:
    """base64(SHA-256) of the zip, the form Lambda reports as CodeSha256."""
    return base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode("ascii")


def _validate(props: LambdaFunctionProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=64)
    package = Path(props.package)
    if package.suffix != ".zip" or not package.is_file():
        problems.add("package", str(props.package), "allowed is the path of an existing .zip file")
    if not HANDLER.match(props.handler):
        problems.add("handler", props.handler,
                     "allowed is '<module>.<function>', e.g. 'app.handler'")
    if props.runtime not in RUNTIMES:
        problems.add("runtime", props.runtime, f"allowed are {', '.join(RUNTIMES)}")
    if props.architecture not in ARCHITECTURES:
        problems.add("architecture", props.architecture, f"allowed are {', '.join(ARCHITECTURES)}")
    if not 1 <= props.timeout <= 900:
        problems.add("timeout", props.timeout, "allowed is 1 to 900 seconds")
    if not 128 <= props.memory_size <= 10240:
        problems.add("memory_size", props.memory_size, "allowed is 128 to 10240 MiB")
    reserved = props.reserved_concurrent_executions
    if reserved is not None and reserved < 1:
        problems.add("reserved_concurrent_executions", reserved,
                     "allowed is at least 1 (0 would stop every invocation)")
    if props.log_retention_days not in LOG_RETENTION_DAYS or \
            props.log_retention_days < MIN_LOG_RETENTION_DAYS:
        allowed = [d for d in LOG_RETENTION_DAYS if d >= MIN_LOG_RETENTION_DAYS]
        problems.add("log_retention_days", props.log_retention_days,
                     f"allowed are {', '.join(map(str, allowed))}")
    if not props.subnets.ids:
        problems.add("subnets.ids", props.subnets.ids, "at least one subnet is required")
    if not props.security_groups:
        problems.add("security_groups", props.security_groups,
                     "at least one security group is required")
    for key, value in props.environment.items():
        if not ENV_KEY.match(key) or key in RESERVED_ENV_KEYS:
            problems.add(f"environment key {key!r}", key,
                         "allowed are names of letters, digits and underscores "
                         "that Lambda does not reserve")
        elif SECRET_KEY.search(key.upper()) and not (
            is_unresolved(value) or SECRET_REFERENCE.match(str(value))
        ):
            # Never echo the value: it may be the secret itself.
            problems.add(f"environment[{key!r}]", "<redacted>",
                         "a secret must not be a literal; pass its ARN (or a token) and "
                         "read it from Secrets Manager at runtime")
    problems.raise_if_any()

