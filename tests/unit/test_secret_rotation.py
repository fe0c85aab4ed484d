"""The secret rotation handler driven through moto's Secrets Manager, step by step
and end to end through RotateSecret; for the webhook secret also against a local
fake of GitHub's REST API (http.server on 127.0.0.1) and moto's ECS."""

from __future__ import annotations

import copy
import io
import json
import logging
import threading
import urllib.parse
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.secretsmanager.models import SecretsManagerBackend

from lambda_src.secret_rotation import handler

REGION = "ap-northeast-2"
SECRET_NAME = "prod-atlantis-webhook-secret"
HANDLER_ENV = (
    "PASSWORD_LENGTH", "EXCLUDE_PUNCTUATION", "EXCLUDE_CHARACTERS",
    "SECRET_FORMAT", "SECRET_JSON_KEY", "SECRETS_MANAGER_ENDPOINT",
    *handler.WEBHOOK_ENVIRONMENT, "GITHUB_API_URL", "GITHUB_TIMEOUT_SECONDS",
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


# --- the webhook secret: GitHub and Atlantis kept in step ----------------------

REPOSITORY = "connectly/infrastructure"
EVENTS_URL = "https://atlantis.set-of.com/events"
CLUSTER, SERVICE = "atlantis-prod", "prod-atlantis"
GITHUB_TOKEN = "test-bot-token"  # not shaped like a real token (SEC004's patterns)
HOOK_ID = 2
# Small, so the timeout test waits half a second, not the production 10 s.
TEST_TIMEOUT_SECONDS = 0.5


@dataclass
class FakeGithub:
    """The repository-webhook endpoints of GitHub's REST API, in memory.

    `refuse_with` answers PATCH with that status; `delay_seconds` holds PATCH
    that long before answering (without applying it)."""

    hooks: list[dict]
    base_url: str = ""
    requests: list[dict] = field(default_factory=list)
    refuse_with: int | None = None
    delay_seconds: float = 0.0
    released: threading.Event = field(default_factory=threading.Event)

    def hook(self, hook_id: int) -> dict | None:
        return next((h for h in self.hooks if h["id"] == hook_id), None)

    def secret_of(self, hook_id: int = HOOK_ID) -> str | None:
        return self.hook(hook_id)["config"].get("secret")

    def patches(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "PATCH"]


def _masked(config: dict) -> dict:
    """GitHub never returns a secret, only that one is set."""
    shown = copy.deepcopy(config)
    if shown.get("secret"):
        shown["secret"] = "********"
    return shown


def _hook_view(hook: dict) -> dict:
    return {**copy.deepcopy(hook), "config": _masked(hook["config"])}


def _request_handler(github: FakeGithub) -> type[BaseHTTPRequestHandler]:
    hooks_path = f"/repos/{REPOSITORY}/hooks"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the test output clean
            pass

        def _answer(self, status: int, document: object) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _record(self) -> tuple[str, dict, object]:
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            github.requests.append({"method": self.command, "path": url.path, "query": query,
                                    "headers": dict(self.headers), "body": body})
            return url.path, query, body

        def _hook_or_404(self, path: str, suffix: str = "") -> dict | None:
            tail = path.removeprefix(hooks_path + "/").removesuffix(suffix)
            hook = github.hook(int(tail)) if tail.isdigit() else None
            if hook is None:
                self._answer(404, {"message": "Not Found"})
            return hook

        def do_GET(self) -> None:
            path, query, _ = self._record()
            if path == hooks_path:
                per_page = int(query.get("per_page", ["30"])[0])
                page = int(query.get("page", ["1"])[0])
                listed = github.hooks[(page - 1) * per_page: page * per_page]
                self._answer(200, [_hook_view(h) for h in listed])
            elif path.endswith("/config"):
                if hook := self._hook_or_404(path, "/config"):
                    self._answer(200, _masked(hook["config"]))
            elif hook := self._hook_or_404(path):
                self._answer(200, _hook_view(hook))

        def do_PATCH(self) -> None:
            path, _, body = self._record()
            if github.delay_seconds:
                # Never answers in time and applies nothing; the wait ends
                # early when the fixture shuts the server down.
                github.released.wait(github.delay_seconds)
                return
            if github.refuse_with:
                self._answer(github.refuse_with, {
                    "message": {403: "Resource not accessible by personal access token",
                                422: "Validation Failed"}.get(github.refuse_with, "Refused"),
                    "documentation_url": "https://docs.github.com/rest"})
                return
            if not path.endswith("/config"):
                self._answer(404, {"message": "Not Found"})
            elif hook := self._hook_or_404(path, "/config"):
                # Like GitHub: only the fields given change.
                hook["config"].update(body)
                self._answer(200, _masked(hook["config"]))

    return Handler


@pytest.fixture
def fake_github() -> Iterator[FakeGithub]:
    github = FakeGithub(hooks=[
        {"id": 1, "name": "web", "active": True, "events": ["push"],
         "config": {"url": "https://ci.example.com/hook", "content_type": "json",
                    "insecure_ssl": "0", "secret": "ci-secret"}},
        {"id": HOOK_ID, "name": "web", "active": True,
         "events": ["issue_comment", "pull_request", "pull_request_review", "push"],
         "config": {"url": EVENTS_URL, "content_type": "json", "insecure_ssl": "0",
                    "secret": "initial-value"}},
    ])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _request_handler(github))
    server.daemon_threads = True
    github.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield github
    finally:
        github.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Atlantis:
    """What the rotation sees of Atlantis: its ECS service (on moto) and the
    UpdateService calls the handler made."""

    ecs: object
    updates: list[dict] = field(default_factory=list)

    def deployment_id(self) -> str:
        (service,) = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"]
        return service["deployments"][0]["id"]


@pytest.fixture
def atlantis(secrets, monkeypatch) -> Atlantis:
    ecs = boto3.client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName=CLUSTER)
    ecs.register_task_definition(family=SERVICE, containerDefinitions=[
        {"name": "atlantis", "image": "ghcr.io/runatlantis/atlantis", "memory": 512}])
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=SERVICE,
                       desiredCount=1)
    found = Atlantis(ecs=ecs)
    recorded = boto3.client("ecs", region_name=REGION)
    recorded.meta.events.register(
        "provide-client-params.ecs.UpdateService",
        lambda params, **_: found.updates.append(dict(params)))
    monkeypatch.setattr(handler, "_ecs_client", lambda: recorded)
    return found


@pytest.fixture
def webhook_secret(secrets, rotation_function, fake_github, atlantis, monkeypatch) -> str:
    """The webhook secret (value "initial-value", which GitHub also has) and
    the function configured to keep GitHub and Atlantis in step with it."""
    token_arn = secrets.create_secret(
        Name="prod/atlantis/github-token",
        SecretString=json.dumps({"user": "atlantis-bot", "token": GITHUB_TOKEN}))["ARN"]
    arn = create_secret(secrets)
    for name, value in {
        "WEBHOOK_SECRET_ARN": arn, "GITHUB_REPOSITORY": REPOSITORY, "WEBHOOK_URL": EVENTS_URL,
        "GITHUB_TOKEN_SECRET_ARN": token_arn, "ATLANTIS_ECS_CLUSTER": CLUSTER,
        "ATLANTIS_ECS_SERVICE": SERVICE, "GITHUB_API_URL": fake_github.base_url,
        "GITHUB_TIMEOUT_SECONDS": str(TEST_TIMEOUT_SECONDS),
    }.items():
        monkeypatch.setenv(name, value)
    return arn


def current_version(secrets, arn: str) -> str:
    return next(v for v, s in stages(secrets, arn).items() if "AWSCURRENT" in s)


def test_webhook_rotation_updates_github_then_restarts_atlantis(
    secrets, rotation_function, webhook_secret, fake_github, atlantis
):
    arn = webhook_secret
    old_version = current_version(secrets, arn)
    old_deployment = atlantis.deployment_id()

    token = rotate(secrets, rotation_function, arn)

    new_value = json.loads(value_at(secrets, arn, VersionStage="AWSCURRENT"))["value"]
    assert new_value != "initial-value"
    assert fake_github.secret_of(HOOK_ID) == new_value
    assert fake_github.secret_of(1) == "ci-secret"  # other hooks are left alone
    versions = stages(secrets, arn)
    assert "AWSCURRENT" in versions[token]
    assert versions[old_version] == ["AWSPREVIOUS"]
    assert json.loads(value_at(secrets, arn, VersionStage="AWSPREVIOUS")) == {
        "value": "initial-value"}
    assert atlantis.updates == [
        {"cluster": CLUSTER, "service": SERVICE, "forceNewDeployment": True}]
    assert atlantis.deployment_id() != old_deployment


def test_webhook_update_sends_only_the_secret_with_githubs_headers(
    secrets, rotation_function, webhook_secret, fake_github
):
    rotate(secrets, rotation_function, webhook_secret)

    (patch,) = fake_github.patches()
    assert patch["path"] == f"/repos/{REPOSITORY}/hooks/{HOOK_ID}/config"
    assert list(patch["body"]) == ["secret"]
    # url, content_type and insecure_ssl stay as they were.
    config = fake_github.hook(HOOK_ID)["config"]
    assert (config["url"], config["content_type"], config["insecure_ssl"]) == (
        EVENTS_URL, "json", "0")
    for request in fake_github.requests:
        headers = {k.lower(): v for k, v in request["headers"].items()}
        assert headers["authorization"] == f"Bearer {GITHUB_TOKEN}"
        assert headers["accept"] == "application/vnd.github+json"
        assert headers["x-github-api-version"] == "2022-11-28"
    # testSecret read the hook's configuration back.
    assert {"method": "GET", "path": f"/repos/{REPOSITORY}/hooks/{HOOK_ID}/config"} in [
        {"method": r["method"], "path": r["path"]} for r in fake_github.requests]


@pytest.mark.parametrize(("status", "reason"), [
    (403, "403 Forbidden (Resource not accessible by personal access token)"),
    (422, "422 Unprocessable Entity (Validation Failed)"),
])
def test_github_refusing_fails_the_rotation_and_keeps_the_old_secret(
    secrets, rotation_function, webhook_secret, fake_github, atlantis, status, reason
):
    arn = webhook_secret
    old_version = current_version(secrets, arn)
    token = begin_rotation(secrets, rotation_function, arn)
    run_step(arn, token, "createSecret")
    pending = value_at(secrets, arn, VersionId=token, VersionStage="AWSPENDING")
    fake_github.refuse_with = status

    with pytest.raises(handler.GithubApiError) as raised:
        run_step(arn, token, "setSecret")

    assert str(raised.value) == (
        f"GitHub refused PATCH /repos/{REPOSITORY}/hooks/{HOOK_ID}/config with {reason}.")
    assert json.loads(pending)["value"] not in str(raised.value)
    assert current_version(secrets, arn) == old_version
    assert stages(secrets, arn)[token] == ["AWSPENDING"]
    assert value_at(secrets, arn, VersionId=token, VersionStage="AWSPENDING") == pending
    assert fake_github.secret_of(HOOK_ID) == "initial-value"
    assert atlantis.updates == []

    # Secrets Manager retries with the same version: the same value is sent.
    fake_github.refuse_with = None
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        run_step(arn, token, step)
    assert fake_github.secret_of(HOOK_ID) == json.loads(pending)["value"]
    assert current_version(secrets, arn) == token
    assert len(atlantis.updates) == 1


def test_github_timing_out_fails_the_rotation_like_a_refusal(
    secrets, rotation_function, webhook_secret, fake_github, atlantis
):
    arn = webhook_secret
    old_version = current_version(secrets, arn)
    token = begin_rotation(secrets, rotation_function, arn)
    run_step(arn, token, "createSecret")
    fake_github.delay_seconds = 10 * TEST_TIMEOUT_SECONDS

    with pytest.raises(handler.GithubApiError, match=(
            rf"^GitHub did not answer PATCH /repos/{REPOSITORY}/hooks/{HOOK_ID}/config "
            rf"within {TEST_TIMEOUT_SECONDS:g} s\.$")):
        run_step(arn, token, "setSecret")

    assert current_version(secrets, arn) == old_version
    assert stages(secrets, arn)[token] == ["AWSPENDING"]
    assert fake_github.secret_of(HOOK_ID) == "initial-value"
    assert atlantis.updates == []


def test_no_hook_for_the_atlantis_url_is_a_clear_error(
    secrets, rotation_function, webhook_secret, fake_github, atlantis
):
    fake_github.hooks[1]["config"]["url"] = "https://atlantis.old-domain.example/events"
    token = begin_rotation(secrets, rotation_function, webhook_secret)
    run_step(webhook_secret, token, "createSecret")

    with pytest.raises(handler.GithubApiError) as raised:
        run_step(webhook_secret, token, "setSecret")

    assert str(raised.value) == (
        f"Repository {REPOSITORY} has no webhook delivering to {EVENTS_URL}; create it "
        "(content type application/json, secret: the current webhook secret) or correct "
        "WEBHOOK_URL.")
    assert fake_github.patches() == []


def test_the_hook_is_found_on_a_later_page(
    secrets, rotation_function, webhook_secret, fake_github, monkeypatch
):
    monkeypatch.setattr(handler, "HOOKS_PER_PAGE", 1)
    rotate(secrets, rotation_function, webhook_secret)
    pages = [r["query"]["page"] for r in fake_github.requests
             if r["path"] == f"/repos/{REPOSITORY}/hooks"]
    assert pages[:3] == [["1"], ["2"], ["3"]]
    assert fake_github.secret_of(HOOK_ID) != "initial-value"


def test_an_inactive_hook_fails_test_secret(
    secrets, rotation_function, webhook_secret, fake_github, atlantis
):
    token = begin_rotation(secrets, rotation_function, webhook_secret)
    for step in ("createSecret", "setSecret"):
        run_step(webhook_secret, token, step)
    fake_github.hooks[1]["active"] = False

    with pytest.raises(handler.GithubApiError, match=(
            f"^Webhook {HOOK_ID} of {REPOSITORY} is not active, so GitHub delivers nothing")):
        run_step(webhook_secret, token, "testSecret")
    assert atlantis.updates == []


def test_a_failed_restart_is_retried_after_awscurrent_moved(
    secrets, rotation_function, webhook_secret, atlantis, monkeypatch
):
    arn = webhook_secret
    token = begin_rotation(secrets, rotation_function, arn)
    for step in ("createSecret", "setSecret", "testSecret"):
        run_step(arn, token, step)
    monkeypatch.setenv("ATLANTIS_ECS_SERVICE", "prod-missing")

    with pytest.raises(RuntimeError, match=(
            r"ECS did not start a new deployment of service prod-missing in cluster "
            r"atlantis-prod .* Run: aws ecs update-service --cluster atlantis-prod "
            r"--service prod-missing --force-new-deployment$")):
        run_step(arn, token, "finishSecret")
    assert current_version(secrets, arn) == token

    # The retry finds the labels moved and still restarts Atlantis.
    monkeypatch.setenv("ATLANTIS_ECS_SERVICE", SERVICE)
    old_deployment = atlantis.deployment_id()
    run_step(arn, token, "finishSecret")
    assert atlantis.updates[-1] == {
        "cluster": CLUSTER, "service": SERVICE, "forceNewDeployment": True}
    assert atlantis.deployment_id() != old_deployment


def test_first_value_of_the_webhook_secret_touches_neither_github_nor_ecs(
    secrets, rotation_function, fake_github, atlantis, monkeypatch, webhook_secret
):
    # A secret created without a value, as the stack creates it: the schedule's
    # first rotation runs before the atlantis stack (and its hook) exist.
    arn = secrets.create_secret(Name="prod/atlantis/new-webhook-secret")["ARN"]
    monkeypatch.setenv("WEBHOOK_SECRET_ARN", arn)
    fake_github.hooks.clear()
    # moto's RotateSecret needs some version; one without AWSCURRENT stands in
    # for AWS's valueless secret.
    seed = secrets.put_secret_value(SecretId=arn, SecretString="{}",
                                    VersionStages=["SEED"])["VersionId"]
    secrets.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                        RemoveFromVersionId=seed)
    token = begin_rotation(secrets, rotation_function, arn)
    assert not [v for v, s in stages(secrets, arn).items() if "AWSCURRENT" in s]
    # moto 5.2.5 cannot attach AWSCURRENT when no version holds it (AWS can).
    original = SecretsManagerBackend.update_secret_version_stage

    def attach_first_current(self, secret_id, version_stage, remove_from_version_id,
                             move_to_version_id):
        versions = self.secrets[secret_id].versions
        if version_stage == "AWSCURRENT" and not remove_from_version_id and not any(
                "AWSCURRENT" in v["version_stages"] for v in versions.values()):
            versions[move_to_version_id]["version_stages"].append("AWSCURRENT")
            return self.secrets[secret_id].arn, self.secrets[secret_id].name
        return original(self, secret_id, version_stage, remove_from_version_id,
                        move_to_version_id)

    monkeypatch.setattr(SecretsManagerBackend, "update_secret_version_stage",
                        attach_first_current)

    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        run_step(arn, token, step)

    assert current_version(secrets, arn) == token
    assert fake_github.requests == []
    assert atlantis.updates == []


def test_other_secrets_rotate_without_github_or_ecs(
    secrets, rotation_function, webhook_secret, fake_github, atlantis
):
    other = secrets.create_secret(Name="prod-other-generated",
                                  SecretString='{"value": "initial-value"}')["ARN"]
    token = rotate(secrets, rotation_function, other)
    assert "AWSCURRENT" in stages(secrets, other)[token]
    assert fake_github.requests == []
    assert atlantis.updates == []


def test_webhook_rotation_never_logs_a_secret(
    secrets, rotation_function, webhook_secret, fake_github, caplog
):
    caplog.set_level(logging.DEBUG, logger=handler.logger.name)
    rotate(secrets, rotation_function, webhook_secret)
    new_value = json.loads(value_at(secrets, webhook_secret, VersionStage="AWSCURRENT"))["value"]
    messages = [r.getMessage() for r in caplog.records if r.name == handler.logger.name]
    assert any("webhook 2" in m for m in messages)
    assert not [m for m in messages
                if new_value in m or GITHUB_TOKEN in m or "initial-value" in m]


def test_webhook_settings_are_off_without_webhook_secret_arn():
    assert handler.WebhookSync.from_environ({"GITHUB_REPOSITORY": REPOSITORY}) is None


def test_webhook_settings_defaults():
    sync = handler.WebhookSync.from_environ({
        "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:w",
        "GITHUB_REPOSITORY": REPOSITORY, "WEBHOOK_URL": EVENTS_URL,
        "GITHUB_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:t",
        "ATLANTIS_ECS_CLUSTER": CLUSTER, "ATLANTIS_ECS_SERVICE": SERVICE,
    })
    assert (sync.api_url, sync.timeout_seconds) == ("https://api.github.com", 10.0)


def test_invalid_webhook_settings_are_reported_together():
    with pytest.raises(ValueError) as raised:
        handler.WebhookSync.from_environ({
            "WEBHOOK_SECRET_ARN": "arn:aws:secretsmanager:ap-northeast-2:111122223333:secret:w",
            "GITHUB_REPOSITORY": "infrastructure", "WEBHOOK_URL": "http://atlantis/events",
            "GITHUB_API_URL": "http://api.github.com", "GITHUB_TIMEOUT_SECONDS": "0",
        })
    message = str(raised.value)
    for expected in (
        "GITHUB_TOKEN_SECRET_ARN is not set", "ATLANTIS_ECS_CLUSTER is not set",
        "ATLANTIS_ECS_SERVICE is not set", "GITHUB_REPOSITORY is 'infrastructure'",
        "WEBHOOK_URL is 'http://atlantis/events'", "GITHUB_API_URL is 'http://api.github.com'",
        "GITHUB_TIMEOUT_SECONDS is '0'",
    ):
        assert expected in message
