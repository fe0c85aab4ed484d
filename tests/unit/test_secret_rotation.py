"""The secret rotation handler driven through moto's Secrets Manager, step by step
and end to end through RotateSecret."""

from __future__ import annotations

import io
import json
import logging
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from lambda_src.secret_rotation import handler

REGION = "ap-northeast-2"
SECRET_NAME = "prod-atlantis-webhook-secret"
HANDLER_ENV = (
    "PASSWORD_LENGTH", "EXCLUDE_PUNCTUATION", "EXCLUDE_CHARACTERS",
    "SECRET_FORMAT", "SECRET_JSON_KEY", "SECRETS_MANAGER_ENDPOINT",
)


@dataclass
class RotationFunction:
    """The rotation Lambda as moto sees it; `run_steps` says which of the steps
    RotateSecret triggers actually run the handler (all by default)."""

    arn: str
    run_steps: set[str] = field(default_factory=lambda: set(handler.STEPS))
    invoked: list[str] = field(default_factory=list)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in (*HANDLER_ENV, "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    # moto's docker-free Lambda backend: RotateSecret invokes it, and the
    # rotation_function fixture makes that invocation run our handler in-process.
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def rotation_function(secrets: object, monkeypatch: pytest.MonkeyPatch) -> RotationFunction:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="prod-secret-rotation",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("secret_rotation/handler.py", "")
    arn = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName="prod-secret-rotation", Runtime="python3.11", Role=role,
        Handler="secret_rotation.handler.lambda_handler", Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    function = RotationFunction(arn=arn)

    def invoke(self, function_name, qualifier, body, headers, response_headers) -> bytes:
        event = json.loads(body)
        function.invoked.append(event["Step"])
        if event["Step"] in function.run_steps:
            handler.lambda_handler(event, None)
        return b"null"

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return function


def create_secret(secrets, value: str = '{"value": "initial-value"}') -> str:
    return secrets.create_secret(Name=SECRET_NAME, SecretString=value)["ARN"]


def rotate(secrets, function: RotationFunction, arn: str) -> str:
    """Start a rotation as Secrets Manager does; the token of the new version."""
    return secrets.rotate_secret(
        SecretId=arn, RotationLambdaARN=function.arn,
        RotationRules={"AutomaticallyAfterDays": 30},  # moto enables rotation only with rules
    )["VersionId"]


def begin_rotation(secrets, function: RotationFunction, arn: str) -> str:
    """A rotation started but none of its steps run: the token's version exists,
    labelled AWSPENDING and without a value, as when Secrets Manager calls createSecret."""
    function.run_steps = set()
    return rotate(secrets, function, arn)


def run_step(arn: str, token: str, step: str) -> None:
    handler.lambda_handler({"SecretId": arn, "ClientRequestToken": token, "Step": step}, None)


def stages(secrets, arn: str) -> dict[str, list[str]]:
    return secrets.describe_secret(SecretId=arn)["VersionIdsToStages"]


def value_at(secrets, arn: str, **version: str) -> str:
    return secrets.get_secret_value(SecretId=arn, **version)["SecretString"]


def test_full_rotation_generates_a_new_value_and_moves_the_labels(secrets, rotation_function):
    arn = create_secret(secrets)
    old_version = secrets.get_secret_value(SecretId=arn)["VersionId"]

    token = rotate(secrets, rotation_function, arn)

    assert rotation_function.invoked == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    new_value = json.loads(value_at(secrets, arn, VersionStage="AWSCURRENT"))["value"]
    assert len(new_value) == 48 and new_value.isalnum()
    assert new_value != "initial-value"
    versions = stages(secrets, arn)
    assert "AWSCURRENT" in versions[token]
    assert versions[old_version] == ["AWSPREVIOUS"]
    previous = json.loads(value_at(secrets, arn, VersionStage="AWSPREVIOUS"))
    assert previous == {"value": "initial-value"}


def test_create_secret_is_idempotent(secrets, rotation_function):
    arn = create_secret(secrets)
    token = begin_rotation(secrets, rotation_function, arn)

    run_step(arn, token, "createSecret")
    first = value_at(secrets, arn, VersionId=token, VersionStage="AWSPENDING")
    run_step(arn, token, "createSecret")

    assert value_at(secrets, arn, VersionId=token, VersionStage="AWSPENDING") == first
    assert [v for v, s in stages(secrets, arn).items() if "AWSPENDING" in s] == [token]


def test_steps_run_one_by_one_complete_the_rotation(secrets, rotation_function):
    arn = create_secret(secrets)
    token = begin_rotation(secrets, rotation_function, arn)

    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        run_step(arn, token, step)

    assert "AWSCURRENT" in stages(secrets, arn)[token]
    # A retried step after the rotation finished is a no-op, not an error.
    run_step(arn, token, "finishSecret")
    assert "AWSCURRENT" in stages(secrets, arn)[token]


def test_unknown_step_is_rejected(secrets, rotation_function):
    arn = create_secret(secrets)
    token = begin_rotation(secrets, rotation_function, arn)
    with pytest.raises(ValueError, match="Invalid step 'rotateSecret'"):
        run_step(arn, token, "rotateSecret")


def test_event_without_required_fields_is_rejected():
    with pytest.raises(ValueError, match="lacks ClientRequestToken, Step"):
        handler.lambda_handler({"SecretId": "arn"}, None)


def test_token_without_a_version_is_rejected(secrets, rotation_function):
    arn = create_secret(secrets)
    begin_rotation(secrets, rotation_function, arn)
    with pytest.raises(ValueError, match="has no stage for rotation"):
        run_step(arn, str(uuid.uuid4()), "createSecret")


def test_token_not_pending_is_rejected(secrets, rotation_function):
    arn = create_secret(secrets)
    old_version = secrets.get_secret_value(SecretId=arn)["VersionId"]
    rotate(secrets, rotation_function, arn)  # the old version is now AWSPREVIOUS
    with pytest.raises(ValueError, match="is not AWSPENDING"):
        run_step(arn, old_version, "createSecret")


def test_secret_without_rotation_is_rejected(secrets):
    arn = create_secret(secrets)
    version = secrets.get_secret_value(SecretId=arn)["VersionId"]
    with pytest.raises(ValueError, match="does not have rotation enabled"):
        run_step(arn, version, "createSecret")


def test_configured_json_key_is_rotated_and_other_keys_kept(
    secrets, rotation_function, monkeypatch
):
    monkeypatch.setenv("SECRET_JSON_KEY", "webhook_secret")
    arn = create_secret(secrets, '{"webhook_secret": "initial-value", "owner": "platform"}')

    rotate(secrets, rotation_function, arn)

    document = json.loads(value_at(secrets, arn, VersionStage="AWSCURRENT"))
    assert document["owner"] == "platform"
    assert len(document["webhook_secret"]) == 48
    assert document["webhook_secret"] != "initial-value"


def test_current_value_that_is_not_json_is_replaced_by_a_json_object(secrets, rotation_function):
    arn = create_secret(secrets, "placeholder")
    rotate(secrets, rotation_function, arn)
    assert list(json.loads(value_at(secrets, arn, VersionStage="AWSCURRENT"))) == ["value"]


def test_plain_format_stores_the_bare_value(secrets, rotation_function, monkeypatch):
    monkeypatch.setenv("SECRET_FORMAT", "plain")
    monkeypatch.setenv("PASSWORD_LENGTH", "64")
    arn = create_secret(secrets, "initial-value")

    rotate(secrets, rotation_function, arn)

    value = value_at(secrets, arn, VersionStage="AWSCURRENT")
    assert len(value) == 64 and value.isalnum()


@pytest.mark.parametrize(("pending", "message"), [
    ("not json", "not a JSON object"),
    ('["value"]', "not a JSON object"),
    ('{"other": "x"}', "no key 'value'"),
    ('{"value": ""}', "not a non-empty string"),
    ('{"value": 42}', "not a non-empty string"),
])
def test_test_secret_rejects_a_malformed_pending_value(
    secrets, rotation_function, pending, message
):
    arn = create_secret(secrets)
    token = begin_rotation(secrets, rotation_function, arn)
    secrets.put_secret_value(
        SecretId=arn, ClientRequestToken=token, SecretString=pending, VersionStages=["AWSPENDING"],
    )
    with pytest.raises(ValueError, match=message) as raised:
        run_step(arn, token, "testSecret")
    assert pending not in str(raised.value)  # the message never quotes the secret


def test_test_secret_rejects_a_pending_version_without_value(secrets, rotation_function):
    arn = create_secret(secrets)
    token = begin_rotation(secrets, rotation_function, arn)
    with pytest.raises(ValueError, match="has no AWSPENDING value"):
        run_step(arn, token, "testSecret")


def test_secret_values_are_never_logged(secrets, rotation_function, caplog):
    caplog.set_level(logging.DEBUG, logger=handler.logger.name)
    arn = create_secret(secrets, '{"value": "initial-value"}')
    rotate(secrets, rotation_function, arn)

    new_value = json.loads(value_at(secrets, arn, VersionStage="AWSCURRENT"))["value"]
    handler_records = [r.getMessage() for r in caplog.records if r.name == handler.logger.name]
    assert handler_records
    assert not [m for m in handler_records if "initial-value" in m or new_value in m]


def test_settings_defaults_ask_for_48_characters_without_punctuation():
    settings = handler.RotationSettings.from_environ({})
    assert settings.random_password_request() == {"PasswordLength": 48, "ExcludePunctuation": True}
    assert (settings.secret_format, settings.json_key) == ("json", "value")


def test_settings_read_from_the_environment():
    settings = handler.RotationSettings.from_environ({
        "PASSWORD_LENGTH": "100", "EXCLUDE_PUNCTUATION": "False", "EXCLUDE_CHARACTERS": "/@\"'\\",
    })
    assert settings.random_password_request() == {
        "PasswordLength": 100, "ExcludePunctuation": False, "ExcludeCharacters": "/@\"'\\",
    }


def test_invalid_settings_are_reported_together():
    with pytest.raises(ValueError) as raised:
        handler.RotationSettings.from_environ({
            "PASSWORD_LENGTH": "8", "EXCLUDE_PUNCTUATION": "yes",
            "SECRET_FORMAT": "yaml", "SECRET_JSON_KEY": "",
        })
    message = str(raised.value)
    for expected in ("PASSWORD_LENGTH is '8'", "EXCLUDE_PUNCTUATION is 'yes'",
                     "SECRET_FORMAT is 'yaml'", "SECRET_JSON_KEY is empty"):
        assert expected in message
