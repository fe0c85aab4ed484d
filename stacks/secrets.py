"""Secrets Manager secrets the application stacks need, and the Lambda that rotates the
generated ones (and keeps the GitHub webhook and Atlantis in step with the webhook secret)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_policy import SecretsmanagerSecretPolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation,
    SecretsmanagerSecretRotationRotationRules,
)
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from constructs_lib.iam_role_policy import (
    Condition,
    IamRoleWithPolicies,
    IamRoleWithPoliciesProps,
    PolicyStatement,
)
from constructs_lib.lambda_function import LambdaFunction, LambdaFunctionProps
from constructs_lib.lambda_package import LAMBDA_SOURCE_ROOT, SECRET_ROTATION_HANDLER, build_zip
from constructs_lib.policy_document import EVERYONE, policy_document
from constructs_lib.refs import KeyRef, ServicePrincipalRef, SubnetsRef, VpcRef
from constructs_lib.security_group import (
    EgressRule,
    IngressRule,
    SecurityGroup,
    SecurityGroupProps,
)
from stacks.atlantis_repo_config import cluster_name, execution_role_name, service_name
from stacks.base import BuildContext, GovernedStack
from stacks.spec import StackSpec

PACKAGE_DIR = Path(tempfile.gettempdir()) / "cdktf-lambda-packages"
HTTPS = 443
RECOVERY_WINDOW_DAYS = 30
# Within checkov's 90-day limit (CKV_AWS_304). See the class docstring for
# what each rotation of the webhook secret does outside Secrets Manager.
ROTATION_DAYS = 30
VPC_ACCESS_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
# Tracing is on in the Lambda construct; X-Ray has no resource-level permissions.
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
ROTATION_ACTIONS = (
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetSecretValue",
    "secretsmanager:PutSecretValue",
    "secretsmanager:UpdateSecretVersionStage",
)
# What reads a secret's value. BatchGetSecretValue needs GetSecretValue on every
# secret it returns, so denying this one action denies both ways of reading.
VALUE_READS = ("secretsmanager:GetSecretValue",)


class SecretsStack(GovernedStack):
    """The Atlantis GitHub token and web UI credentials (set by an operator) and
    the webhook secret (generated and rotated by our Lambda), all encrypted with
    the secrets key.

    GitHub keeps its own copy of the webhook secret and Atlantis reads the
    secret only when a task starts (ECS injects ATLANTIS_GH_WEBHOOK_SECRET), so
    the rotation of the webhook secret keeps both in step:

    - setSecret sets the repository webhook's secret (the hook delivering to
      `https://atlantis.<domain>/events`) to the AWSPENDING value through
      GitHub's REST API, with the bot token of the GitHub token secret;
    - testSecret checks that the hook is still there, active and has a secret;
    - finishSecret moves AWSCURRENT, then forces a new deployment of the
      Atlantis service so a new task reads the new value.

    The bot token must be allowed to manage the repository's webhooks (admin
    access to the repository; classic token scope `repo` or `admin:repo_hook`,
    fine-grained "Webhooks" read and write); without it GitHub answers 403
    and no rotation completes.

    When GitHub refuses or does not answer within the timeout, setSecret fails,
    and with it the rotation: AWSCURRENT keeps the old value, which GitHub and
    Atlantis still share, so deliveries keep working; AWSPENDING stays for the
    retry, which sends the same value again. Between setSecret and the new
    Atlantis task being healthy (a few minutes: the old task stops before the
    new one starts) deliveries fail: the old task rejects the new signature
    with 400 "request did not pass validation", then the ALB answers 5xx while
    no task runs. Redeliver them from the webhook's "Recent Deliveries" once
    the new task is healthy. The same window stays open if finishSecret cannot
    start the deployment: it fails with the `aws ecs update-service ...
    --force-new-deployment` command to run (a retried finishSecret runs it too).
    """

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        env = self.settings.name
        secrets_key = KeyRef(arn=self.consume("kms", "secrets-key-arn"))
        logs_key = KeyRef(arn=self.consume("kms", "logs-key-arn"))
        vpc_cidr = self.consume("network", "vpc-cidr")
        vpc = VpcRef(vpc_id=self.consume("network", "vpc-id"), cidr_block=vpc_cidr)
        private_subnets = SubnetsRef(ids=self.consume_list("network", "private-subnet-ids"))
        account_id = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        # The names the atlantis stack gives its cluster and service, from the
        # same functions rather than its SSM parameters: secrets deploys first.
        atlantis_cluster = cluster_name(env)
        atlantis_service = service_name(env)
        atlantis_service_arn = (f"arn:{partition}:ecs:{self.settings.region}:{account_id}:"
                                f"service/{atlantis_cluster}/{atlantis_service}")
        events_url = f"https://atlantis.{self.settings.domain}/events"
        rotation_name = self.resource_name("secret-rotation")
        # The roles that read the values, by ARN built from their names: the
        # execution role ECS starts Atlantis with (atlantis stack, later) and
        # the rotation function's role (below). See _secret for the policy.
        iam = f"arn:{partition}:iam::{account_id}"
        atlantis_execution_role = f"{iam}:role/{execution_role_name(env)}"
        rotation_role = f"{iam}:role/{rotation_name}"

        # The value never passes through Terraform (no secret version here), so
        # it is in neither the JSON nor the state. Set it once, and on renewal:
        #   aws secretsmanager put-secret-value \
        #     --secret-id prod/atlantis/github-token \
        #     --secret-string '{"user":"<bot login>","token":"<token>"}'
        # JSON, because Atlantis needs the bot user beside the token
        # (ATLANTIS_GH_USER / ATLANTIS_GH_TOKEN read `:user::` and `:token::`).
        self.github_token = self._secret(
            "github-token", "atlantis/github-token", secrets_key,
            "GitHub user and token of the Atlantis bot, JSON "
            '{"user": ..., "token": ...}; set out of band with put-secret-value',
            # The rotation function authenticates the webhook update with it.
            readers=(atlantis_execution_role, rotation_role))
        # Generated by the rotation function (JSON {"value": ...}); the first
        # rotation runs when the schedule is created, so it never lacks a value.
        self.webhook_secret = self._secret(
            "webhook-secret", "atlantis/webhook-secret", secrets_key,
            'Atlantis GitHub webhook secret, JSON {"value": ...}; '
            "generated and rotated by the rotation function",
            readers=(atlantis_execution_role, rotation_role))
        # Atlantis' web UI basic auth. Like the token, chosen and put by an
        # operator, so neither in the JSON nor the state:
        #   aws secretsmanager put-secret-value \
        #     --secret-id prod/atlantis/web-credentials \
        #     --secret-string '{"username":"<user>","password":"<password>"}'
        # (ATLANTIS_WEB_USERNAME / ATLANTIS_WEB_PASSWORD read `:username::` and
        # `:password::`). Change it the same way, then force a new deployment of
        # the Atlantis service: ECS injects it only when a task starts.
        self.web_credentials = self._secret(
            "atlantis-web-credentials", "atlantis/web-credentials", secrets_key,
            "Atlantis web UI basic auth, JSON "
            '{"username": ..., "password": ...}; set out of band with put-secret-value',
            readers=(atlantis_execution_role,))

        # An interface endpoint in the private subnets keeps the function's
        # Secrets Manager traffic (secret values) inside the VPC instead of
        # going through the NAT gateway. Private DNS makes every client in the
        # VPC (the Atlantis tasks too) use it, hence 443 from the whole VPC.
        endpoint_group = SecurityGroup(self, "endpoint-security-group", SecurityGroupProps(
            name=self.resource_name("secretsmanager-endpoint"),
            description="Secrets Manager interface endpoint: HTTPS from inside the VPC",
            vpc=vpc,
            tags=self.tags,
            ingress=(IngressRule(
                from_port=HTTPS, to_port=HTTPS, cidr_blocks=(vpc_cidr,),
                description="Secrets Manager API calls from clients in the VPC"),),
        ))
        # Only principals of this account, and only on this account's secrets:
        # a key or session of another account, or a secret of another account,
        # cannot be used through the VPC (the calls without a resource, e.g.
        # the rotation's GetRandomPassword, are named on their own).
        own = (Condition(test="StringEquals", variable="aws:PrincipalAccount",
                         values=(account_id,)),)
        endpoint_policy = policy_document(self, "secretsmanager-endpoint-policy", (
            PolicyStatement(
                sid="OwnPrincipalsOnOwnSecrets", actions=("secretsmanager:*",),
                resources=(f"arn:{partition}:secretsmanager:{self.settings.region}:"
                           f"{account_id}:secret:*",),
                principals=(EVERYONE,), conditions=own),
            PolicyStatement(
                sid="OwnPrincipalsAccountLevelCalls",
                actions=("secretsmanager:BatchGetSecretValue",
                         "secretsmanager:GetRandomPassword", "secretsmanager:ListSecrets"),
                resources=("*",),
                principals=(EVERYONE,), conditions=own),
        ))
        self.endpoint = VpcEndpoint(
            self, "secretsmanager-endpoint",
            vpc_id=vpc.vpc_id,
            service_name=f"com.amazonaws.{self.settings.region}.secretsmanager",
            vpc_endpoint_type="Interface",
            subnet_ids=private_subnets.ids,
            security_group_ids=[endpoint_group.id],
            private_dns_enabled=True,
            policy=endpoint_policy.json,
            tags=self.tags.resource_tags(self.resource_name("secretsmanager-endpoint")),
        )
        function_group = SecurityGroup(self, "rotation-security-group", SecurityGroupProps(
            name=rotation_name,
            # Kept although the function now also reaches GitHub and ECS: a new
            # description would replace the group (and the function's ENIs).
            description="Secret rotation function: no inbound, HTTPS to the Secrets Manager endpoint",
            vpc=vpc,
            tags=self.tags,
            egress=(
                EgressRule(
                    from_port=HTTPS, to_port=HTTPS, destination_security_group=endpoint_group.ref,
                    description="Secrets Manager API through the VPC interface endpoint"),
                # api.github.com has no fixed address range to name, and there
                # is no ECS interface endpoint: both through the NAT gateway.
                EgressRule(
                    from_port=HTTPS, to_port=HTTPS, cidr_blocks=("0.0.0.0/0",),
                    description="HTTPS to the GitHub API and the ECS API through the NAT"),
            ),
        ))

        rotated = (self.webhook_secret.arn,)
        role = IamRoleWithPolicies(self, "rotation-role", IamRoleWithPoliciesProps(
            name=rotation_name,
            tags=self.tags,
            description="Execution role of the secret rotation function",
            service_principals=("lambda.amazonaws.com",),
            # Only Lambda acting for this account may assume the role.
            trust_conditions=(Condition(test="StringEquals", variable="aws:SourceAccount",
                                        values=(account_id,)),),
            # ENI management for the VPC placement and the function's logs.
            managed_policy_arns=(VPC_ACCESS_POLICY_ARN,),
            inline_policies={
                "rotate": (
                    PolicyStatement(sid="RotateGeneratedSecrets", actions=ROTATION_ACTIONS,
                                    resources=rotated),
                    # GetRandomPassword acts on no resource, so "*" is its only
                    # form; the action itself is not a wildcard.
                    PolicyStatement(sid="GenerateRandomValues",
                                    actions=("secretsmanager:GetRandomPassword",),
                                    resources=("*",)),
                    # The bot token that authenticates the webhook update; the
                    # secrets key below decrypts it too.
                    PolicyStatement(sid="ReadGithubToken",
                                    actions=("secretsmanager:GetSecretValue",),
                                    resources=(self.github_token.arn,)),
                    PolicyStatement(sid="RestartAtlantis", actions=("ecs:UpdateService",),
                                    resources=(atlantis_service_arn,)),
                    PolicyStatement(sid="UseSecretsKey",
                                    actions=("kms:Decrypt", "kms:GenerateDataKey"),
                                    resources=(secrets_key.arn,)),
                    PolicyStatement(sid="WriteTraces", actions=XRAY_ACTIONS, resources=("*",)),
                ),
            },
        ))

        self.rotation_function = LambdaFunction(self, "rotation-function", LambdaFunctionProps(
            name=rotation_name,
            tags=self.tags,
            package=_rotation_package(),
            handler=SECRET_ROTATION_HANDLER,
            role=role.ref,
            kms_key=secrets_key,
            log_kms_key=logs_key,
            subnets=private_subnets,
            security_groups=[function_group.ref],
            runtime="python3.12",
            timeout=60,
            memory_size=256,
            description="Rotates generated Secrets Manager secrets (createSecret..finishSecret)",
            # The handler's generation defaults (48 letters and digits, JSON key
            # "value") are what the webhook secret needs; these name where its
            # copies live. GITHUB_API_URL and GITHUB_TIMEOUT_SECONDS keep their
            # defaults (https://api.github.com, 10 s).
            environment={
                "WEBHOOK_SECRET_ARN": self.webhook_secret.arn,
                "GITHUB_REPOSITORY": self.settings.github.repository,
                "WEBHOOK_URL": events_url,
                "GITHUB_TOKEN_SECRET_ARN": self.github_token.arn,
                "ATLANTIS_ECS_CLUSTER": atlantis_cluster,
                "ATLANTIS_ECS_SERVICE": atlantis_service,
            },
        ))
        permission = self.rotation_function.grant_invoke(
            ServicePrincipalRef(service="secretsmanager.amazonaws.com",
                                source_arn=self.webhook_secret.arn),
            id="secretsmanager-webhook-secret")
        SecretsmanagerSecretRotation(
            self, "webhook-secret-rotation",
            secret_id=self.webhook_secret.id,
            rotation_lambda_arn=self.rotation_function.arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(
                automatically_after_days=ROTATION_DAYS),
            # Secrets Manager invokes the function at once: it must be allowed to.
            depends_on=[permission],
        )

        self.publish("atlantis-github-token-arn", self.github_token.arn,
                     "ARN of the Atlantis GitHub user/token secret (JSON keys user, token)")
        self.publish("atlantis-webhook-secret-arn", self.webhook_secret.arn,
                     "ARN of the Atlantis webhook secret (JSON key value)")
        self.publish("atlantis-web-credentials-arn", self.web_credentials.arn,
                     "ARN of the Atlantis web UI basic auth secret (JSON keys username, password)")
        self.publish("rotation-function-arn", self.rotation_function.arn,
                     "ARN of the secret rotation Lambda function")
        self.publish("secretsmanager-endpoint-id", self.endpoint.id,
                     "ID of the Secrets Manager interface endpoint in the private subnets")


    def _secret(self, id: str, path: str, key: KeyRef, description: str, *,
                readers: tuple[str, ...]) -> SecretsmanagerSecret:
        """`<env>/<path>`, encrypted with the secrets key, tagged `<env>-<path with ->`,
        whose value only the roles `readers` (ARNs) may read."""
        env = self.settings.name
        secret = SecretsmanagerSecret(
            self, id,
            name=f"{env}/{path}",
            description=description,
            kms_key_id=key.arn,
            recovery_window_in_days=RECOVERY_WINDOW_DAYS,
            tags=self.tags.resource_tags(f"{env}-{path.replace('/', '-')}"),
        )
        # An identity policy that happens to allow GetSecretValue (an admin's,
        # the apply role's AdministratorAccess) no longer reads the value: only
        # `readers` do. Who keeps what:
        # - the readers are named in a condition on aws:PrincipalArn, not as a
        #   Principal: Secrets Manager refuses a Principal naming a role that
        #   does not exist yet (the execution role comes with the atlantis
        #   stack), and a role deleted and created again keeps matching;
        # - ECS reads with the execution role when it starts a task; Secrets
        #   Manager's rotation only invokes the function (its permission is
        #   the function's resource policy), which reads with its own role;
        # - Terraform never reads a value (no secret versions here): the apply
        #   role keeps DescribeSecret, UpdateSecret, TagResource, RotateSecret,
        #   DeleteSecret and Put/DeleteResourcePolicy, and the plan role
        #   GetResourcePolicy, so a missing reader is fixed by changing this
        #   policy in a PR;
        # - writes are not denied: operators put the token and the web
        #   credentials and run the rotation runbook's
        #   update-secret-version-stage as roles this code cannot name, and a
        #   value written reveals nothing.
        readers_only = policy_document(self, f"{id}-readers", (PolicyStatement(
            sid="OnlyNamedRolesReadTheValue",
            effect="Deny",
            actions=VALUE_READS,
            # In a secret's policy "*" is the secret itself.
            resources=("*",),
            principals=(EVERYONE,),
            conditions=(Condition(test="ArnNotEquals", variable="aws:PrincipalArn",
                                  values=readers),),
        ),))
        SecretsmanagerSecretPolicy(
            self, f"{id}-policy",
            secret_arn=secret.arn,
            policy=readers_only.json,
            # Secrets Manager refuses a policy that would open the secret to
            # other accounts or everyone.
            block_public_policy=True,
        )
        return secret

def _rotation_package() -> Path:
    """Build the rotation zip into a fixed path under the temp directory.

    TerraformAsset copies it into the output when the app synthesizes, after
    the stacks are built, so it must outlive this call; a fixed path (replaced
    atomically with identical bytes by every synth) leaves nothing behind to
    clean up, even when the process ends with os._exit."""
    return build_zip(LAMBDA_SOURCE_ROOT, PACKAGE_DIR / "secret-rotation.zip")
