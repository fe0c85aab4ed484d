"""Two plans of one stack at once against the S3 backend on moto: DynamoDB locking refuses
the second; a lock left by a killed run is released with `terraform force-unlock`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from local_deploy.deploy_local import terraform_env
from local_deploy.local_aws import LocalAws
from local_deploy.local_overrides import (
    BACKEND_OVERRIDE,
    PROVIDER_OVERRIDE,
    load_stack,
    provider_override,
    s3_backend_override,
    write_json,
)

pytestmark = pytest.mark.slow

STACK = "bootstrap"  # plans on its own: it reads no other stack's SSM parameters
LOCK_ERROR = "Error acquiring the state lock"


@pytest.fixture(scope="module")
def locked_stack(synth_out, tmp_path_factory):
    """(stack dir, env, aws, backend): the stack's S3 state bucket and lock table on moto."""
    root = tmp_path_factory.mktemp("state-lock")
    stack_dir = root / "out" / "stacks" / STACK
    shutil.copytree(synth_out / "stacks" / STACK, stack_dir)
    stack = load_stack(stack_dir)
    backend = stack["terraform"]["backend"]["s3"]
    # The environment's own account: its provider refuses any other (allowed_account_ids).
    [account] = stack["provider"]["aws"][0]["allowed_account_ids"]
    with LocalAws(root / "moto.log", accounts=(account,)) as aws:
        aws.credentials = aws.account_credentials[account]
        s3 = aws.client("s3", backend["region"])
        s3.create_bucket(Bucket=backend["bucket"], CreateBucketConfiguration={
            "LocationConstraint": backend["region"]})
        aws.client("dynamodb", backend["region"]).create_table(
            TableName=backend["dynamodb_table"], BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        )
        aws.client("kms", backend["region"]).create_alias(
            AliasName=backend["kms_key_id"],
            TargetKeyId=aws.client("kms", backend["region"]).create_key()["KeyMetadata"]["KeyId"],
        )
        write_json(stack_dir / PROVIDER_OVERRIDE, provider_override(stack, aws.url))
        write_json(stack_dir / BACKEND_OVERRIDE, s3_backend_override(stack, aws.url))
        env = terraform_env(root, aws.credentials)
        init = terraform(stack_dir, env, "init", "-input=false")
        assert init.returncode == 0, init.stdout + init.stderr
        yield stack_dir, env, aws, backend


def terraform(stack_dir, env, *args) -> subprocess.CompletedProcess:
    command, *rest = args
    return subprocess.run(["terraform", command, "-no-color", *rest], cwd=stack_dir, env=env,
                          capture_output=True, text=True, timeout=600)


def start_plan(stack_dir, env) -> subprocess.Popen:
    # Its own process group, so the test can kill terraform together with its provider.
    return subprocess.Popen(["terraform", "plan", "-input=false", "-no-color"], cwd=stack_dir,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_lock(aws, backend, plan: subprocess.Popen, timeout: float = 120.0) -> None:
    """Until the running plan holds the lock (the S3 backend's item in the lock table)."""
    table = aws.client("dynamodb", backend["region"])
    lock_id = f"{backend['bucket']}/{backend['key']}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = table.get_item(TableName=backend["dynamodb_table"],
                              Key={"LockID": {"S": lock_id}}).get("Item")
        if item and "Info" in item:
            return
        assert plan.poll() is None, f"plan ended before it was seen holding the lock:\n" \
                                    f"{plan.communicate()}"
        time.sleep(0.05)
    pytest.fail(f"no lock item {lock_id} within {timeout} s")


def test_second_plan_fails_on_the_state_lock(locked_stack):
    stack_dir, env, aws, backend = locked_stack
    first = start_plan(stack_dir, env)
    try:
        wait_for_lock(aws, backend, first)
        second = terraform(stack_dir, env, "plan", "-input=false", "-lock-timeout=0s")
        out, err = first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert second.returncode == 1
    assert LOCK_ERROR in second.stderr, second.stderr
    assert "ConditionalCheckFailedException" in second.stderr
    assert first.returncode == 0, out + err


def test_force_unlock_releases_a_lock_left_by_a_killed_run(locked_stack):
    stack_dir, env, aws, backend = locked_stack
    killed = start_plan(stack_dir, env)
    wait_for_lock(aws, backend, killed)
    os.killpg(killed.pid, signal.SIGKILL)  # like a CI runner that died mid-plan
    killed.communicate()

    blocked = terraform(stack_dir, env, "plan", "-input=false", "-lock-timeout=0s")
    assert blocked.returncode == 1
    assert LOCK_ERROR in blocked.stderr
    lock_id = re.search(r"ID:\s+([0-9a-f-]{36})", blocked.stderr)
    assert lock_id, blocked.stderr

    unlock = terraform(stack_dir, env, "force-unlock", "-force", lock_id.group(1))
    assert unlock.returncode == 0, unlock.stdout + unlock.stderr
    assert "successfully unlocked" in unlock.stdout

    after = terraform(stack_dir, env, "plan", "-input=false", "-lock-timeout=0s")
    assert after.returncode == 0, after.stdout + after.stderr
