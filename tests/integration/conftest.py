"""A copy of the session synth with one provider install shared by all stacks, a
scratch repository whose RDS constructs were renamed (the address guard's planted case,
also planned on the session's one moto deployment), and that deployment.

The deployment is the session's longest step and mostly waits on provider waits, so it
runs in the background from the session's first integration test on, and its tests run
last: every other test runs while it deploys.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from local_deploy.deploy_local import REPO
from local_deploy.pr_flow import synthesize_every_stack_change
from local_deploy.terraform_cli import cli_config_env
from stacks.registry import STACK_NAMES
from tests.integration.scratch_repo import (
    copy_repo,
    declare_address_changes,
    replace_in,
    run_in,
    snapshot,
)

RENAMES = (
    # The RDS instance's construct: every resource under it gets a new address,
    # the protected aws_db_instance among them.
    ('RdsInstance(self, "mysql"', 'RdsInstance(self, "database"'),
    # An unprotected one: the security group and its ingress rule.
    ('SecurityGroup(self, "security-group"', 'SecurityGroup(self, "mysql-security-group"'),
)
SUGGESTED_MOVE = re.compile(r"^\s+(Move\(from_=\"[^\"]+\", to=\"[^\"]+\"\),)$", re.MULTILINE)


@dataclass(frozen=True)
class RenamedSynth:
    refused: subprocess.CompletedProcess
    """`main.py --publish` after the renames."""
    untouched: bool
    """The guarded files were byte-identical after the refusal."""
    moves: list[str]
    """The Move lines the refusal suggested (and that were then declared)."""
    accepted: subprocess.CompletedProcess
    """`main.py --publish` with the moves declared."""
    out: Path
    """The published cdktf.out/ of the renamed code."""


DEPLOY_TIMEOUT = 45 * 60
DEPLOYMENT_FIXTURE = "deploy_summary"
"""The fixture of the tests that read the deployment (tests/integration/test_deploy_local.py)."""


@dataclass(frozen=True)
class Deployment:
    """`python -m local_deploy.deploy_local` run on the session synth."""

    returncode: int
    stdout: str
    stderr: str
    summary: Path
    """Its --summary-json."""


@pytest.fixture(scope="session")
def background():
    """Threads for the session's long steps; a deploy still running at the end of the
    session (a failure, an interrupt) is stopped with its terraform and moto children."""
    processes: list[subprocess.Popen] = []
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="session-background")
    yield pool, processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    pool.shutdown(wait=False, cancel_futures=True)


def _renamed_synth(copy: Path) -> RenamedSynth:
    rds = copy / "stacks" / "rds.py"
    for old, new in RENAMES:
        replace_in(rds, old, new)
    before = snapshot(copy)
    refused = run_in(copy, "main.py", "--publish")
    untouched = snapshot(copy) == before
    # Every environment's ledger suggests the same lines (one stack class builds them all).
    moves = list(dict.fromkeys(SUGGESTED_MOVE.findall(refused.stderr)))
    declare_address_changes(rds, "RdsStack", moves)
    accepted = run_in(copy, "main.py", "--publish")
    return RenamedSynth(refused, untouched, moves, accepted, copy / "cdktf.out")


@pytest.fixture(scope="session")
def renamed_job(background, tmp_path_factory) -> Future[RenamedSynth]:
    pool, _ = background
    return pool.submit(_renamed_synth, copy_repo(tmp_path_factory.mktemp("renamed") / "repo"))


@pytest.fixture(scope="session")
def renamed_synth(renamed_job) -> RenamedSynth:
    return renamed_job.result()


def _deploy(root: Path, synth_dir: Path, renamed: Future[RenamedSynth],
            processes: list[subprocess.Popen]) -> Deployment:
    """The PR change's synth, then the deploy of the session synth with the renamed
    output as its variant (the renamed synth runs at the same time, in the other thread)."""
    pr_change = synthesize_every_stack_change(root / "pr-change")
    variant = renamed.result()
    if variant.accepted.returncode != 0:
        return Deployment(1, "", "the renamed synth failed:\n" + variant.accepted.stderr,
                          root / "summary.json")
    process = subprocess.Popen(
        [sys.executable, "-m", "local_deploy.deploy_local",
         "--outdir-from", str(synth_dir / "out"),
         "--workdir", str(root / "scratch"), "--summary-json", str(root / "summary.json"),
         "--atlantis-yaml", str(synth_dir / "generated" / "atlantis.yaml"),
         "--pr-change", str(pr_change), "--variant", str(variant.out)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)  # its own process group: stopped whole at teardown
    processes.append(process)
    stdout, stderr = process.communicate(timeout=DEPLOY_TIMEOUT)
    return Deployment(process.returncode, stdout, stderr, root / "summary.json")


@pytest.fixture(scope="session")
def deployment(background, synth_dir, renamed_job, tmp_path_factory) -> Future[Deployment]:
    """The session's one moto deployment, started in the background."""
    pool, processes = background
    root = tmp_path_factory.mktemp("deploy-local")
    return pool.submit(_deploy, root, synth_dir, renamed_job, processes)


def pytest_collection_modifyitems(items):
    """The tests of the session's moto deployment last, in their order (a session-wide
    hook: it orders every collected test, not only this directory's)."""
    items.sort(key=lambda item: DEPLOYMENT_FIXTURE in item.fixturenames)


@pytest.fixture(scope="session", autouse=True)
def _deploy_early(request):
    """Starts the deployment at the first integration test when the session holds tests
    that read it (not under `-m "not slow"`)."""
    if any(DEPLOYMENT_FIXTURE in item.fixturenames for item in request.session.items):
        request.getfixturevalue("deployment")


@pytest.fixture(scope="session")
def terraform_workspace(synth_root, tmp_path_factory):
    """(root, env): <root>/<environment>/stacks/<stack> copies of the synth output, and
    the environment that makes terraform use the local provider mirror and one shared
    data dir (TF_DATA_DIR), so every stack pays for one `terraform init`."""
    root = tmp_path_factory.mktemp("terraform")
    shutil.copytree(synth_root, root / "out", ignore=shutil.ignore_patterns("manifest.json"))
    stack_dirs = sorted((root / "out").glob("*/stacks/*"))
    env = {**os.environ, **cli_config_env(root / "cli"), "TF_DATA_DIR": str(root / "data")}
    first = root / "out" / "prod" / "stacks" / STACK_NAMES[0]
    init = subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
        cwd=first, env=env, capture_output=True, text=True, timeout=300,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    lock = first / ".terraform.lock.hcl"
    for stack_dir in stack_dirs:
        if stack_dir != first:
            shutil.copy(lock, stack_dir / ".terraform.lock.hcl")
    return root / "out", env
