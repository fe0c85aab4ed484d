"""A moto server on 127.0.0.1 standing in for AWS during the local e2e deploy.

Run as a module (`python -m tools.local_aws -p PORT`) it is moto's own server with
the patches in MOTO_PATCHES applied; `LocalAws` starts it on a free port and stops it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"
"""The account moto's STS reports; the harness makes real GetCallerIdentity calls."""

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

MOTO_SETTINGS = {
    # Certificates validate at once instead of after moto's default 60 s wait.
    "MOTO_ACM_VALIDATION_WAIT": "0",
    # AWS-managed policies (arn:aws:iam::aws:policy/...) exist, so attachments succeed.
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
}
"""Environment of the moto server process (names as moto/settings.py reads them)."""

MOTO_RUNTIME_CONFIG = {"lambda": {"use_docker": False}, "batch": {"use_docker": False}}
"""Posted to /moto-api/config: Lambda functions are stored, never run in Docker."""

MOTO_PATCHES = (
    "kms ReplicateKey: moto shallow-copies the primary key, so the replica and the primary "
    "share one multi-Region configuration and DescribeKey on the replica turns the primary "
    "into a REPLICA; the patch gives the replica its own copy, as AWS keeps them apart.",
    "policy conditions: moto evaluates a Condition on a key the request does not carry as "
    "met, so the state bucket's 'Deny unless aws:SecureTransport' statement denied every "
    "object request; moto passes no request context at all, and IAM treats a condition on "
    "a missing key as not met, so the patch makes conditional statements not apply "
    "(as for TLS requests on AWS).",
)
"""Patches applied inside the moto server process, with the reason for each."""


def _patch_kms_replicate_key() -> None:
    from copy import copy, deepcopy

    from moto.kms.models import KmsBackend, kms_backends

    def replicate_key(self, key_id: str, replica_region: str):
        primary = self.keys[key_id]
        replica = copy(primary)
        replica.region = replica_region
        replica.arn = primary.arn.replace(self.region_name, replica_region)
        if primary.multi_region:
            config = primary.multi_region_configuration
            if not any(r["Region"] == replica_region for r in config["ReplicaKeys"]):
                config["ReplicaKeys"].append({"Arn": replica.arn, "Region": replica_region})
            replica.multi_region_configuration = deepcopy(config)
            replica.multi_region_configuration["MultiRegionKeyType"] = "REPLICA"
        kms_backends[self.account_id][replica_region].keys[replica.id] = replica
        return replica

    KmsBackend.replicate_key = replicate_key


def _patch_policy_conditions() -> None:
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult

    original = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(self, action, resource="*", principal=None,
                            incoming_condition_values=None):
        conditions = self._statement.get("Condition") or {}
        keys = {key for block in conditions.values() for key in block}
        if keys - set(incoming_condition_values or {}):
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted


def apply_patches() -> None:
    _patch_kms_replicate_key()
    _patch_policy_conditions()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalAws:
    """A moto server subprocess; use as a context manager (stopped on any exit, Ctrl-C too)."""

    log_path: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> LocalAws:
        self.port = self.port or free_port()
        env = {**os.environ, **MOTO_SETTINGS, **FAKE_CREDENTIALS}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.local_aws", "-H", "127.0.0.1", "-p", str(self.port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited at start:\n{self.log_path.read_text()}")
            try:
                self._post("/moto-api/config", MOTO_RUNTIME_CONFIG)
                return self
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server not ready after {timeout:.0f} s") from None
                time.sleep(0.2)

    def _post(self, path: str, body: dict) -> dict:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read() or b"{}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> LocalAws:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client(self, service: str, region: str):
        """A boto3 client against this server."""
        import boto3

        return boto3.client(
            service, region_name=region, endpoint_url=self.url,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )


if __name__ == "__main__":
    apply_patches()
    from moto.server import main

    main(sys.argv[1:])
