"""LambdaFunction: asset with a literal hash, VPC, tracing, encrypted env and log group, grants."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile

import pytest
from cdktf import TerraformOutput

from constructs_lib.errors import ConfigError
from constructs_lib.lambda_function import LambdaFunction, LambdaFunctionProps
from constructs_lib.refs import (
    KeyRef,
    RoleRef,
    SecurityGroupRef,
    ServicePrincipalRef,
    SubnetsRef,
    TopicRef,
)
from tests.unit.synth_helpers import governance_findings

ENV_KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/secrets")
LOG_KEY = KeyRef(arn="arn:aws:kms:ap-northeast-2:123456789012:key/logs")
ROLE = RoleRef(arn="arn:aws:iam::123456789012:role/prod-rotation", name="prod-rotation")
SUBNETS = SubnetsRef(ids=["subnet-private-a", "subnet-private-c"])
GROUPS = [SecurityGroupRef(id="sg-rotation")]
DLQ = TopicRef(arn="arn:aws:sns:ap-northeast-2:123456789012:prod-dlq")
ENDPOINT = "https://secretsmanager.ap-northeast-2.amazonaws.com"
SECRET_ARN = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:prod-x"
SECRETS_MANAGER = ServicePrincipalRef(service="secretsmanager.amazonaws.com",
                                      source_arn=SECRET_ARN)


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    path = tmp_path_factory.mktemp("package") / "rotation.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("rotation.py", date_time=(1980, 1, 1, 0, 0, 0))
        archive.writestr(info, "def handler(event, context):\n    return None\n")
    return path


def props(tags, package, **overrides) -> LambdaFunctionProps:
    values = {
        "name": "prod-secret-rotation", "tags": tags, "package": package,
        "handler": "rotation.handler", "role": ROLE, "kms_key": ENV_KEY, "log_kms_key": LOG_KEY,
        "subnets": SUBNETS, "security_groups": GROUPS,
        "environment": {"SECRETS_MANAGER_ENDPOINT": ENDPOINT, "SECRET_ARN": SECRET_ARN,
                        "LOG_LEVEL": "INFO"},
        "reserved_concurrent_executions": 2, "dead_letter_topic": DLQ,
    }
    values.update(overrides)
    return LambdaFunctionProps(**values)


@pytest.fixture(scope="module")
def synthesized(make_stack, synth, tags, package):
    stack = make_stack()
    function = LambdaFunction(stack, "rotation", props(tags, package))
    function.grant_invoke(SECRETS_MANAGER, id="secretsmanager")
    TerraformOutput(stack, "function_arn", value=function.arn)
    return function, synth(stack)


def _one(section):
    assert len(section) == 1, list(section)
    return next(iter(section.values()))


def test_function_settings(synthesized, tags, package):
    _, doc = synthesized
    function = _one(doc["resource"]["aws_lambda_function"])
    expected = {
        "function_name": "prod-secret-rotation", "handler": "rotation.handler",
        "runtime": "python3.12", "role": ROLE.arn, "timeout": 30, "memory_size": 256,
        "kms_key_arn": ENV_KEY.arn, "tracing_config": {"mode": "Active"},
        "vpc_config": {"subnet_ids": SUBNETS.ids, "security_group_ids": ["sg-rotation"]},
        "reserved_concurrent_executions": 2, "dead_letter_config": {"target_arn": DLQ.arn},
        "architectures": ["x86_64"],
    }
    assert {k: function.get(k) for k in expected} == expected
    assert function["environment"]["variables"]["LOG_LEVEL"] == "INFO"
    assert function["tags"] == tags.resource_tags("prod-secret-rotation")
    assert function["depends_on"] == ["aws_cloudwatch_log_group." + next(
        iter(doc["resource"]["aws_cloudwatch_log_group"]))]


def test_package_is_a_relative_asset_with_a_literal_hash(synthesized, package):
    _, doc = synthesized
    function = _one(doc["resource"]["aws_lambda_function"])
    digest = base64.b64encode(hashlib.sha256(package.read_bytes()).digest()).decode()
    assert function["source_code_hash"] == digest
    assert function["filename"].startswith("assets/")
    assert function["filename"].endswith("rotation.zip")
    assert str(package.parent) not in function["filename"]


def test_log_group_is_encrypted_with_retention(synthesized, tags):
    _, doc = synthesized
    group = _one(doc["resource"]["aws_cloudwatch_log_group"])
    assert group["name"] == "/aws/lambda/prod-secret-rotation"
    assert group["kms_key_id"] == LOG_KEY.arn
    assert group["retention_in_days"] == 365
    # The log group construct's kebab-case Name tag (tag values are kebab-case).
    assert group["tags"] == tags.resource_tags("aws-lambda-prod-secret-rotation")


def test_grant_invoke(synthesized):
    _, doc = synthesized
    [(address, permission)] = doc["resource"]["aws_lambda_permission"].items()
    assert address.startswith("rotation_invoke-secretsmanager_")
    assert permission["action"] == "lambda:InvokeFunction"
    assert permission["principal"] == "secretsmanager.amazonaws.com"
    assert permission["source_arn"] == SECRET_ARN
    assert permission["statement_id"] == "allow-secretsmanager"
    assert permission["function_name"].endswith(".function_name}")


def test_arn_output(synthesized):
    _, doc = synthesized
    assert doc["output"]["function_arn"]["value"].endswith(".arn}")


def test_no_environment_means_no_key(make_stack, synth, tags, package):
    stack = make_stack()
    LambdaFunction(stack, "plain", props(tags, package, environment={}))
    function = _one(synth(stack)["resource"]["aws_lambda_function"])
    assert "environment" not in function
    assert "kms_key_arn" not in function


def test_defaults_pass_governance(stack, tags, package):
    """Built with only its required props (no environment, reserved concurrency or
    dead-letter topic), the function leaves no governance finding."""
    LambdaFunction(stack, "rotation", props(tags, package, environment={},
                                            reserved_concurrent_executions=None,
                                            dead_letter_topic=None))
    assert governance_findings(stack) == []


@pytest.mark.parametrize(("field", "value", "fragment"), [
    ("name", "secret-rotation", "starting with 'prod-'"),
    ("handler", "rotation", "'<module>.<function>'"),
    ("runtime", "python2.7", "allowed are python3.10"),
    ("timeout", 0, "1 to 900 seconds"),
    ("memory_size", 64, "128 to 10240 MiB"),
    ("reserved_concurrent_executions", 0, "at least 1"),
    ("log_retention_days", 30, "allowed are 365"),
    ("security_groups", [], "at least one security group"),
])
def test_rejects_bad_props(stack, tags, package, field, value, fragment):
    with pytest.raises(ConfigError) as error:
        LambdaFunction(stack, "bad", props(tags, package, **{field: value}))
    message = str(error.value)
    assert "unit/bad" in message
    assert field in message
    assert repr(value) in message
    assert fragment in message


def test_rejects_a_missing_package(stack, tags, tmp_path):
    missing = tmp_path / "missing.zip"
    with pytest.raises(ConfigError) as error:
        LambdaFunction(stack, "bad", props(tags, missing))
    assert f"unit/bad: package is {str(missing)!r}" in str(error.value)


def test_rejects_literal_secrets_without_echoing_them(stack, tags, package):
    with pytest.raises(ConfigError) as error:
        LambdaFunction(stack, "bad", props(tags, package, environment={"DB_PASSWORD": "hunter2"}))
    message = str(error.value)
    assert "unit/bad: environment['DB_PASSWORD'] is '<redacted>'" in message
    assert "hunter2" not in message


def test_settings_about_secrets_are_not_secrets(make_stack, synth, tags, package):
    # Names that merely mention a secret (a length, a format) take literals, and
    # the function gets them as written: not refused, redacted or dropped.
    about_secrets = {"PASSWORD_LENGTH": "48", "SECRET_FORMAT": "json", "SECRET_JSON_KEY": "value"}
    stack = make_stack()
    LambdaFunction(stack, "ok", props(tags, package, environment=about_secrets))
    function = _one(synth(stack)["resource"]["aws_lambda_function"])
    assert function["environment"]["variables"] == about_secrets


def test_rejects_reserved_environment_keys(stack, tags, package):
    with pytest.raises(ConfigError) as error:
        LambdaFunction(stack, "bad", props(tags, package, environment={"AWS_REGION": "x"}))
    assert "unit/bad: environment key 'AWS_REGION' is 'AWS_REGION'" in str(error.value)


def test_rejects_bad_invoke_grants(stack, tags, package):
    function = LambdaFunction(stack, "fn", props(tags, package))
    with pytest.raises(ConfigError) as error:
        function.grant_invoke(
            ServicePrincipalRef(service="secretsmanager", source_arn="not-an-arn"), id="Rotation")
    message = str(error.value)
    assert "unit/fn: grant_invoke id is 'Rotation'" in message
    assert "grant_invoke service is 'secretsmanager'" in message
    assert "grant_invoke source_arn is 'not-an-arn'" in message
    with pytest.raises(ConfigError, match=re.escape(
            "grant_invoke grantee is 'secretsmanager.amazonaws.com'")):
        function.grant_invoke("secretsmanager.amazonaws.com", id="rotation")


def test_invoke_grant_ids_are_stable_and_used_once(make_stack, synth, tags, package):
    def addresses(ids):
        stack = make_stack()
        function = LambdaFunction(stack, "fn", props(tags, package))
        for grant_id in ids:
            function.grant_invoke(SECRETS_MANAGER, id=grant_id)
        permissions = synth(stack)["resource"]["aws_lambda_permission"]
        return {k: v["statement_id"] for k, v in permissions.items()}

    assert addresses(["a-secret", "b-secret"]) == addresses(["b-secret", "a-secret"])
    function = LambdaFunction(make_stack(), "fn", props(tags, package))
    function.grant_invoke(SECRETS_MANAGER, id="a-secret")
    with pytest.raises(ConfigError, match="grant_invoke id is 'a-secret'; allowed is a kebab-case"):
        function.grant_invoke(SECRETS_MANAGER, id="a-secret")
