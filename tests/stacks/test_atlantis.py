"""atlantis stack: ECR, the ECS cluster and Fargate service with its EFS data,
the hardened public ALB, least-privilege security groups and roles, and DNS."""

from __future__ import annotations

from stacks.registry import spec_of
from tests.stacks.synth_json import (
    address,
    attachments,
    by_name,
    group_rules,
    one,
    policy,
    producers,
    published,
    ref,
    resources,
    ssm,
    statements,
)


def test_ecr_repository(atlantis):
    repository = one(atlantis, "aws_ecr_repository")
    assert repository["name"] == "prod-atlantis"
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == {"scan_on_push": True}
    assert repository["encryption_configuration"] == [
        {"encryption_type": "KMS", "kms_key": ssm("from-kms-ecr-key-arn")}]
    assert "aws_ecr_lifecycle_policy" in atlantis["resource"]


def test_cluster_and_log_group(atlantis):
    cluster = one(atlantis, "aws_ecs_cluster")
    assert cluster["name"] == "atlantis-prod"
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enabled"}]
    log_group = one(atlantis, "aws_cloudwatch_log_group")
    assert log_group["name"] == "/aws/ecs/atlantis/application"
    assert log_group["kms_key_id"] == ssm("from-kms-logs-key-arn")
    assert log_group["retention_in_days"] >= 365


def test_efs_is_encrypted_backed_up_and_protected(atlantis):
    fs = one(atlantis, "aws_efs_file_system")
    assert fs["encrypted"] is True
    assert fs["kms_key_id"] == ssm("from-kms-efs-key-arn")
    assert fs["performance_mode"] == "generalPurpose"
    assert {"transition_to_ia": "AFTER_30_DAYS"} in fs["lifecycle_policy"]
    assert fs["lifecycle"] == {"prevent_destroy": True}
    assert one(atlantis, "aws_efs_backup_policy")["backup_policy"] == {"status": "ENABLED"}
    targets = atlantis["resource"]["aws_efs_mount_target"].values()
    assert sorted(t["subnet_id"] for t in targets) == [
        f'${{element(split(",", data.aws_ssm_parameter.from-network-private-subnet-ids.insecure_value), {i})}}'
        for i in (0, 1)]


def test_efs_access_point_uses_the_image_user(atlantis):
    access_point = one(atlantis, "aws_efs_access_point")
    assert access_point["posix_user"] == {"uid": 100, "gid": 1000}
    assert access_point["root_directory"] == {
        "path": "/atlantis",
        "creation_info": {"owner_uid": 100, "owner_gid": 1000, "permissions": "0750"}}


def test_efs_policy_requires_tls(atlantis):
    file_system_policy = one(atlantis, "aws_efs_file_system_policy")
    found = statements(policy(atlantis, file_system_policy["policy"]))
    tls = found["DenyInsecureTransport"]
    assert tls["effect"] == "Deny"
    assert tls["condition"] == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
    assert found["DenyRootAccess"]["actions"] == ["elasticfilesystem:ClientRootAccess"]


def test_task_definition(atlantis):
    task = one(atlantis, "aws_ecs_task_definition")
    assert task["family"] == "prod-atlantis"
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["network_mode"] == "awsvpc"
    # The phase-4 group (3 stacks, 5 provider processes) peaked at 2.4-3.2 GiB
    # locally; the task holds that with room (see TASK_MEMORY_MIB).
    assert (task["cpu"], task["memory"]) == ("2048", "6144")
    assert task["runtime_platform"] == {"operating_system_family": "LINUX",
                                        "cpu_architecture": "X86_64"}
    assert task["execution_role_arn"] != task["task_role_arn"]
    (data,) = [v for v in task["volume"] if v["name"] == "data"]
    efs = data["efs_volume_configuration"]
    assert efs["transit_encryption"] == "ENABLED"
    assert efs["authorization_config"] == {
        "access_point_id": "${aws_efs_access_point.data-access-point.id}", "iam": "ENABLED"}
    assert {"name": "tmp"} in task["volume"]


def test_container_is_pinned_read_only_and_unprivileged(containers):
    atlantis = containers["atlantis"]
    assert atlantis["image"] == "ghcr.io/runatlantis/atlantis:v0.47.1"
    assert atlantis["portMappings"] == [{"containerPort": 4141, "protocol": "tcp"}]
    assert atlantis["healthCheck"]["command"] == [
        "CMD-SHELL", "curl -f http://localhost:4141/healthz || exit 1"]
    for container in containers.values():
        assert container["readonlyRootFilesystem"] is True
        assert container["privileged"] is False
        assert container["linuxParameters"]["capabilities"]["drop"] == ["ALL"]
        assert container["logConfiguration"]["options"]["awslogs-group"] == \
            "/aws/ecs/atlantis/application"
    mounts = {m["containerPath"]: m["sourceVolume"] for m in atlantis["mountPoints"]}
    assert mounts == {"/home/atlantis": "data", "/tmp": "tmp"}
    # /tmp is root-owned on Fargate: the init container opens it first.
    assert atlantis["dependsOn"] == [{"containerName": "tmp-permissions", "condition": "SUCCESS"}]
    assert containers["tmp-permissions"]["essential"] is False


def test_containers_log_without_blocking(containers):
    # A CloudWatch Logs outage must not stall Atlantis: lines wait in a 25 MiB
    # buffer per container and are dropped while it is full.
    assert set(containers) == {"atlantis", "tmp-permissions"}
    for name, container in containers.items():
        assert container["logConfiguration"] == {"logDriver": "awslogs", "options": {
            "awslogs-group": "/aws/ecs/atlantis/application",
            "awslogs-region": "ap-northeast-2",
            "awslogs-stream-prefix": "atlantis" if name == "atlantis" else "init",
            "mode": "non-blocking",
            "max-buffer-size": "25m",
        }}, name


def test_container_configuration_and_secrets(containers):
    atlantis = containers["atlantis"]
    env = {e["name"]: e["value"] for e in atlantis["environment"]}
    # The server-side flags have their own tests in test_atlantis_server.py.
    assert {k: env[k] for k in ("ATLANTIS_ATLANTIS_URL", "ATLANTIS_DATA_DIR", "ATLANTIS_PORT",
                                "ATLANTIS_REPO_ALLOWLIST")} == {
        "ATLANTIS_ATLANTIS_URL": "https://atlantis.set-of.com",
        "ATLANTIS_DATA_DIR": "/home/atlantis/.atlantis",
        "ATLANTIS_PORT": "4141",
        "ATLANTIS_REPO_ALLOWLIST": "github.com/connectly/infrastructure",
    }
    secrets = {s["name"]: s["valueFrom"] for s in atlantis["secrets"]}
    token = ssm("from-secrets-atlantis-github-token-arn")
    web = ssm("from-secrets-atlantis-web-credentials-arn")
    assert secrets == {
        "ATLANTIS_GH_TOKEN": f"{token}:token::",
        "ATLANTIS_GH_USER": f"{token}:user::",
        "ATLANTIS_GH_WEBHOOK_SECRET": f"{ssm('from-secrets-atlantis-webhook-secret-arn')}:value::",
        "ATLANTIS_WEB_USERNAME": f"{web}:username::",
        "ATLANTIS_WEB_PASSWORD": f"{web}:password::",
    }
    # Nothing secret travels as a plain environment variable.
    assert not [k for k in env if "TOKEN" in k or "PASSWORD" in k or "SECRET" in k]


def test_execution_role_reads_only_the_atlantis_secrets(atlantis):
    roles = by_name(atlantis, "aws_iam_role")
    assert set(roles) == {"prod-atlantis-execution", "prod-atlantis-task"}
    for role in roles.values():
        (trust,) = statements(policy(atlantis, role["assume_role_policy"])).values()
        assert trust["principals"] == [{"type": "Service",
                                        "identifiers": ["ecs-tasks.amazonaws.com"]}]
    policies = by_name(atlantis, "aws_iam_role_policy")
    found = statements(policy(atlantis, policies["prod-atlantis-execution-secrets"]["policy"]))
    assert found["ReadAtlantisSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert found["ReadAtlantisSecrets"]["resources"] == [
        ssm("from-secrets-atlantis-github-token-arn"),
        ssm("from-secrets-atlantis-webhook-secret-arn"),
        ssm("from-secrets-atlantis-web-credentials-arn")]
    assert found["DecryptAtlantisSecrets"]["resources"] == [ssm("from-kms-secrets-key-arn")]
    # The stack's one managed policy, attached to the execution role (not the task role).
    execution_policy = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    every = resources(atlantis, "aws_iam_role_policy_attachment").values()
    assert [a["policy_arn"] for a in every] == [execution_policy]
    assert [a["policy_arn"] for a in attachments(atlantis, "prod-atlantis-execution")] == [
        execution_policy]


def test_task_role_mounts_its_access_point_and_assumes_the_terraform_roles(atlantis):
    policies = by_name(atlantis, "aws_iam_role_policy")
    assert set(policies) == {"prod-atlantis-execution-secrets", "prod-atlantis-task-efs",
                             "prod-atlantis-task-terraform-roles"}
    (assume,) = statements(policy(
        atlantis, policies["prod-atlantis-task-terraform-roles"]["policy"])).values()
    assert assume["actions"] == ["sts:AssumeRole"]
    # staging's roles (prod's server plans it; tests/stacks/test_atlantis_server.py),
    # then prod's own from bootstrap's contract.
    assert assume["resources"][2:] == [ssm("from-bootstrap-atlantis-plan-role-arn"),
                                       ssm("from-bootstrap-atlantis-apply-role-arn")]
    (statement,) = statements(policy(atlantis, policies["prod-atlantis-task-efs"]["policy"])).values()
    assert statement["actions"] == ["elasticfilesystem:ClientMount",
                                    "elasticfilesystem:ClientWrite"]
    assert statement["resources"] == ["${aws_efs_file_system.data.arn}"]
    assert statement["condition"] == [{
        "test": "StringEquals", "variable": "elasticfilesystem:AccessPointArn",
        "values": ["${aws_efs_access_point.data-access-point.arn}"]}]


def test_service(atlantis):
    service = one(atlantis, "aws_ecs_service")
    assert service["name"] == "prod-atlantis"
    assert service["launch_type"] == "FARGATE"
    assert service["platform_version"] == "LATEST"
    assert service["desired_count"] == 1
    assert service["network_configuration"]["assign_public_ip"] is False
    assert "from-network-private-subnet-ids" in service["network_configuration"]["subnets"]
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert service["enable_execute_command"] is False
    assert service["propagate_tags"] == "SERVICE"
    assert service["health_check_grace_period_seconds"] > 0
    # One task at a time: the data directory holds Atlantis's lock database.
    assert service["deployment_maximum_percent"] == 100
    (lb,) = service["load_balancer"]
    assert (lb["container_name"], lb["container_port"]) == ("atlantis", 4141)


def test_load_balancer_is_hardened(atlantis):
    lb = one(atlantis, "aws_lb")
    assert lb["name"] == "prod-atlantis"
    assert lb["internal"] is False
    assert lb["drop_invalid_header_fields"] is True
    assert lb["enable_deletion_protection"] is True
    assert "from-network-public-subnet-ids" in lb["subnets"]
    listeners = by_name(atlantis, "aws_lb_listener", "port")
    https = listeners[443]
    assert https["protocol"] == "HTTPS"
    assert https["certificate_arn"] == ssm("from-acm-certificate-arn")
    assert https["ssl_policy"].startswith("ELBSecurityPolicy-TLS13-1-2")
    assert listeners[80]["default_action"][0]["redirect"]["protocol"] == "HTTPS"
    target_group = one(atlantis, "aws_lb_target_group")
    assert (target_group["port"], target_group["target_type"]) == (4141, "ip")
    assert target_group["health_check"]["path"] == "/healthz"


def test_security_groups_chain_alb_service_efs(atlantis):
    alb = address(atlantis, "aws_security_group", name="prod-atlantis-alb")
    service = address(atlantis, "aws_security_group", name="prod-atlantis-service")
    efs = address(atlantis, "aws_security_group", name="prod-atlantis-efs")
    alb_in = group_rules(atlantis, "ingress", alb)
    assert sorted(r["from_port"] for r in alb_in) == [80, 443]
    assert all(r["cidr_ipv4"] == "0.0.0.0/0" and "SEC001" in r["//"]["waivers"] for r in alb_in)
    (alb_out,) = group_rules(atlantis, "egress", alb)
    assert (alb_out["from_port"], alb_out["referenced_security_group_id"]) == (4141, ref(service))
    (service_in,) = group_rules(atlantis, "ingress", service)
    assert (service_in["from_port"], service_in["referenced_security_group_id"]) == \
        (4141, ref(alb))
    service_out = {r["from_port"]: r for r in group_rules(atlantis, "egress", service)}
    assert set(service_out) == {443, 2049}
    assert service_out[2049]["referenced_security_group_id"] == ref(efs)
    (efs_in,) = group_rules(atlantis, "ingress", efs)
    assert (efs_in["from_port"], efs_in["referenced_security_group_id"]) == \
        (2049, ref(service))
    assert group_rules(atlantis, "egress", efs) == []


def test_dns_alias(atlantis):
    record = one(atlantis, "aws_route53_record")
    assert record["name"] == "atlantis.set-of.com"
    assert record["type"] == "A"
    assert record["zone_id"] == ssm("from-route53-zone-id")
    assert record["alias"]["evaluate_target_health"] is True
    assert record["alias"]["name"].startswith("${aws_lb.")


def test_reads_only_earlier_stacks(atlantis):
    assert producers(atlantis) == {"bootstrap", "kms", "network", "acm", "route53", "secrets"}
    phase = spec_of("atlantis").phase.number
    assert all(spec_of(p).phase.number < phase for p in producers(atlantis))


def test_publishes_its_contracts(atlantis):
    assert {f"/prod/atlantis/{n}" for n in (
        "alb-arn-suffix", "target-group-arn-suffix", "alb-dns-name", "ecs-cluster-name",
        "ecs-service-name", "service-security-group-id", "log-group-name")} <= set(
        published(atlantis))


def test_state_lives_in_its_own_key(atlantis):
    assert atlantis["terraform"]["backend"]["s3"]["key"] == "atlantis/terraform.tfstate"
