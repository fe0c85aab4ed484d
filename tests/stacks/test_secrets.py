"""secrets stack: the Atlantis secrets under the secrets key, the rotation
Lambda (deterministic package, least-privilege role, VPC placement) and its schedule."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from tests.stacks.synth_json import by_name, one, ssm
from tools.lambda_package import LAMBDA_SOURCE_ROOT, SECRET_ROTATION_HANDLER, build_zip


@pytest.fixture(scope="module")
def secrets(stack_json):
    return stack_json("secrets")


def document(stack, reference):
    """The policy document data source a `${data.aws_iam_policy_document.<n>.json}` names."""
    name = reference.removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    return stack["data"]["aws_iam_policy_document"][name]["statement"]


def test_secrets_use_the_secrets_key_and_a_recovery_window(secrets):
    found = by_name(secrets, "aws_secretsmanager_secret")
    assert set(found) == {"prod/atlantis/github-token", "prod/atlantis/webhook-secret"}
    for secret in found.values():
        assert secret["kms_key_id"] == ssm("from-kms-secrets-key-arn")
        assert secret["recovery_window_in_days"] == 30


def test_no_secret_value_is_in_terraform(secrets):
    # The token is put by an operator; the webhook secret by the rotation function.
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
    (trust,) = document(secrets, role["assume_role_policy"])
    assert trust["principals"] == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    policy = one(secrets, "aws_iam_role_policy")
    found = {s["sid"]: s for s in document(secrets, policy["policy"])}
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


def test_function_reaches_only_the_secrets_manager_endpoint(secrets):
    groups = by_name(secrets, "aws_security_group")
    assert set(groups) == {"prod-secret-rotation", "prod-secretsmanager-endpoint"}
    (egress,) = secrets["resource"]["aws_vpc_security_group_egress_rule"].values()
    assert egress["security_group_id"] == "${aws_security_group.rotation-security-group_7BF5A4C8.id}"
    assert egress["from_port"] == egress["to_port"] == 443
    assert egress["referenced_security_group_id"] == \
        "${aws_security_group.endpoint-security-group_909A950B.id}"
    (ingress,) = secrets["resource"]["aws_vpc_security_group_ingress_rule"].values()
    # Nothing may call the function's ENIs; the endpoint takes HTTPS from the VPC.
    assert ingress["security_group_id"] == \
        "${aws_security_group.endpoint-security-group_909A950B.id}"
    assert ingress["cidr_ipv4"] == ssm("from-network-vpc-cidr")
    endpoint = one(secrets, "aws_vpc_endpoint")
    assert endpoint["service_name"] == "com.amazonaws.ap-northeast-2.secretsmanager"
    assert endpoint["vpc_endpoint_type"] == "Interface"
    assert endpoint["private_dns_enabled"] is True


def test_no_literal_secret_anywhere(secrets):
    text = json.dumps(secrets)
    assert "secret_string" not in text
    assert "ghp_" not in text


def test_publishes_its_contracts(secrets):
    published = {p["name"] for p in secrets["resource"]["aws_ssm_parameter"].values()}
    assert {"/prod/secrets/atlantis-github-token-arn", "/prod/secrets/atlantis-webhook-secret-arn",
            "/prod/secrets/rotation-function-arn"} <= published


def test_state_lives_in_its_own_key(secrets):
    assert secrets["terraform"]["backend"]["s3"]["key"] == "secrets/terraform.tfstate"


def test_snapshot(snapshot):
    snapshot("secrets")
