"""Secrets Manager rotation Lambda for generated secrets: a random string stored
plainly or under one key of a JSON object (the Atlantis webhook secret, for example).

For the one secret named by WEBHOOK_SECRET_ARN it also keeps the copies outside
Secrets Manager in step: the GitHub repository webhook's secret (setSecret) and
the running Atlantis task, which reads the secret only when it starts
(finishSecret forces a new ECS deployment)."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

CURRENT = "AWSCURRENT"
PENDING = "AWSPENDING"

# A webhook secret must survive being pasted into a GitHub form and an
# environment variable, hence letters and digits only by default.
DEFAULT_PASSWORD_LENGTH = 48
MIN_PASSWORD_LENGTH = 32
MAX_PASSWORD_LENGTH = 4096  # the GetRandomPassword limit
DEFAULT_JSON_KEY = "value"
FORMATS = ("json", "plain")

DEFAULT_GITHUB_API_URL = "https://api.github.com"
# A hard limit on every socket operation of a GitHub call (connect, send, each
# read). A step makes two calls (three past 100 hooks), so even the maximum
# leaves the function's 60 s for the Secrets Manager and ECS calls.
DEFAULT_GITHUB_TIMEOUT_SECONDS = 10.0
MAX_GITHUB_TIMEOUT_SECONDS = 15.0
# https://docs.github.com/en/rest/about-the-rest-api/api-versions
GITHUB_API_VERSION = "2022-11-28"
GITHUB_MEDIA_TYPE = "application/vnd.github+json"
# The largest page GitHub serves; a repository rarely has more than a handful of hooks.
HOOKS_PER_PAGE = 100
# Plain http only to a local stand-in (the tests' fake GitHub): the token must
# never cross a network in clear text.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
GITHUB_TOKEN_KEY = "token"
WEBHOOK_ENVIRONMENT = (
    "WEBHOOK_SECRET_ARN", "GITHUB_REPOSITORY", "WEBHOOK_URL", "GITHUB_TOKEN_SECRET_ARN",
    "ATLANTIS_ECS_CLUSTER", "ATLANTIS_ECS_SERVICE",
)


@dataclass(frozen=True, kw_only=True)
class RotationSettings:
    """How new values are generated and stored, read from the function's environment."""

    password_length: int = DEFAULT_PASSWORD_LENGTH
    """PASSWORD_LENGTH; left out, 48 characters."""
    exclude_punctuation: bool = True
    """EXCLUDE_PUNCTUATION ("true"/"false"); left out, punctuation is excluded."""
    exclude_characters: str = ""
    """EXCLUDE_CHARACTERS; left out, no further characters are excluded."""
    secret_format: str = "json"
    """SECRET_FORMAT, "json" or "plain"; left out, the value lives in a JSON object."""
    json_key: str = DEFAULT_JSON_KEY
    """SECRET_JSON_KEY, the key holding the value in JSON format; left out, "value"."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RotationSettings:
        problems: list[str] = []
        length_text = environ.get("PASSWORD_LENGTH", str(DEFAULT_PASSWORD_LENGTH))
        length = int(length_text) if length_text.strip().isdigit() else -1
        if not MIN_PASSWORD_LENGTH <= length <= MAX_PASSWORD_LENGTH:
            problems.append(
                f"PASSWORD_LENGTH is {length_text!r}; allowed: a whole number from "
                f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH}."
            )
        exclude_punctuation = _flag(environ, "EXCLUDE_PUNCTUATION", True, problems)
        secret_format = environ.get("SECRET_FORMAT", "json")
        if secret_format not in FORMATS:
            problems.append(f"SECRET_FORMAT is {secret_format!r}; allowed: {', '.join(FORMATS)}.")
        json_key = environ.get("SECRET_JSON_KEY", DEFAULT_JSON_KEY)
        if not json_key:
            problems.append("SECRET_JSON_KEY is empty; allowed: a non-empty JSON key.")
        if problems:
            raise ValueError("Invalid rotation function configuration: " + " ".join(problems))
        return cls(
            password_length=length,
            exclude_punctuation=exclude_punctuation,
            exclude_characters=environ.get("EXCLUDE_CHARACTERS", ""),
            secret_format=secret_format,
            json_key=json_key,
        )

    def random_password_request(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "PasswordLength": self.password_length,
            "ExcludePunctuation": self.exclude_punctuation,
        }
        if self.exclude_characters:
            request["ExcludeCharacters"] = self.exclude_characters
        return request

    def render(self, value: str, current: str | None) -> str:
        """The SecretString holding `value`; in JSON format the other keys of
        `current` are kept, so metadata stored beside the value survives."""
        if self.secret_format == "plain":
            return value
        document = _json_object(current) if current is not None else None
        if document is None:
            if current is not None:
                logger.warning("Current version is not a JSON object; starting a new one.")
            document = {}
        document[self.json_key] = value
        return json.dumps(document)

    def extract(self, secret_string: str) -> str:
        """The generated value in `secret_string`; ValueError (never quoting the
        secret) when it does not have the configured shape."""
        if self.secret_format == "plain":
            value: object = secret_string
        else:
            document = _json_object(secret_string)
            if document is None:
                raise ValueError("Secret value is not a JSON object.")
            if self.json_key not in document:
                raise ValueError(f"Secret value has no key {self.json_key!r}.")
            value = document[self.json_key]
        if not isinstance(value, str) or not value:
            raise ValueError("Secret value is not a non-empty string.")
        return value


@dataclass(frozen=True, kw_only=True)
class WebhookSync:
    """Where the webhook secret has copies outside Secrets Manager, read from
    the function's environment. Only the secret WEBHOOK_SECRET_ARN names is
    synchronised; every other secret the function rotates is only generated."""

    secret_arn: str
    """WEBHOOK_SECRET_ARN: the secret whose rotation updates GitHub and Atlantis."""
    repository: str
    """GITHUB_REPOSITORY: `owner/name` of the repository holding the webhook."""
    events_url: str
    """WEBHOOK_URL: the payload URL of the hook to update (`https://atlantis.<domain>/events`)."""
    token_secret_arn: str
    """GITHUB_TOKEN_SECRET_ARN: the secret holding the GitHub token (JSON key `token`)."""
    ecs_cluster: str
    """ATLANTIS_ECS_CLUSTER: cluster of the service that reads the secret at task start."""
    ecs_service: str
    """ATLANTIS_ECS_SERVICE: that service, redeployed once AWSCURRENT has moved."""
    api_url: str = DEFAULT_GITHUB_API_URL
    """GITHUB_API_URL; left out, https://api.github.com."""
    timeout_seconds: float = DEFAULT_GITHUB_TIMEOUT_SECONDS
    """GITHUB_TIMEOUT_SECONDS, per GitHub request; left out, 10 seconds."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> WebhookSync | None:
        """None when WEBHOOK_SECRET_ARN is not set (the function only generates values)."""
        if not environ.get("WEBHOOK_SECRET_ARN"):
            return None
        problems = [f"{name} is not set; it is required with WEBHOOK_SECRET_ARN."
                    for name in WEBHOOK_ENVIRONMENT if not environ.get(name)]
        repository = environ.get("GITHUB_REPOSITORY", "")
        if repository and not REPOSITORY.match(repository):
            problems.append(f"GITHUB_REPOSITORY is {repository!r}; allowed: 'owner/name'.")
        events_url = environ.get("WEBHOOK_URL", "")
        if events_url and not events_url.startswith("https://"):
            problems.append(f"WEBHOOK_URL is {events_url!r}; allowed: an https:// URL.")
        api_url = environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API_URL
        parsed = urllib.parse.urlsplit(api_url)
        if not (parsed.scheme == "https" or (
                parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS)) or not parsed.netloc:
            problems.append(f"GITHUB_API_URL is {api_url!r}; allowed: an https:// URL "
                            "(plain http only to a loopback address).")
        timeout_text = environ.get("GITHUB_TIMEOUT_SECONDS", str(DEFAULT_GITHUB_TIMEOUT_SECONDS))
        try:
            timeout = float(timeout_text)
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= MAX_GITHUB_TIMEOUT_SECONDS:
            problems.append(f"GITHUB_TIMEOUT_SECONDS is {timeout_text!r}; allowed: a number of "
                            f"seconds above 0 and at most {MAX_GITHUB_TIMEOUT_SECONDS:g}.")
        if problems:
            raise ValueError("Invalid webhook synchronisation configuration: " + " ".join(problems))
        return cls(
            secret_arn=environ["WEBHOOK_SECRET_ARN"],
            repository=repository,
            events_url=events_url,
            token_secret_arn=environ["GITHUB_TOKEN_SECRET_ARN"],
            ecs_cluster=environ["ATLANTIS_ECS_CLUSTER"],
            ecs_service=environ["ATLANTIS_ECS_SERVICE"],
            api_url=api_url.rstrip("/"),
            timeout_seconds=timeout,
        )


class GithubApiError(RuntimeError):
    """GitHub refused a request, did not answer in time, or answered something unexpected."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # urllib would replay the Authorization header to wherever a redirect points;
    # a moved repository must fail loudly instead (GITHUB_REPOSITORY is stale).
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None


class GithubApi:
    """The few REST calls the rotation needs, with the standard library only.

    Endpoints (API version 2022-11-28):
    - List repository webhooks, `GET /repos/{owner}/{repo}/hooks`:
      https://docs.github.com/en/rest/webhooks/repos#list-repository-webhooks
    - Get / update a webhook configuration for a repository,
      `GET|PATCH /repos/{owner}/{repo}/hooks/{hook_id}/config`:
      https://docs.github.com/en/rest/webhooks/repo-config
      The PATCH changes only the fields it is given, so sending `secret` alone
      keeps `url`, `content_type` and `insecure_ssl`. (The other PATCH, "Update a
      repository webhook", removes a secret that is not repeated: not used.)
    """

    def __init__(self, base_url: str, token: str, timeout_seconds: float):
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout_seconds
        self._opener = urllib.request.build_opener(_NoRedirects())

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """The decoded JSON answer; GithubApiError naming the call otherwise."""
        headers = {
            "Accept": GITHUB_MEDIA_TYPE,
            "Authorization": f"Bearer {self._token}",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
            "User-Agent": "secret-rotation-lambda",
        }
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        call = f"{method} {path.split('?')[0]}"
        request = urllib.request.Request(
            self._base_url + path, data=data, headers=headers, method=method)
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise GithubApiError(
                f"GitHub refused {call} with {error.code} {error.reason}"
                f"{_github_message(error)}.") from None
        except (OSError, http.client.HTTPException) as error:
            # URLError wraps a timeout while connecting; a slow answer raises it bare.
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise GithubApiError(
                    f"GitHub did not answer {call} within {self._timeout:g} s.") from None
            raise GithubApiError(
                f"GitHub could not be reached for {call}: {str(reason) or type(reason).__name__}."
            ) from None
        try:
            return json.loads(payload) if payload else None
        except ValueError:
            raise GithubApiError(f"GitHub answered {call} with a body that is not JSON.") from None

    def find_hook(self, repository: str, events_url: str) -> dict[str, Any]:
        """The repository webhook whose payload URL is `events_url`."""
        wanted = events_url.rstrip("/")
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            hooks = self.request(
                "GET", f"/repos/{repository}/hooks?per_page={HOOKS_PER_PAGE}&page={page}")
            if not isinstance(hooks, list):
                raise GithubApiError(
                    f"GitHub answered GET /repos/{repository}/hooks with something other "
                    "than a list of hooks.")
            found += [hook for hook in hooks if isinstance(hook, dict)
                      and str((hook.get("config") or {}).get("url", "")).rstrip("/") == wanted]
            if len(hooks) < HOOKS_PER_PAGE:
                break
            page += 1
        if not found:
            raise GithubApiError(
                f"Repository {repository} has no webhook delivering to {events_url}; create "
                "it (content type application/json, secret: the current webhook secret) or "
                "correct WEBHOOK_URL.")
        if len(found) > 1:
            ids = ", ".join(str(hook.get("id")) for hook in found)
            raise GithubApiError(
                f"Repository {repository} has {len(found)} webhooks delivering to "
                f"{events_url} (ids {ids}); delete all but one so the rotation knows "
                "which secret to change.")
        if not isinstance(found[0].get("id"), int):
            raise GithubApiError(
                f"GitHub listed the webhook of {repository} delivering to {events_url} "
                "without a numeric id.")
        return found[0]


def lambda_handler(event: Mapping[str, Any], context: object) -> None:
    """Entry point Secrets Manager invokes once per rotation step."""
    missing = [key for key in ("SecretId", "ClientRequestToken", "Step") if not event.get(key)]
    if missing:
        raise ValueError(f"Rotation event lacks {', '.join(missing)}.")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step not in STEPS:
        raise ValueError(f"Invalid step {step!r}; allowed: {', '.join(STEPS)}.")
    settings = RotationSettings.from_environ(os.environ)
    sync = WebhookSync.from_environ(os.environ)
    client = _secretsmanager_client()

    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"Secret {arn} does not have rotation enabled.")
    # Compared with the ARN Secrets Manager resolves, whatever form SecretId has.
    if sync is not None and metadata.get("ARN") != sync.secret_arn:
        sync = None
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if CURRENT in versions[token]:
        if step == "finishSecret" and sync is not None:
            # The labels moved but an earlier attempt may have failed before
            # Atlantis was redeployed; without it Atlantis keeps the old value
            # while GitHub signs with the new one. Another restart is harmless.
            logger.info("finishSecret: version %s is already AWSCURRENT; forcing the "
                        "Atlantis deployment again in case the last attempt did not.", token)
            _redeploy_atlantis(sync, arn, token)
            return
        logger.info("Secret version %s is already AWSCURRENT for secret %s.", token, arn)
        return
    if PENDING not in versions[token]:
        raise ValueError(f"Secret version {token} is not AWSPENDING for rotation of secret {arn}.")
    if sync is not None and not any(CURRENT in stages for stages in versions.values()):
        # The first value (the rotation the schedule starts on a new secret,
        # before the atlantis stack exists): no hook or task can hold a copy of
        # a value that never existed, and failing here would leave the secret
        # without any value, which no Atlantis task could start with.
        logger.info("%s: first value of secret %s; GitHub and Atlantis are not touched.",
                    step, arn)
        sync = None

    logger.info("%s: secret %s, version %s.", step, arn, token)
    STEPS[step](client, arn, token, settings, sync)


def _create_secret(client: Any, arn: str, token: str, settings: RotationSettings,
                   sync: WebhookSync | None) -> None:
    """Generate a value and store it as AWSPENDING, unless an earlier attempt did."""
    current = _secret_string(client, arn, VersionStage=CURRENT)
    if _secret_string(client, arn, VersionId=token, VersionStage=PENDING) is not None:
        logger.info("createSecret: version %s already has a value; keeping it.", token)
        return
    password = client.get_random_password(**settings.random_password_request())["RandomPassword"]
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=settings.render(password, current),
        VersionStages=[PENDING],
    )
    logger.info("createSecret: stored a new AWSPENDING value in version %s.", token)


def _set_secret(client: Any, arn: str, token: str, settings: RotationSettings,
                sync: WebhookSync | None) -> None:
    """Give the GitHub webhook the AWSPENDING value (webhook secret only).

    Any failure raises, so the rotation fails and is retried with the same
    version: AWSCURRENT stays the old value, which Atlantis keeps using and
    GitHub still has after a refusal (after a timeout GitHub may have applied
    the change: the retry settles it). A retry sends the same value again, so
    the step is idempotent. A generated secret without a webhook has nothing to
    push: its consumers read it when they start."""
    if sync is None:
        logger.info("setSecret: generated secret, nothing to update for version %s.", token)
        return
    value = _pending_value(client, arn, token, settings)
    github = _github(client, sync)
    hook = github.find_hook(sync.repository, sync.events_url)
    github.request("PATCH", f"/repos/{sync.repository}/hooks/{hook['id']}/config",
                   {"secret": value})
    logger.info("setSecret: webhook %s of %s now signs with version %s.",
                hook["id"], sync.repository, token)


def _test_secret(client: Any, arn: str, token: str, settings: RotationSettings,
                 sync: WebhookSync | None) -> None:
    """Check that the AWSPENDING version reads back with the configured shape
    and, for the webhook secret, that the hook is still there, active, pointed
    at Atlantis and holding a secret (GitHub never returns the secret itself)."""
    _pending_value(client, arn, token, settings)
    logger.info("testSecret: version %s has the expected shape.", token)
    if sync is None:
        return
    github = _github(client, sync)
    hook = github.find_hook(sync.repository, sync.events_url)
    where = f"Webhook {hook['id']} of {sync.repository}"
    if hook.get("active") is not True:
        raise GithubApiError(f"{where} is not active, so GitHub delivers nothing to "
                             f"{sync.events_url}; activate it and retry the rotation.")
    config = github.request("GET", f"/repos/{sync.repository}/hooks/{hook['id']}/config")
    if not isinstance(config, dict) or str(config.get("url", "")).rstrip("/") != \
            sync.events_url.rstrip("/"):
        raise GithubApiError(f"{where} no longer delivers to {sync.events_url}.")
    if not config.get("secret"):
        raise GithubApiError(f"{where} has no secret after setSecret; deliveries would be "
                             "unsigned and Atlantis rejects them.")
    logger.info("testSecret: webhook %s is active and has a secret.", hook["id"])


def _finish_secret(client: Any, arn: str, token: str, settings: RotationSettings,
                   sync: WebhookSync | None) -> None:
    """Move AWSCURRENT to the new version (Secrets Manager labels the old one
    AWSPREVIOUS); for the webhook secret, then restart Atlantis so it reads it."""
    versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    current_version = next((v for v, stages in versions.items() if CURRENT in stages), None)
    if current_version == token:
        logger.info("finishSecret: version %s is already AWSCURRENT.", token)
    else:
        move: dict[str, str] = {"MoveToVersionId": token}
        if current_version is not None:
            move["RemoveFromVersionId"] = current_version
        client.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, **move)
        logger.info("finishSecret: moved AWSCURRENT from %s to %s.", current_version, token)
    if sync is not None:
        _redeploy_atlantis(sync, arn, token)


STEPS: dict[str, Callable[[Any, str, str, RotationSettings, WebhookSync | None], None]] = {
    "createSecret": _create_secret,
    "setSecret": _set_secret,
    "testSecret": _test_secret,
    "finishSecret": _finish_secret,
}


def _redeploy_atlantis(sync: WebhookSync, arn: str, token: str) -> None:
    """Force a new deployment: ECS injects secrets only when a task starts."""
    try:
        _ecs_client().update_service(
            cluster=sync.ecs_cluster, service=sync.ecs_service, forceNewDeployment=True)
    except (BotoCoreError, ClientError) as error:
        raise RuntimeError(
            f"finishSecret: AWSCURRENT of secret {arn} is version {token} and GitHub signs "
            f"with it, but ECS did not start a new deployment of service {sync.ecs_service} "
            f"in cluster {sync.ecs_cluster} ({error}); until Atlantis restarts its webhook "
            f"deliveries fail. Run: aws ecs update-service --cluster {sync.ecs_cluster} "
            f"--service {sync.ecs_service} --force-new-deployment") from error
    logger.info("finishSecret: forced a new deployment of %s in %s.",
                sync.ecs_service, sync.ecs_cluster)


def _pending_value(client: Any, arn: str, token: str, settings: RotationSettings) -> str:
    pending = _secret_string(client, arn, VersionId=token, VersionStage=PENDING)
    if pending is None:
        raise ValueError(f"Secret version {token} of secret {arn} has no AWSPENDING value.")
    try:
        return settings.extract(pending)
    except ValueError as error:
        raise ValueError(f"Pending version {token} of secret {arn}: {error}") from None


def _github(client: Any, sync: WebhookSync) -> GithubApi:
    """A GitHub client authenticated with the bot token (AWSCURRENT of its secret)."""
    where = f"GitHub token secret {sync.token_secret_arn}"
    secret_string = _secret_string(client, sync.token_secret_arn, VersionStage=CURRENT)
    if secret_string is None:
        raise ValueError(f"{where} has no value; put it with put-secret-value first.")
    document = _json_object(secret_string)
    token = document.get(GITHUB_TOKEN_KEY) if document is not None else None
    if not isinstance(token, str) or not token:
        raise ValueError(f"{where} is not a JSON object with a non-empty "
                         f"{GITHUB_TOKEN_KEY!r} key.")
    return GithubApi(sync.api_url, token, sync.timeout_seconds)


def _github_message(error: urllib.error.HTTPError) -> str:
    """GitHub's own explanation (its JSON `message`), never the request body."""
    try:
        document = json.loads(error.read(4096) or b"{}")
    except (ValueError, OSError):
        return ""
    message = document.get("message") if isinstance(document, dict) else None
    return f" ({message})" if isinstance(message, str) and message else ""


def _secretsmanager_client() -> Any:
    # SECRETS_MANAGER_ENDPOINT is what AWS's rotation templates read; unset, the
    # regional endpoint (or the VPC interface endpoint's private DNS) is used.
    endpoint = os.environ.get("SECRETS_MANAGER_ENDPOINT") or None
    return boto3.client("secretsmanager", endpoint_url=endpoint)


def _ecs_client() -> Any:
    # No ECS interface endpoint in the VPC: the regional endpoint, through the NAT.
    return boto3.client("ecs")


def _secret_string(client: Any, arn: str, **version: str) -> str | None:
    """The SecretString of one version, or None when that version has no value."""
    try:
        response = client.get_secret_value(SecretId=arn, **version)
    except client.exceptions.ResourceNotFoundException:
        return None
    if "SecretString" not in response:
        raise ValueError(f"Secret {arn} holds binary data; this function rotates strings only.")
    return response["SecretString"]


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _flag(environ: Mapping[str, str], name: str, default: bool, problems: list[str]) -> bool:
    text = environ.get(name)
    if text is None:
        return default
    if text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    problems.append(f"{name} is {text!r}; allowed: true, false.")
    return default
