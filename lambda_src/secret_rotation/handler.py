"""Secrets Manager rotation Lambda for generated secrets: a random string stored
plainly or under one key of a JSON object (the Atlantis webhook secret, for example)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

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


def lambda_handler(event: Mapping[str, Any], context: object) -> None:
    """Entry point Secrets Manager invokes once per rotation step."""
    missing = [key for key in ("SecretId", "ClientRequestToken", "Step") if not event.get(key)]
    if missing:
        raise ValueError(f"Rotation event lacks {', '.join(missing)}.")
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if step not in STEPS:
        raise ValueError(f"Invalid step {step!r}; allowed: {', '.join(STEPS)}.")
    settings = RotationSettings.from_environ(os.environ)
    client = _secretsmanager_client()

    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise ValueError(f"Secret {arn} does not have rotation enabled.")
    versions = metadata.get("VersionIdsToStages", {})
    if token not in versions:
        raise ValueError(f"Secret version {token} has no stage for rotation of secret {arn}.")
    if CURRENT in versions[token]:
        logger.info("Secret version %s is already AWSCURRENT for secret %s.", token, arn)
        return
    if PENDING not in versions[token]:
        raise ValueError(f"Secret version {token} is not AWSPENDING for rotation of secret {arn}.")

    logger.info("%s: secret %s, version %s.", step, arn, token)
    STEPS[step](client, arn, token, settings)


def _create_secret(client: Any, arn: str, token: str, settings: RotationSettings) -> None:
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


def _set_secret(client: Any, arn: str, token: str, settings: RotationSettings) -> None:
    """Nothing to push: a generated secret has no database or API whose credential
    must change in step. Its consumers read the secret when they start (Atlantis
    reads the webhook secret at task start), so they take the new AWSCURRENT value
    on their next start. A copy held elsewhere (the GitHub webhook's secret) is
    outside this function's reach and is updated by its owner."""
    logger.info("setSecret: generated secret, nothing to update for version %s.", token)


def _test_secret(client: Any, arn: str, token: str, settings: RotationSettings) -> None:
    """Check that the AWSPENDING version reads back with the configured shape."""
    pending = _secret_string(client, arn, VersionId=token, VersionStage=PENDING)
    if pending is None:
        raise ValueError(f"Secret version {token} of secret {arn} has no AWSPENDING value.")
    try:
        settings.extract(pending)
    except ValueError as error:
        raise ValueError(f"Pending version {token} of secret {arn}: {error}") from None
    logger.info("testSecret: version %s has the expected shape.", token)


def _finish_secret(client: Any, arn: str, token: str, settings: RotationSettings) -> None:
    """Move AWSCURRENT to the new version (Secrets Manager labels the old one AWSPREVIOUS)."""
    versions = client.describe_secret(SecretId=arn).get("VersionIdsToStages", {})
    current_version = next((v for v, stages in versions.items() if CURRENT in stages), None)
    if current_version == token:
        logger.info("finishSecret: version %s is already AWSCURRENT.", token)
        return
    move: dict[str, str] = {"MoveToVersionId": token}
    if current_version is not None:
        move["RemoveFromVersionId"] = current_version
    client.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, **move)
    logger.info("finishSecret: moved AWSCURRENT from %s to %s.", current_version, token)


STEPS: dict[str, Callable[[Any, str, str, RotationSettings], None]] = {
    "createSecret": _create_secret,
    "setSecret": _set_secret,
    "testSecret": _test_secret,
    "finishSecret": _finish_secret,
}


def _secretsmanager_client() -> Any:
    # SECRETS_MANAGER_ENDPOINT is what AWS's rotation templates read; unset, the
    # regional endpoint (or the VPC interface endpoint's private DNS) is used.
    endpoint = os.environ.get("SECRETS_MANAGER_ENDPOINT") or None
    return boto3.client("secretsmanager", endpoint_url=endpoint)


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
