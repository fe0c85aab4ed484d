"""secrets stack: the Atlantis secrets under the secrets key, the rotation
Lambda (deterministic package, least-privilege role, VPC placement, what it
needs to keep the GitHub webhook and Atlantis in step) and its schedule."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from constructs_lib.lambda_package import LAMBDA_SOURCE_ROOT, SECRET_ROTATION_HANDLER, build_zip
from tests.stacks.synth_json import (
    address,
    by_name,
    conditions,
    one,
    policy,
    published,
    ref,
    resources,
    ssm,
    statements,
)

IAM = ("arn:${data.aws_partition.partition.partition}:iam::"
       "${data.aws_caller_identity.account.account_id}")
EXECUTION_ROLE = f"{IAM}:role/prod-atlantis-execution"
ROTATION_ROLE = f"{IAM}:role/prod-secret-rotation"
READERS = {
    "prod/atlantis/github-token": [EXECUTION_ROLE, ROTATION_ROLE],
    "prod/atlantis/webhook-secret": [EXECUTION_ROLE, ROTATION_ROLE],
    "prod/atlantis/web-credentials": [EXECUTION_ROLE],
}
"""Who may read each value: ECS starting Atlantis reads all three, the rotation
function the token (to update the webhook) and the secret it rotates."""


@pytest.fixture(scope="module")
def secrets(stack_json):
    return stack_json("secrets")


def test_secrets_use_the_secrets_key_and_a_recovery_window(secrets):
    found = by_name(secrets, "aws_secretsmanager_secret")
    assert set(found) == {"prod/atlantis/github-token", "prod/atlantis/webhook-secret",
                          "prod/atlantis/web-credentials"}
    for secret in found.values():
        assert secret["kms_key_id"] == ssm("from-kms-secrets-key-arn")
        assert secret["recovery_window_in_days"] == 30


def test_only_the_roles_that_need_a_value_may_read_it(secrets):
    policies = {p["secret_arn"]: p
                for p in resources(secrets, "aws_secretsmanager_secret_policy").values()}
    assert len(policies) == len(READERS), "one policy per secret"
    for name, readers in READERS.items():
        found = policies[ref(address(secrets, "aws_secretsmanager_secret", name=name), "arn")]
        assert found["block_public_policy"] is True, name
        (deny,) = statements(policy(secrets, found["policy"])).values()
        assert deny["sid"] == "OnlyNamedRolesReadTheValue"
        assert deny["effect"] == "Deny"
        # Reading only: Terraform's calls, operators' put-secret-value and the
        # rotation runbook's stage moves stay with identity policies.
        assert deny["actions"] == ["secretsmanager:GetSecretValue"]
        assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
        assert deny["resources"] == ["*"]
        assert conditions(deny) == {("ArnNotEquals", "aws:PrincipalArn"): readers}, name


def test_readers_are_the_roles_whose_identity_policies_read(secrets, stack_json):
    """The policies name the same roles, and the same secrets per role, as the
    roles' own policies: a reader missing here would break Atlantis or the rotation."""
    arn_of = {ref(address(secrets, "aws_secretsmanager_secret", name=name), "arn"): name
              for name in READERS}
    rotation = statements(policy(secrets, one(secrets, "aws_iam_role_policy")["policy"]))
    assert one(secrets, "aws_iam_role")["name"] == "prod-secret-rotation"
    reads = {arn_of[arn] for st in rotation.values()
             if "secretsmanager:GetSecretValue" in st["actions"] for arn in st["resources"]}
    assert reads == {name for name, who in READERS.items() if ROTATION_ROLE in who}

    atlantis = stack_json("atlantis")
    assert "prod-atlantis-execution" in by_name(atlantis, "aws_iam_role")
    execution = statements(policy(atlantis, by_name(atlantis, "aws_iam_role_policy")[
        "prod-atlantis-execution-secrets"]["policy"]))
    # The atlantis stack reads the ARNs from this stack's contracts.
    through_ssm = {ssm(f"from-secrets-{path.rsplit('/', 1)[1]}"): value
                   for path, value in published(secrets).items()}
    reads = {arn_of[through_ssm[arn]] for st in execution.values()
             if "secretsmanager:GetSecretValue" in st["actions"] for arn in st["resources"]}
    assert reads == {name for name, who in READERS.items() if EXECUTION_ROLE in who}


def test_no_secret_value_is_in_terraform(secrets):
    # The token and the web credentials are put by an operator; the webhook
    # secret by the rotation function.
    assert "aws_secretsmanager_secret_version" not in secrets["resource"]


def test_webhook_secret_is_rotated_by_our_function(secrets):
    rotation = one(secrets, "aws_secretsmanager_secret_rotation")
    assert rotation["secret_id"] == "${aws_secretsmanager_secret.webhook-secret.id}"
    assert rotation["rotation_lambda_arn"] == "${aws_lambda_function.rotation-function_382175A3.arn}"
    assert rotation["rotation_rules"] == {"automatically_after_days": 30}
    # Secrets Manager invokes the function when the rotation is created.
    assert rotation["depends_on"] == [
        "aws_lambda_permission.rotation-function_invoke-secretsmanager-webhook-secret_83A0C12D"]
    permission = one(secrets, "aws_lambda_permission")
    assert permission["principal"] == "secretsmanager.amazonaws.com"
    assert permission["source_arn"] == "${aws_secretsmanager_secret.webhook-secret.arn}"


def test_function_runs_in_the_private_subnets(secrets):
    function = one(secrets, "aws_lambda_function")
    assert function["function_name"] == "prod-secret-rotation"
    assert function["handler"] == SECRET_ROTATION_HANDLER
    assert function["vpc_config"]["subnet_ids"] == \
        '${split(",", data.aws_ssm_parameter.from-network-private-subnet-ids.insecure_value)}'
    assert function["vpc_config"]["security_group_ids"] == [
        "${aws_security_group.rotation-security-group_7BF5A4C8.id}"]
    assert function["tracing_config"] == {"mode": "Active"}


def test_package_is_the_deterministic_zip_of_the_handler(secrets, synth_out, tmp_path):
    function = one(secrets, "aws_lambda_function")
    asset = synth_out / "stacks" / "secrets" / function["filename"]
    rebuilt = build_zip(LAMBDA_SOURCE_ROOT, tmp_path / "secret-rotation.zip")
    assert asset.read_bytes() == rebuilt.read_bytes()
    digest = base64.b64encode(hashlib.sha256(rebuilt.read_bytes()).digest()).decode()
    assert function["source_code_hash"] == digest


def test_role_may_rotate_exactly_the_webhook_secret(secrets):
    role = one(secrets, "aws_iam_role")
    assert role["name"] == "prod-secret-rotation"
    (trust,) = policy(secrets, role["assume_role_policy"])["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    assert trust["condition"] == [{
        "test": "StringEquals", "variable": "aws:SourceAccount",
        "values": ["${data.aws_caller_identity.account.account_id}"]}]
    found = statements(policy(secrets, one(secrets, "aws_iam_role_policy")["policy"]))
    assert None not in found, "every statement of the role policy has a sid"
    assert set(found["RotateGeneratedSecrets"]["actions"]) == {
        "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}
    assert found["RotateGeneratedSecrets"]["resources"] == [
        "${aws_secretsmanager_secret.webhook-secret.arn}"]
    # GetRandomPassword has no resource: "*" is its only form, the action is named.
    assert found["GenerateRandomValues"]["actions"] == ["secretsmanager:GetRandomPassword"]
    assert found["UseSecretsKey"]["resources"] == [ssm("from-kms-secrets-key-arn")]
    assert set(found["UseSecretsKey"]["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    for statement in found.values():
        assert all("*" not in action for action in statement["actions"])
    attachment = one(secrets, "aws_iam_role_policy_attachment")
    assert attachment["policy_arn"].endswith("service-role/AWSLambdaVPCAccessExecutionRole")


def test_role_may_read_the_token_and_restart_exactly_the_atlantis_service(secrets):
    found = statements(policy(secrets, one(secrets, "aws_iam_role_policy")["policy"]))
    assert None not in found, "every statement of the role policy has a sid"
    # Read only: the token is decrypted with the secrets key (UseSecretsKey).
    assert found["ReadGithubToken"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert found["ReadGithubToken"]["resources"] == [
        "${aws_secretsmanager_secret.github-token.arn}"]
    assert found["RestartAtlantis"]["actions"] == ["ecs:UpdateService"]
    assert found["RestartAtlantis"]["resources"] == [
        "arn:${data.aws_partition.partition.partition}:ecs:ap-northeast-2:"
        "${data.aws_caller_identity.account.account_id}:service/atlantis-prod/prod-atlantis"]
    # The web credentials are for Atlantis only.
    assert "web-credentials" not in json.dumps(found)


def test_function_knows_where_the_webhook_secret_has_copies(secrets):
    function = one(secrets, "aws_lambda_function")
    assert function["environment"]["variables"] == {
        "WEBHOOK_SECRET_ARN": "${aws_secretsmanager_secret.webhook-secret.arn}",
        "GITHUB_REPOSITORY": "connectly/infrastructure",
        "WEBHOOK_URL": "https://atlantis.set-of.com/events",
        "GITHUB_TOKEN_SECRET_ARN": "${aws_secretsmanager_secret.github-token.arn}",
        "ATLANTIS_ECS_CLUSTER": "atlantis-prod",
        "ATLANTIS_ECS_SERVICE": "prod-atlantis",
    }
    # The construct encrypts variables with the secrets key once there are any.
    assert function["kms_key_arn"] == ssm("from-kms-secrets-key-arn")


def test_atlantis_names_match_the_atlantis_stack(secrets, stack_json):
    # Derived from the settings, not read from SSM (atlantis deploys later):
    # this is what keeps the two derivations from drifting apart.
    atlantis = stack_json("atlantis")
    variables = one(secrets, "aws_lambda_function")["environment"]["variables"]
    assert variables["ATLANTIS_ECS_CLUSTER"] == one(atlantis, "aws_ecs_cluster")["name"]
    assert variables["ATLANTIS_ECS_SERVICE"] == one(atlantis, "aws_ecs_service")["name"]
    (record,) = [r for r in atlantis["resource"]["aws_route53_record"].values()
                 if r["name"].startswith("atlantis.")]
    assert variables["WEBHOOK_URL"] == f"https://{record['name']}/events"


def test_function_reaches_the_endpoint_and_https_through_the_nat(secrets):
    groups = by_name(secrets, "aws_security_group")
    assert set(groups) == {"prod-secret-rotation", "prod-secretsmanager-endpoint"}
    egress = {(rule.get("referenced_security_group_id") or rule["cidr_ipv4"]): rule
              for rule in secrets["resource"]["aws_vpc_security_group_egress_rule"].values()}
    assert set(egress) == {"${aws_security_group.endpoint-security-group_909A950B.id}",
                           "0.0.0.0/0"}
    for rule in egress.values():
        assert rule["security_group_id"] == \
            "${aws_security_group.rotation-security-group_7BF5A4C8.id}"
        assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 443, 443)
    # GitHub's API has no fixed range; ECS has no endpoint in the VPC.
    assert "GitHub" in egress["0.0.0.0/0"]["description"]
    (ingress,) = secrets["resource"]["aws_vpc_security_group_ingress_rule"].values()
    # Nothing may call the function's ENIs; the endpoint takes HTTPS from the VPC.
    assert ingress["security_group_id"] == \
        "${aws_security_group.endpoint-security-group_909A950B.id}"
    assert ingress["cidr_ipv4"] == ssm("from-network-vpc-cidr")
    endpoint = one(secrets, "aws_vpc_endpoint")
    assert endpoint["service_name"] == "com.amazonaws.ap-northeast-2.secretsmanager"
    assert endpoint["vpc_endpoint_type"] == "Interface"
    assert endpoint["private_dns_enabled"] is True


def test_endpoint_serves_only_our_principals_and_our_secrets(secrets):
    endpoint = one(secrets, "aws_vpc_endpoint")
    found = statements(policy(secrets, endpoint["policy"]))
    assert set(found) == {"OwnPrincipalsOnOwnSecrets", "OwnPrincipalsAccountLevelCalls"}
    account = "${data.aws_caller_identity.account.account_id}"
    for statement in found.values():
        assert statement["effect"] == "Allow"
        assert statement["principals"] == [{"type": "*", "identifiers": ["*"]}]
        assert conditions(statement) == {("StringEquals", "aws:PrincipalAccount"): [account]}
    secrets_of_ours = found["OwnPrincipalsOnOwnSecrets"]
    assert secrets_of_ours["actions"] == ["secretsmanager:*"]
    assert secrets_of_ours["resources"] == [
        f"arn:${{data.aws_partition.partition.partition}}:secretsmanager:ap-northeast-2:"
        f"{account}:secret:*"]
    # The calls that name no secret, among them the rotation's GetRandomPassword.
    account_level = found["OwnPrincipalsAccountLevelCalls"]
    assert account_level["resources"] == ["*"]
    assert "secretsmanager:GetRandomPassword" in account_level["actions"]
    assert not [a for a in account_level["actions"] if a.endswith("*")]


def test_no_literal_secret_anywhere(secrets):
    text = json.dumps(secrets)
    assert "secret_string" not in text
    assert "ghp_" not in text


def test_publishes_its_contracts(secrets):
    contracts = published(secrets)
    assert {"/prod/secrets/atlantis-github-token-arn", "/prod/secrets/atlantis-webhook-secret-arn",
            "/prod/secrets/atlantis-web-credentials-arn",
            "/prod/secrets/rotation-function-arn"} <= set(contracts)
    assert contracts["/prod/secrets/atlantis-web-credentials-arn"] == \
        "${aws_secretsmanager_secret.atlantis-web-credentials.arn}"


def test_state_lives_in_its_own_key(secrets):
    assert secrets["terraform"]["backend"]["s3"]["key"] == "secrets/terraform.tfstate"
