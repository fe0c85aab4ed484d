"""Atlantis on ECS Fargate behind an internet-facing ALB, with its data directory on EFS."""

from __future__ import annotations

import json

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
    EcsTaskDefinitionVolumeEfsVolumeConfiguration,
    EcsTaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfig,
)
from cdktf_cdktf_provider_aws.efs_access_point import (
    EfsAccessPoint,
    EfsAccessPointPosixUser,
    EfsAccessPointRootDirectory,
    EfsAccessPointRootDirectoryCreationInfo,
)
from cdktf_cdktf_provider_aws.efs_backup_policy import EfsBackupPolicy, EfsBackupPolicyBackupPolicy
from cdktf_cdktf_provider_aws.efs_file_system import (
    EfsFileSystem,
    EfsFileSystemLifecyclePolicy,
)
from cdktf_cdktf_provider_aws.efs_file_system_policy import EfsFileSystemPolicy
from cdktf_cdktf_provider_aws.efs_mount_target import EfsMountTarget
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

from constructs_lib.alb import ApplicationLoadBalancer, ApplicationLoadBalancerProps
from constructs_lib.cloudwatch_log_group import CloudwatchLogGroup, CloudwatchLogGroupProps
from constructs_lib.ecr import EcrRepository, EcrRepositoryProps
from constructs_lib.iam_role_policy import IamRoleWithPolicies, IamRoleWithPoliciesProps
from constructs_lib.policy_document import Condition, PolicyStatement, Principal, policy_document
from constructs_lib.refs import CertificateRef, KeyRef, SubnetsRef, VpcRef
from constructs_lib.security_group import (
    EgressRule,
    IngressRule,
    SecurityGroup,
    SecurityGroupProps,
)
from stacks.atlantis_repo_config import (
    CHECKOUT_STRATEGY,
    IMAGE,
    apply_role_name,
    cluster_name,
    execution_role_name,
    plan_role_name,
    server_repo_config,
    service_name,
    task_role_name,
)
from stacks.base import BuildContext, GovernedStack
from stacks.spec import StackSpec

# IMAGE is pinned by tag. A digest (`...@sha256:<digest>`) would also pin the bytes;
# take it from `docker buildx imagetools inspect` of the tag when upgrading.
# The image's `atlantis` user (Dockerfile: adduser -u 100, addgroup --gid 1000).
ATLANTIS_UID = 100
ATLANTIS_GID = 1000
PORT = 4141
HTTPS = 443
NFS = 2049
CONTAINER = "atlantis"
# The user's home lives on EFS: the data directory, and the files git and
# terraform keep in $HOME, survive restarts and the root filesystem stays read-only.
HOME = "/home/atlantis"
DATA_DIR = f"{HOME}/.atlantis"
LOG_GROUP = "/aws/ecs/atlantis/application"
LOG_BUFFER_SIZE = "25m"
"""The awslogs buffer of each container in non-blocking mode (Docker's default: 1m),
held in the task's memory (AtlantisSettings.task_memory_mib)."""
TASK_EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
# The image's own HEALTHCHECK uses curl, which both its Alpine and Debian
# variants install (busybox wget exists only in the Alpine one).
HEALTH_CHECK = f"curl -f http://localhost:{PORT}/healthz || exit 1"
class AtlantisStack(GovernedStack):
    """ECR repository, ECS cluster, Fargate service running Atlantis, its EFS
    data, the public ALB and `atlantis.<domain>`."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec, context)
        # `<env>-atlantis`: the repository, task family and load balancer carry
        # it as their name, the security groups and the EFS data as a prefix.
        self.base_name = self.resource_name("atlantis")
        self._read_upstream()
        self._image_repository()
        self._cluster_and_log_group()
        self._security_groups()
        self._data_file_system()
        self._file_system_policy()
        self._roles()
        self._task_definition()
        self._load_balancer()
        self._service()
        self._dns()
        self._publish_contract()

    def _read_upstream(self) -> None:
        """What this stack reads from earlier stacks' SSM contracts."""
        self.keys = {p: KeyRef(arn=self.consume("kms", f"{p}-key-arn"))
                     for p in ("ecr", "logs", "efs", "secrets")}
        self.vpc = VpcRef(vpc_id=self.consume("network", "vpc-id"),
                          cidr_block=self.consume("network", "vpc-cidr"))
        self.public_subnets = SubnetsRef(ids=self.consume_list("network", "public-subnet-ids"))
        self.private_subnets = SubnetsRef(ids=self.consume_list("network", "private-subnet-ids"))
        self.certificate = CertificateRef(arn=self.consume("acm", "certificate-arn"))
        self.zone_id = self.consume("route53", "zone-id")
        self.github_token_arn = self.consume("secrets", "atlantis-github-token-arn")
        self.webhook_secret_arn = self.consume("secrets", "atlantis-webhook-secret-arn")
        self.web_credentials_arn = self.consume("secrets", "atlantis-web-credentials-arn")
        self.role_arns = self._terraform_role_arns()

    def _terraform_role_arns(self) -> dict[str, dict[str, str]]:
        """environment -> plan/apply -> the role ARN, for every environment this
        server plans: this environment's from bootstrap's contract, the others'
        (in their own accounts, out of reach of SSM) from their settings and the
        names their bootstrap gives them."""
        partition = DataAwsPartition(self, "partition").partition
        arns = {}
        for served in self.context.served:
            if served.name == self.settings.name:
                arns[served.name] = {
                    "plan": self.consume("bootstrap", "atlantis-plan-role-arn"),
                    "apply": self.consume("bootstrap", "atlantis-apply-role-arn")}
            else:
                iam = f"arn:{partition}:iam::{served.account_id}:role"
                arns[served.name] = {"plan": f"{iam}/{plan_role_name(served.name)}",
                                     "apply": f"{iam}/{apply_role_name(served.name)}"}
        return arns

    def _image_repository(self) -> None:
        # For a custom image later; the service runs the pinned upstream image.
        self.repository = EcrRepository(self, "repository", EcrRepositoryProps(
            name=self.base_name, tags=self.tags, kms_key=self.keys["ecr"]))

    def _cluster_and_log_group(self) -> None:
        env = self.settings.name
        self.cluster = EcsCluster(
            self, "cluster",
            # The reference's runbook names the cluster `atlantis-prod`
            # (NAM001 exception for exactly that name).
            name=cluster_name(env),
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
            tags=self.tags.resource_tags(cluster_name(env)),
        )
        self.log_group = CloudwatchLogGroup(self, "log-group", CloudwatchLogGroupProps(
            name=LOG_GROUP, tags=self.tags, kms_key=self.keys["logs"],
            retention_in_days=self.settings.log_retention_days))

    def _security_groups(self) -> None:
        """ALB -> service (4141) -> EFS (2049)."""
        name, vpc = self.base_name, self.vpc
        # Created in this order so each rule can name the group it points to;
        # the two inbound rules that point backwards are added afterwards.
        efs_group = SecurityGroup(self, "efs-security-group", SecurityGroupProps(
            name=f"{name}-efs",
            description="Atlantis EFS: NFS from the Atlantis service only",
            vpc=vpc, tags=self.tags,
        ))
        service_group = SecurityGroup(self, "service-security-group", SecurityGroupProps(
            name=f"{name}-service",
            description="Atlantis tasks: 4141 from the ALB; out to HTTPS and EFS",
            vpc=vpc, tags=self.tags,
            egress=(
                # GitHub, ghcr.io, Terraform registries and AWS APIs have no
                # fixed address ranges.
                EgressRule(from_port=HTTPS, to_port=HTTPS, cidr_blocks=("0.0.0.0/0",),
                           description="HTTPS to GitHub, image registries and AWS APIs"),
                EgressRule(from_port=NFS, to_port=NFS,
                           destination_security_group=efs_group.ref,
                           description="NFS to the Atlantis data file system"),
            ),
        ))
        alb_group = SecurityGroup(self, "alb-security-group", SecurityGroupProps(
            name=f"{name}-alb",
            description="Atlantis ALB: HTTP/HTTPS from anywhere, 4141 to the tasks",
            vpc=vpc, tags=self.tags,
            ingress=tuple(
                IngressRule(from_port=port, to_port=port, cidr_blocks=("0.0.0.0/0",),
                            description=description)
                for port, description in (
                    (HTTPS, "HTTPS from GitHub webhooks and users"),
                    (80, "HTTP from anywhere, redirected to HTTPS"))),
            allow_public_ingress_reason="public webhook endpoint for GitHub",
            egress=(EgressRule(from_port=PORT, to_port=PORT,
                               destination_security_group=service_group.ref,
                               description="Forward to the Atlantis tasks"),),
        ))
        service_group.allow_from(alb_group.ref, PORT, "Atlantis from its load balancer")
        efs_group.allow_from(service_group.ref, NFS, "NFS from the Atlantis tasks")
        self.efs_security_group = efs_group
        self.service_security_group = service_group
        self.alb_security_group = alb_group

    def _data_file_system(self) -> None:
        """EFS holding the data directory, mounted in every private subnet
        through one access point that owns it as the atlantis user."""
        name = self.base_name
        self.file_system = EfsFileSystem(
            self, "data",
            creation_token=f"{name}-data",
            encrypted=True,
            kms_key_id=self.keys["efs"].arn,
            performance_mode="generalPurpose",
            throughput_mode="elastic",
            lifecycle_policy=[
                EfsFileSystemLifecyclePolicy(transition_to_ia="AFTER_30_DAYS"),
                EfsFileSystemLifecyclePolicy(transition_to_primary_storage_class="AFTER_1_ACCESS"),
            ],
            lifecycle={"prevent_destroy": True},
            tags=self.tags.resource_tags(f"{name}-data"),
        )
        EfsBackupPolicy(self, "data-backup", file_system_id=self.file_system.id,
                        backup_policy=EfsBackupPolicyBackupPolicy(status="ENABLED"))
        # One mount target per private subnet; the SSM list is only known at
        # apply time, its length is a setting.
        for i in range(len(self.settings.network.private_subnets)):
            EfsMountTarget(
                self, f"data-mount-target-{i}",
                file_system_id=self.file_system.id,
                subnet_id=Fn.element(self.private_subnets.ids, i),
                security_groups=[self.efs_security_group.id],
            )
        self.access_point = EfsAccessPoint(
            self, "data-access-point",
            file_system_id=self.file_system.id,
            posix_user=EfsAccessPointPosixUser(uid=ATLANTIS_UID, gid=ATLANTIS_GID),
            root_directory=EfsAccessPointRootDirectory(
                path="/atlantis",
                creation_info=EfsAccessPointRootDirectoryCreationInfo(
                    owner_uid=ATLANTIS_UID, owner_gid=ATLANTIS_GID, permissions="0750"),
            ),
            tags=self.tags.resource_tags(f"{name}-data"),
        )

    def _file_system_policy(self) -> None:
        """TLS only, and no client may act as root on the data."""
        file_system_policy = policy_document(self, "data-policy-document", [
            PolicyStatement(
                sid="DenyInsecureTransport", effect="Deny", actions=("*",),
                resources=(self.file_system.arn,),
                principals=(Principal(type="AWS", identifiers=("*",)),),
                conditions=(Condition(test="Bool", variable="aws:SecureTransport",
                                      values=("false",)),),
            ),
            PolicyStatement(
                sid="DenyRootAccess", effect="Deny",
                actions=("elasticfilesystem:ClientRootAccess",),
                resources=(self.file_system.arn,),
                principals=(Principal(type="AWS", identifiers=("*",)),),
            ),
        ])
        EfsFileSystemPolicy(self, "data-policy", file_system_id=self.file_system.id,
                            policy=file_system_policy.json)

    def _roles(self) -> None:
        """The execution role ECS starts the task with, and the task role
        Atlantis runs as; only ECS tasks of this account may assume either."""
        account_id = DataAwsCallerIdentity(self, "account").account_id
        ecs_trust = (Condition(test="StringEquals", variable="aws:SourceAccount",
                               values=(account_id,)),)
        self.execution_role = self._execution_role(ecs_trust)
        self.task_role = self._task_role(ecs_trust)

    def _execution_role(self, ecs_trust: tuple[Condition, ...]) -> IamRoleWithPolicies:
        return IamRoleWithPolicies(self, "execution-role", IamRoleWithPoliciesProps(
            name=execution_role_name(self.settings.name),
            tags=self.tags,
            description="ECS pulls the image, writes logs and reads the Atlantis secrets",
            service_principals=("ecs-tasks.amazonaws.com",),
            trust_conditions=ecs_trust,
            managed_policy_arns=(TASK_EXECUTION_POLICY_ARN,),
            inline_policies={"secrets": (
                PolicyStatement(sid="ReadAtlantisSecrets",
                                actions=("secretsmanager:GetSecretValue",),
                                resources=(self.github_token_arn, self.webhook_secret_arn,
                                           self.web_credentials_arn)),
                PolicyStatement(sid="DecryptAtlantisSecrets", actions=("kms:Decrypt",),
                                resources=(self.keys["secrets"].arn,)),
            )},
        ))

    def _task_role(self, ecs_trust: tuple[Condition, ...]) -> IamRoleWithPolicies:
        # The task role itself changes nothing: its workflows plan and apply as
        # the bootstrap stack's plan and apply roles, which trust only it.
        return IamRoleWithPolicies(self, "task-role", IamRoleWithPoliciesProps(
            name=task_role_name(self.settings.name),
            tags=self.tags,
            description="The Atlantis container: mounts its EFS access point and assumes "
                        "the plan and apply roles",
            service_principals=("ecs-tasks.amazonaws.com",),
            trust_conditions=ecs_trust,
            inline_policies={"efs": (
                PolicyStatement(
                    sid="MountAtlantisData",
                    actions=("elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"),
                    resources=(self.file_system.arn,),
                    conditions=(Condition(test="StringEquals",
                                          variable="elasticfilesystem:AccessPointArn",
                                          values=(self.access_point.arn,)),),
                ),
            ), "terraform-roles": (
                PolicyStatement(sid="AssumePlanAndApplyRoles", actions=("sts:AssumeRole",),
                                resources=tuple(arns[kind] for arns in self.role_arns.values()
                                                for kind in ("plan", "apply"))),
            )},
        ))

    def _task_definition(self) -> None:
        self.task_definition = EcsTaskDefinition(
            self, "task",
            family=self.base_name,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            # Sized in the settings (AtlantisSettings.task_cpu/task_memory_mib).
            cpu=str(self.settings.atlantis.task_cpu),
            memory=str(self.settings.atlantis.task_memory_mib),
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="X86_64"),
            execution_role_arn=self.execution_role.arn,
            task_role_arn=self.task_role.arn,
            container_definitions=json.dumps(
                [self._atlantis_container(), self._tmp_permissions_container()],
                sort_keys=True),
            volume=[
                EcsTaskDefinitionVolume(
                    name="data",
                    efs_volume_configuration=EcsTaskDefinitionVolumeEfsVolumeConfiguration(
                        file_system_id=self.file_system.id,
                        transit_encryption="ENABLED",
                        authorization_config=EcsTaskDefinitionVolumeEfsVolumeConfigurationAuthorizationConfig(
                            access_point_id=self.access_point.id, iam="ENABLED"),
                    ),
                ),
                # A bind mount on the task's ephemeral storage: gone with the task.
                EcsTaskDefinitionVolume(name="tmp"),
            ],
            # The awslogs driver needs the group before the first task starts.
            depends_on=[self.log_group.log_group],
            tags=self.tags.resource_tags(self.base_name),
        )

    def _atlantis_container(self) -> dict[str, object]:
        token_arn, webhook_arn = self.github_token_arn, self.webhook_secret_arn
        web_credentials_arn = self.web_credentials_arn
        return {
            "name": CONTAINER,
            "image": IMAGE,
            "essential": True,
            "portMappings": [{"containerPort": PORT, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in sorted(
                self._server_flags().items())],
            "secrets": [
                {"name": "ATLANTIS_GH_TOKEN", "valueFrom": f"{token_arn}:token::"},
                {"name": "ATLANTIS_GH_USER", "valueFrom": f"{token_arn}:user::"},
                {"name": "ATLANTIS_GH_WEBHOOK_SECRET", "valueFrom": f"{webhook_arn}:value::"},
                # Basic auth guards the UI behind the ALB's operator ranges.
                {"name": "ATLANTIS_WEB_USERNAME",
                 "valueFrom": f"{web_credentials_arn}:username::"},
                {"name": "ATLANTIS_WEB_PASSWORD",
                 "valueFrom": f"{web_credentials_arn}:password::"},
            ],
            "healthCheck": {"command": ["CMD-SHELL", HEALTH_CHECK], "interval": 30,
                            "timeout": 5, "retries": 3, "startPeriod": 60},
            "readonlyRootFilesystem": True,
            "privileged": False,
            # Atlantis listens on 4141 and needs no Linux capability.
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
            "mountPoints": [
                {"sourceVolume": "data", "containerPath": HOME, "readOnly": False},
                {"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False},
            ],
            "dependsOn": [{"containerName": "tmp-permissions", "condition": "SUCCESS"}],
            "logConfiguration": self._log_configuration(stream_prefix=CONTAINER),
        }

    def _tmp_permissions_container(self) -> dict[str, object]:
        # Fargate creates bind-mount volumes owned by root with mode 0755; this
        # short-lived container opens /tmp to the atlantis user before it starts.
        return {
            "name": "tmp-permissions",
            "image": IMAGE,
            "essential": False,
            "user": "0",
            "entryPoint": ["/bin/chmod"],
            "command": ["1777", "/tmp"],
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"capabilities": {"drop": ["ALL"]}},
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
            "logConfiguration": self._log_configuration(stream_prefix="init"),
        }

    def _log_configuration(self, stream_prefix: str) -> dict[str, object]:
        """A container's awslogs settings: the application log group, one prefix each."""
        return {"logDriver": "awslogs", "options": {
            "awslogs-group": self.log_group.ref.name,
            "awslogs-region": self.settings.region,
            "awslogs-stream-prefix": stream_prefix,
            # In blocking mode a write to stdout/stderr waits until the driver
            # has handed the line on, so while CloudWatch Logs cannot take it
            # (an outage, throttling, no route to the endpoint) Atlantis hangs
            # mid-request, its health check fails and ECS replaces a task that
            # was fine. Non-blocking puts the lines in a buffer and drops new
            # ones while it is full: Atlantis keeps serving, at the price of a
            # gap in its log (what it did stays in the PR comments and in
            # CloudTrail). Written out so that neither ECS's default nor the
            # account's defaultLogDriverMode setting decides it.
            "mode": "non-blocking",
            "max-buffer-size": LOG_BUFFER_SIZE,
        }}

    def _load_balancer(self) -> None:
        name = self.base_name
        self.load_balancer = ApplicationLoadBalancer(self, "alb", ApplicationLoadBalancerProps(
            name=name, tags=self.tags, subnets=self.public_subnets,
            security_groups=[self.alb_security_group.ref], certificate=self.certificate))
        # Anything not matched below gets the listener's 404. /healthz (no data)
        # stays open for the Route 53 health check, whose checkers have no
        # fixed ranges; basic auth exempts /events, /status and /api/*
        # (server/middleware.go at v0.47.1), so the source ranges do the work.
        self.target_group = self.load_balancer.add_target_group(
            name, PORT, "/healthz", self.vpc, target_type="ip",
            path_patterns=("/healthz",), priority=1)
        self.load_balancer.forward("events", self.target_group, priority=10,
                                   path_patterns=("/events",),
                                   source_ips=self.settings.github.hook_cidrs)
        if self.settings.atlantis.operator_cidrs:
            self.load_balancer.forward("operators", self.target_group, priority=100,
                                       source_ips=self.settings.atlantis.operator_cidrs)

    def _service(self) -> None:
        self.service = EcsService(
            self, "service",
            name=service_name(self.settings.name),
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            launch_type="FARGATE",
            platform_version="LATEST",
            desired_count=1,
            # Atlantis keeps its locks in a BoltDB file in the data directory:
            # two tasks must never run at once, so the old one stops first.
            deployment_minimum_healthy_percent=0,
            deployment_maximum_percent=100,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(
                enable=True, rollback=True),
            health_check_grace_period_seconds=120,
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=self.private_subnets.ids,
                security_groups=[self.service_security_group.id],
                assign_public_ip=False),
            load_balancer=[EcsServiceLoadBalancer(
                target_group_arn=self.target_group.arn, container_name=CONTAINER,
                container_port=PORT)],
            enable_execute_command=False,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            # The target group must be attached to a listener before a service uses it.
            depends_on=[self.load_balancer.https_listener],
            # Atlantis applies this stack too: a new task definition must not roll
            # the task that runs the apply (the old one stops first, see above).
            # An apply registers the new revision; rolling it is a separate step
            # when no run is going (README: Atlantis, Self-apply).
            lifecycle={"ignore_changes": ["task_definition"]},
            tags=self.tags.resource_tags(self.base_name),
        )

    def _dns(self) -> None:
        """`atlantis.<domain>`, an alias of the load balancer."""
        Route53Record(
            self, "dns",
            zone_id=self.zone_id,
            name=f"atlantis.{self.settings.domain}",
            type="A",
            alias=Route53RecordAlias(name=self.load_balancer.dns_name,
                                     zone_id=self.load_balancer.zone_id,
                                     evaluate_target_health=True),
        )

    def _publish_contract(self) -> None:
        """What later stacks read: the monitoring dimensions, names and ids."""
        self.publish("alb-arn-suffix", self.load_balancer.lb.arn_suffix,
                     "ARN suffix of the Atlantis ALB (CloudWatch LoadBalancer dimension)")
        self.publish("target-group-arn-suffix", self.target_group.arn_suffix,
                     "ARN suffix of the Atlantis target group (CloudWatch TargetGroup dimension)")
        self.publish("alb-dns-name", self.load_balancer.dns_name, "DNS name of the Atlantis ALB")
        self.publish("ecs-cluster-name", self.cluster.name, "Name of the Atlantis ECS cluster")
        self.publish("ecs-service-name", self.service.name, "Name of the Atlantis ECS service")
        self.publish("service-security-group-id", self.service_security_group.id,
                     "Security group of the Atlantis tasks")
        self.publish("log-group-name", self.log_group.ref.name,
                     "Log group of the Atlantis application")
        self.publish("efs-file-system-id", self.file_system.id,
                     "EFS file system holding the Atlantis data directory")
        self.publish("ecr-repository-url", self.repository.url,
                     "ECR repository for a custom Atlantis image")

    def _server_flags(self) -> dict[str, str]:
        """The Atlantis server's flags as ATLANTIS_* environment variables."""
        settings = self.settings
        return {
            "ATLANTIS_ATLANTIS_URL": f"https://atlantis.{settings.domain}",
            "ATLANTIS_CHECKOUT_STRATEGY": CHECKOUT_STRATEGY,
            "ATLANTIS_DATA_DIR": DATA_DIR,
            "ATLANTIS_GH_TEAM_ALLOWLIST": ",".join(
                f"{team}:{command}" for team, command in settings.atlantis.team_allowlist),
            "ATLANTIS_HIDE_PREV_PLAN_COMMENTS": "true",
            "ATLANTIS_PORT": str(PORT),
            "ATLANTIS_REPO_ALLOWLIST": f"github.com/{settings.github.repository}",
            "ATLANTIS_REPO_CONFIG_JSON": json.dumps(server_repo_config(
                settings.github.repository, self.graph.stack_names,
                role_arns=self.role_arns), sort_keys=True),
            "ATLANTIS_WEB_BASIC_AUTH": "true",
        }
