"""Deploy the synthesized environments to moto with the real Terraform and provider, the
way they reach AWS: each environment in an account of its own, all at once on one moto
server; bootstrap applied by hand, every other apply a pull request played through
Atlantis' flow with that environment's plan and apply roles (local_deploy/pr_runs.py),
then the protection check and the destroy. moto enforces IAM throughout, so the PRs
prove the roles suffice, and local_deploy/least_privilege.py that they refuse what
they must.

Run: `make pr-flow` (or `make deploy-local`, `python -m local_deploy.deploy_local --help`).
Works on a scratch copy of cdktf.out/; the moto server lives only as long as the run.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

import fast_synth
from local_deploy import account_controls, drift_run
from local_deploy.least_privilege import MOTO_UNENFORCED, Refusal, apply_role_guard_rails
from local_deploy.local_aws import (
    MOTO_PATCHES,
    MOTO_RUNTIME_CONFIG,
    LocalAws,
    assumed_roles,
)
from local_deploy.local_overrides import (
    BACKEND_OVERRIDE,
    PROVIDER_OVERRIDE,
    QUIRKS_OVERRIDE,
    TEARDOWN_OVERRIDE,
    AppliedQuirk,
    Exclusion,
    load_stack,
    local_backend_override,
    provider_override,
    quirks_for,
    quirks_override,
    remove_excluded,
    s3_backend_override,
    teardown_override,
    write_json,
)
from local_deploy.pr_flow import (
    PLUGIN_CACHE_INIT,
    ProjectResult,
    PullRequestRun,
    synthesize_every_stack_change,
)
from local_deploy.pr_runs import (
    ContainerCredentials,
    PullRequestRecord,
    atlantis_task_environment,
    failures,
    new_pull_request,
    record,
    resolve_ssm_references,
    task_env,
)
from local_deploy.process_memory import child_pids, tree_rss
from local_deploy.terraform_cli import cli_config_env

# Before the first stack module is imported (the registry imports them all):
# lazy AWS bindings, so naming the stacks does not cost the bindings' eager import.
fast_synth.enable()

from environments import environment_names, load_environment  # noqa: E402
from environments.settings import Settings  # noqa: E402
from stacks.atlantis_repo_config import profile_name  # noqa: E402
from stacks.registry import STACK_NAMES  # noqa: E402
from synth.layout import (  # noqa: E402
    MANIFEST,
    cli_manifest,
    cli_stack_name,
    environment_dirs,
    project_dir,
)

REPO = Path(__file__).resolve().parent.parent
BOOTSTRAP = STACK_NAMES[0]
PROTECTED_MESSAGE = "Instance cannot be destroyed"
COMMAND_TIMEOUT = 1200
"""Seconds one terraform command may take before the run fails (nothing local is that slow)."""


FLAGS = dict.fromkeys(("init", "plan", "apply", "destroy"), ("-no-color", "-input=false")) | {"show": ("-no-color",)}


class StepFailed(Exception):
    def __init__(self, stack: str, step: str, output: str):
        super().__init__(f"{stack}: {step} failed")
        self.stack, self.step, self.output = stack, step, output


@dataclass
class StackResult:
    name: str
    environment: str
    resources: int | None = None
    apply_seconds: float | None = None
    replan: str = "not run"
    destroyed: bool = False
    planned_as: str | None = None
    """The caller its state's aws_caller_identity holds: read when the applied plan was
    made, so the role the plan workflow's profile assumed."""


@dataclass
class VariantPlan:
    """A stack of a second synth planned against the state the first one applied."""

    stack: str
    moved: list[list[str]]
    """[from, to] for every "has moved to" line of the plan."""
    add: int
    change: int
    destroy: int


@dataclass
class CrossAccountPlan:
    """A stack of one environment planned with an administrator's credentials of another
    environment's account: Terraform must refuse it (allowed_account_ids)."""

    stack: str
    """`<environment>-<stack>` of the planned stack."""
    credentials_of: str
    """The environment whose account's credentials were used."""
    refused: bool
    message: str


@dataclass
class Report:
    stacks: list[StackResult]
    accounts: dict[str, str] = field(default_factory=dict)
    """Environment -> the moto account its stacks were applied to."""
    exclusions: list[Exclusion] = field(default_factory=list)
    quirks: list[AppliedQuirk] = field(default_factory=list)
    variant_plans: list[VariantPlan] = field(default_factory=list)
    pull_requests: list[PullRequestRecord] = field(default_factory=list)
    """Every Atlantis command the PRs ran, with one result per project."""
    monitoring_only: list[str] = field(default_factory=list)
    """The projects planned for the PR that touches only monitoring."""
    assumed_roles: dict[str, int] = field(default_factory=dict)
    """`<role>/<session>` -> STS AssumeRole calls on moto during the PRs."""
    least_privilege: list[Refusal] = field(default_factory=list)
    """Calls the plan and apply roles tried under moto's IAM enforcement, each refused."""
    cross_account: list[CrossAccountPlan] = field(default_factory=list)
    peak_apply_memory: dict[str, int] = field(default_factory=dict)
    """Apply wave (its projects joined by '+') -> the largest sum of VmRSS of its
    terraform processes and their provider plugins, in bytes."""
    account_controls: dict[str, dict] = field(default_factory=dict)
    """Environment -> the CIS controls read back from its account (account_controls.report)."""
    drift: drift_run.DriftProof | None = None
    """The drift check on the host environment's deployment: planted, found, repaired
    (drift_run.py)."""
    moto_settings: dict[str, str] = field(default_factory=dict)
    protection_check: str = "not run"
    failure: str | None = None
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def result(self, environment: str, name: str) -> StackResult:
        return next(s for s in self.stacks if s.environment == environment and s.name == name)

    def fail(self, problem: str) -> None:
        """Record a failure that does not stop the run (later checks still report)."""
        with self._lock:
            self.failure = f"{self.failure}\n{problem}" if self.failure else problem

    def to_json(self) -> dict:
        return {
            "stacks": [asdict(s) for s in self.stacks],
            "accounts": self.accounts,
            "exclusions": [asdict(e) for e in self.exclusions],
            "quirks": [{"stack": q.stack, "address": q.address, "reason": q.quirk.reason}
                       for q in self.quirks],
            "moto_patches": list(MOTO_PATCHES),
            "moto_settings": self.moto_settings,
            "variant_plans": [asdict(v) for v in self.variant_plans],
            "peak_apply_memory": self.peak_apply_memory,
            "pull_requests": [asdict(r) for r in self.pull_requests],
            "monitoring_only": self.monitoring_only,
            "assumed_roles": self.assumed_roles,
            "least_privilege": [asdict(r) for r in self.least_privilege],
            "cross_account": [asdict(c) for c in self.cross_account],
            "moto_unenforced": [{"what": w, "reason": r} for w, r in MOTO_UNENFORCED],
            "account_controls": self.account_controls,
            "drift": self.drift.to_json() if self.drift else None,
            "protection_check": self.protection_check,
            "failure": self.failure,
            "seconds": round(self.seconds, 1),
        }


def say(message: str) -> None:
    print(message, flush=True)


class Terraform:
    """Runs terraform in a stack directory of one environment in the scratch copy,
    logging every command."""

    def __init__(self, root: Path, environment: str, env: dict[str, str]):
        self.root, self.environment, self.env = root, environment, env
        self.logs = root / "logs" / environment
        self.logs.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.lock = threading.Lock()

    def stack_dir(self, stack: str) -> Path:
        return self.root / "out" / self.environment / "stacks" / stack

    def run(self, stack: str, *args: str, allowed: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        command = ["terraform", *args, *FLAGS.get(args[0], ())]
        with self.lock:
            self.count += 1
            log = self.logs / f"{self.count:03d}-{stack}-{args[0]}.log"
        began = time.monotonic()
        # Every environment shares one plugin cache, which concurrent inits may corrupt
        # (PLUGIN_CACHE_INIT): the two bootstraps' first inits once left one stack dir
        # without its provider on a clean machine.
        with PLUGIN_CACHE_INIT if args[0] == "init" else contextlib.nullcontext():
            result = subprocess.run(command, cwd=self.stack_dir(stack), env=self.env,
                                    text=True, capture_output=True, timeout=COMMAND_TIMEOUT)
        log.write_text(f"$ {' '.join(command)}  # {time.monotonic() - began:.1f} s, "
                       f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        if result.returncode not in allowed:
            # Terraform writes its errors to stderr; the end of stdout shows where it stopped.
            raise StepFailed(cli_stack_name(self.environment, stack), " ".join(["terraform", *args]),
                             result.stderr.strip() + "\n" + _tail(result.stdout, 25))
        return result

    def managed_resources(self, stack: str) -> list[str]:
        lines = self.run(stack, "state", "list").stdout.splitlines()
        return [line for line in lines if line and not line.startswith("data.")]

    def state_json(self, stack: str) -> dict:
        return json.loads(self.run(stack, "state", "pull").stdout or "{}")


def _tail(text: str, lines: int = 120) -> str:
    kept = text.strip().splitlines()
    return "\n".join(kept if len(kept) <= lines else ["...", *kept[-lines:]])


@dataclass
class Site:
    """One environment on moto: its settings, stacks, account and terraform runner."""

    settings: Settings
    names: list[str]
    """Its stacks in deploy order."""
    stacks: dict[str, dict]
    """Stack -> its JSON as the scratch copy holds it."""
    tf: Terraform
    credentials: dict[str, str]
    """An administrator of its account."""
    depends_on: dict[str, set[str]] = field(default_factory=dict)
    """Stack -> the stacks of this environment it depends on (atlantis.yaml's
    `depends_on`: the SSM reads and bootstrap)."""

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def region(self) -> str:
        return self.settings.region

    @property
    def state_bucket(self) -> str:
        return self.settings.state.bucket

    def client(self, aws: LocalAws, service: str, region: str | None = None):
        return aws.client(service, region or self.region, self.credentials)

    def project(self, stack: str) -> str:
        return cli_stack_name(self.name, stack)


# --- the flow ------------------------------------------------------------------------
def prepare(source: Path, target: Path, environment: str, names: list[str],
            report: Report) -> dict[str, dict]:
    """Copy one environment's synth output, apply the exclusions and write the quirk
    overrides."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
        ".terraform", "terraform.tfstate*", "*_override.tf.json", ".terraform.lock.hcl"))
    stacks = {}
    for name in names:
        stack_dir = target / "stacks" / name
        stack = load_stack(stack_dir)
        label = cli_stack_name(environment, name)
        excluded = remove_excluded(label, stack)
        if excluded:
            write_json(stack_dir / "cdk.tf.json", stack)
            report.exclusions += excluded
        applied = quirks_for(label, stack)
        if applied:
            override = quirks_override(stack, applied)
            if override:
                write_json(stack_dir / QUIRKS_OVERRIDE, override)
            report.quirks += applied
        stacks[name] = stack
    return stacks


def terraform_env(root: Path, credentials: dict[str, str]) -> dict[str, str]:
    """Terraform's environment for the steps run by hand, with these AWS keys."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("TF_DATA_DIR", "TF_WORKSPACE")}
    env.update(cli_config_env(root / "cli", plugin_cache=True))
    env.update(credentials)
    # No shared config/profiles of the machine leak into the run.
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")
    return env


def deploy(source: Path, root: Path, plan: dict[str, list[str]], *, atlantis_yaml: Path,
           pr_change: Path, variant: Path | None = None) -> Report:
    """Deploy each environment of `plan` (environment -> its stacks) from the output root
    `source` (`<source>/<env>/stacks/...`), all at once, each in its own account."""
    started = time.monotonic()
    settings = {name: load_environment(name) for name in plan}
    report = Report(stacks=[StackResult(name, env) for env, names in plan.items()
                            for name in names],
                    accounts={env: s.account_id for env, s in settings.items()})
    try:
        stacks = {env: prepare(source / env, root / "out" / env, env, names, report)
                  for env, names in plan.items()}
        # The CLI's manifest of `<env>-<stack>` names, as cdktf.out/manifest.json.
        (root / "out" / MANIFEST).write_text(cli_manifest(root / "out", tuple(plan)))
        for item in report.exclusions:
            say(f"exclude  {item.stack}: {item.address} ({item.reason})")
        accounts = tuple(s.account_id for s in settings.values())
        with LocalAws(root / "moto.log", accounts=accounts) as aws:
            report.moto_settings = aws.settings
            say(f"moto     {aws.url} (log: {root / 'moto.log'}); accounts: " + ", ".join(
                f"{env} {s.account_id}" for env, s in settings.items()))
            sites = {}
            for env, names in plan.items():
                credentials = aws.account_credentials[settings[env].account_id]
                sites[env] = Site(settings[env], names, stacks[env],
                                  Terraform(root, env, terraform_env(root, credentials)),
                                  credentials, _depends_on(atlantis_yaml, env))
                for name in names:
                    write_json(sites[env].tf.stack_dir(name) / PROVIDER_OVERRIDE,
                               provider_override(stacks[env][name], aws.url))
            host = next((s for s in sites.values() if s.settings.atlantis is not None), None)
            try:
                _each(sites.values(), lambda site: _apply_bootstrap(site, aws, report))
                if host is None:
                    raise StepFailed("atlantis", "choosing the Atlantis server", (
                        "none of the environments deployed runs an Atlantis server "
                        f"({', '.join(plan)}); deploy the one that plans them too"))
                _pull_requests(aws, host, sites, source, pr_change, atlantis_yaml, report)
                report.cross_account = _cross_account_plans(root, sites, aws)
                for site in sites.values():
                    report.account_controls[site.name] = _read_back_controls(aws, site)

                def finish(site: Site) -> None:
                    # The checks on the host's deployment; the other environments are
                    # destroyed meanwhile (their own accounts: nothing shared).
                    if site is host:
                        _check_drift(host, aws, report)
                        if variant is not None:
                            _plan_variant(host, source, variant, report)
                        _check_protection(host, report)
                    _destroy_all(site, aws, report)

                _each(sites.values(), finish)
            except StepFailed as failure:
                report.fail(f"{failure.stack}: {failure.step} failed (logs: {root / 'logs'})\n"
                            f"{failure.output}")
    except KeyboardInterrupt:
        report.failure = "interrupted"
    report.seconds = time.monotonic() - started
    return report


def _each(sites, action: Callable[[Site], None]) -> None:
    """`action` for every environment at once (each in its own account, so nothing they
    touch is shared); the first failure is raised once all have ended."""
    sites = list(sites)
    if len(sites) == 1:
        action(sites[0])
        return
    with ThreadPoolExecutor(max_workers=len(sites)) as pool:
        futures = [pool.submit(action, site) for site in sites]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]


def _depends_on(atlantis_yaml: Path, environment: str) -> dict[str, set[str]]:
    """Stack -> the stacks of `environment` it depends on, from atlantis.yaml's projects
    (`dir` `<root>/<env>/stacks/<stack>`; a `depends_on` on another environment's twin,
    the promotion order, is left out)."""
    projects = yaml.safe_load(atlantis_yaml.read_text())["projects"]
    where = {p["name"]: (Path(p["dir"]).parts[-3], Path(p["dir"]).name) for p in projects}
    return {where[p["name"]][1]: {where[d][1] for d in p.get("depends_on") or ()
                                  if where[d][0] == environment}
            for p in projects if where[p["name"]][0] == environment}


def _run_graph(names: list[str], after: dict[str, set[str]],
               action: Callable[[str], None]) -> None:
    """`action` for each of `names`, each as soon as every name in `after[name]` has
    ended, as many at once as the graph allows. After a failure nothing new starts; the
    first failure is raised once the running ones have ended."""
    waiting = {name: set(after.get(name, ())) & set(names) for name in names}
    running: dict = {}
    failure = None
    with ThreadPoolExecutor(max_workers=len(names) or 1) as pool:
        while waiting or running:
            if failure is None:
                for name in [n for n, needs in waiting.items() if not needs]:
                    running[pool.submit(action, name)] = name
                    del waiting[name]
            if not running:
                break  # a failure stopped the rest, or a cycle (the graph has none)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                if future.exception() is not None:
                    failure = failure or future.exception()
                for needs in waiting.values():
                    needs.discard(name)
    if failure is not None:
        raise failure
    if waiting:
        raise StepFailed(", ".join(waiting), "ordering", "a cycle in depends_on")


class TerraformMemory:
    """Samples, while open, the summed VmRSS of this process's terraform children
    and their provider plugins (what an Atlantis task must hold for a group)."""

    INTERVAL = 0.1

    def __init__(self) -> None:
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TerraformMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.is_set():
            total = 0
            for pid in child_pids(os.getpid()):
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
                except OSError:
                    continue
                if Path(command.decode(errors="replace")).name == "terraform":
                    total += tree_rss(pid)
            self.peak = max(self.peak, total)
            self._done.wait(self.INTERVAL)


def _apply_bootstrap(site: Site, aws: LocalAws, report: Report) -> None:
    """The first apply of the state stack, by hand with an admin's credentials (the
    README's bootstrap runbook): a local state first, then moved into its own bucket."""
    tf = site.tf
    stack_dir = tf.stack_dir(BOOTSTRAP)
    write_json(stack_dir / BACKEND_OVERRIDE, local_backend_override())
    tf.run(BOOTSTRAP, "init")
    began = time.monotonic()
    tf.run(BOOTSTRAP, "apply", "-auto-approve")
    result = report.result(site.name, BOOTSTRAP)
    result.apply_seconds = time.monotonic() - began
    for name in site.names:
        write_json(tf.stack_dir(name) / BACKEND_OVERRIDE,
                   s3_backend_override(site.stacks[name], aws.url))
    tf.run(BOOTSTRAP, "init", "-migrate-state", "-force-copy")
    (stack_dir / "terraform.tfstate").unlink(missing_ok=True)
    (stack_dir / "terraform.tfstate.backup").unlink(missing_ok=True)
    result.resources = len(tf.managed_resources(BOOTSTRAP))
    say(f"apply    {site.project(BOOTSTRAP)}: {result.resources} resources in "
        f"{result.apply_seconds:.1f} s by hand (first apply), state migrated to S3 on moto")


def _pull_requests(aws: LocalAws, host: Site, sites: dict[str, Site], source: Path,
                   pr_change: Path, atlantis_yaml: Path, report: Report) -> None:
    """Every other apply, the re-plans and the one-stack PR, through Atlantis' flow
    (local_deploy/pr_runs.py) with the credentials its workflows select. The server is
    the host environment's (it plans every environment); each environment's first PR
    runs at once with the others'."""
    host_source = source / host.name
    flags = atlantis_task_environment(host_source)
    ssm = host.client(aws, "ssm")
    server_cfg = json.loads(resolve_ssm_references(
        flags["ATLANTIS_REPO_CONFIG_JSON"], host_source,
        lambda name: ssm.get_parameter(Name=name)["Parameter"]["Value"]))
    repo_id = flags["ATLANTIS_REPO_ALLOWLIST"]
    # The roles the server's workflows assume (their AWS profiles), nothing else.
    profiles = dict(PROFILE_ROLE.findall(json.dumps(server_cfg)))
    wanted = [profile_name(env, kind) for env in sites for kind in ("plan", "apply")]
    missing = [p for p in wanted if p not in profiles]
    if missing:
        raise StepFailed(host.project("atlantis"), "reading the server config", (
            f"ATLANTIS_REPO_CONFIG_JSON of the synthesized atlantis task names no role_arn "
            f"for the AWS profile(s) {', '.join(missing)}; the workflows' profiles come from "
            "stacks/atlantis_repo_config.py aws_profiles()"))
    with ContainerCredentials(aws, host.region, tuple(sorted(set(profiles.values()))),
                              host.credentials) as endpoint:
        env = task_env(host.tf.env, host.tf.root / "atlantis-home", endpoint.url)

        def pull_request(label: str):
            return new_pull_request(atlantis_yaml, server_cfg, repo_id, host.tf.root / "out",
                                    env, host.tf.root / "logs" / "pull-requests" / label)

        def first_and_replan(site: Site) -> None:
            _first_deployment(site, pull_request(f"{site.name}-pr-1-first-deployment"), report)
            if site is host:
                _every_stack_changes(aws, site, pr_change, pull_request, profiles, report)
            else:
                _replan(site, pull_request(f"{site.name}-pr-2-replan"), report)

        _each(sites.values(), first_and_replan)
        only = pull_request(f"{host.name}-pr-3-monitoring")
        touched = [f"{project_dir(host.name, name)}/cdk.tf.json" for name in ("monitoring",)
                   if name in host.names]
        results = record(report.pull_requests, "monitoring only", "autoplan",
                         only.autoplan(touched))
        report.monitoring_only = [r.project for r in results]
        say(f"pr 3     planned {', '.join(report.monitoring_only) or 'nothing'}")
    report.assumed_roles = assumed_roles(aws.assumed_roles_log)


def _first_deployment(site: Site, first: PullRequestRun, report: Report) -> None:
    """The environment's first PR: one execution order group at a time, `atlantis plan
    -p`, then `atlantis apply -p`, as operators take a PR whose stacks do not exist yet."""
    tf = site.tf
    pr = f"first deployment of {site.name}"
    groups: dict[int, list[str]] = {}
    for name in site.names:
        groups.setdefault(first.projects[site.project(name)].group, []).append(name)
    for number, group in enumerate(groups.values(), 1):
        projects = [site.project(name) for name in group]
        with TerraformMemory() as memory:
            planned = record(report.pull_requests, pr,
                             f"atlantis plan -p {' -p '.join(projects)}", first.plan(projects))
            applied = record(report.pull_requests, pr,
                             f"atlantis apply -p {' -p '.join(projects)}", first.apply(projects))
        report.peak_apply_memory["+".join(projects)] = memory.peak
        _stop_on(failures(planned + applied), projects[0], pr)
        seconds = {r.project: r.seconds for r in applied}
        for name in group:
            result = report.result(site.name, name)
            if site.project(name) in seconds:
                result.apply_seconds = seconds[site.project(name)]
            result.resources = len(tf.managed_resources(name))
            result.planned_as = _caller(tf, name)
            say(f"pr 1     [{site.name} {number}/{len(groups)}] {name}: "
                f"{first.status[site.project(name)]}, {result.resources} resources")


def _replan(site: Site, run: PullRequestRun, report: Report) -> None:
    """A PR whose every project of the environment plans again: no changes expected."""
    changed = [f"{project_dir(site.name, name)}/cdk.tf.json" for name in site.names]
    again = record(report.pull_requests, f"re-plan of {site.name}", "autoplan",
                   run.autoplan(changed))
    _record_replan(site, again, report)


def _record_replan(site: Site, results: list[ProjectResult], report: Report) -> None:
    for result in results:
        stack = result.project.removeprefix(f"{site.name}-")
        report.result(site.name, stack).replan = (
            "no changes" if result.status == "no changes" else "CHANGES")
    say(f"re-plan  {site.name}: {sum(r.status == 'no changes' for r in results)}/"
        f"{len(results)} no changes")
    if len(results) != len(site.names) or any(r.status != "no changes" for r in results):
        report.fail(f"the re-plan of {site.name} found changes:\n" + "\n".join(
            f"{r.project}: {r.status}: {r.summary}" for r in results))


def _every_stack_changes(aws: LocalAws, site: Site, pr_change: Path, pull_request,
                         profiles: dict[str, str], report: Report) -> None:
    """A PR that changes every stack of the environment: autoplanned, one `atlantis
    apply` (after the plan role was refused applying), the apply role's guard rails
    tried, then its second run plans no changes."""
    changed = _check_out(site, pr_change / site.name)
    every = pull_request(f"{site.name}-pr-2-every-stack")
    pr = "every stack changes"
    planned = record(report.pull_requests, pr, "autoplan", every.autoplan(changed))
    _stop_on(failures(planned) + [f"{r.project}: {r.status}" for r in planned
                                  if r.status != "planned"], "every", "autoplan")
    report.least_privilege.append(_apply_with_plan_role(every, site, profiles))
    applied = record(report.pull_requests, pr, "atlantis apply", every.apply())
    _stop_on(failures(applied), "every", "atlantis apply")
    say(f"pr 2     [{site.name}] planned {len(planned)}, applied {len(applied)} in one "
        "atlantis apply")
    report.least_privilege += apply_role_guard_rails(
        aws, site.region, profiles[profile_name(site.name, "apply")],
        profiles[profile_name(site.name, "plan")], site.state_bucket, site.credentials)
    for refusal in report.least_privilege:
        say(f"refused  {refusal.role}: {refusal.call} on {refusal.target}: {refusal.outcome}")
    if not all(r.refused for r in report.least_privilege):
        report.fail("a call the roles must not make was not refused:\n" + "\n".join(
            f"{r.role}: {r.call} on {r.target}: {r.outcome}"
            for r in report.least_privilege if not r.refused))
    again = record(report.pull_requests, pr, "autoplan (second push)", every.autoplan(changed))
    _record_replan(site, again, report)


def _cross_account_plans(root: Path, sites: dict[str, Site], aws: LocalAws) -> list[CrossAccountPlan]:
    """Each environment's kms stack, copied with an empty local state, planned with the
    administrator's keys of every other environment's account: the provider's
    allowed_account_ids must refuse it before any call."""
    results = []
    for site in sites.values():
        stack = "kms" if "kms" in site.names else site.names[-1]
        for other in sites.values():
            if other is site:
                continue
            work = Terraform(root / "cross-account", site.name, terraform_env(
                root, other.credentials))
            target = work.stack_dir(f"{stack}-with-{other.name}-keys")
            shutil.copytree(site.tf.stack_dir(stack), target, symlinks=True,
                            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*",
                                                          BACKEND_OVERRIDE))
            write_json(target / BACKEND_OVERRIDE, local_backend_override())
            work.run(target.name, "init")
            plan = work.run(target.name, "plan", "-lock=false", allowed=(0, 1, 2))
            denied = ACCOUNT_NOT_ALLOWED.search(plan.stderr)
            results.append(CrossAccountPlan(
                stack=site.project(stack), credentials_of=other.name,
                refused=plan.returncode == 1 and denied is not None,
                message=denied.group(0) if denied else _tail(plan.stderr, 5)))
            say(f"account  {site.project(stack)} with {other.name}'s keys: "
                f"{'refused' if results[-1].refused else 'NOT refused'} "
                f"({results[-1].message})")
    return results


def _read_back_controls(aws: LocalAws, site: Site) -> dict:
    """The CIS controls as an auditor's SecurityAudit user reads them from the
    account the environment was applied to (local_deploy/account_controls.py)."""
    auditor = account_controls.auditor_credentials(site.client(aws, "iam"))
    facts = account_controls.read_back(
        lambda service, where=site.region: aws.client(service, where, auditor))
    controls = account_controls.judge(facts, site.state_bucket)
    for control in controls:
        say(f"control  [{site.name}] {'met ' if control.met else 'FAIL'} {control.control}: "
            f"{control.evidence}")
    return account_controls.report(facts, controls)


def _check_drift(site: Site, aws: LocalAws, report: Report) -> None:
    """Drift planted out of band in the environment, found by `python -m drift`, repaired,
    found no more (local_deploy/drift_run.py)."""
    report.drift = drift_run.prove(site, aws)
    for line in drift_run.summary_lines(report.drift):
        say(f"drift    {line}")
    for problem in drift_run.problems(report.drift):
        report.fail(problem)


def _apply_with_plan_role(run: PullRequestRun, site: Site, profiles: dict[str, str]) -> Refusal:
    """The apply stage of one planned project with the plan role's profile: it must end
    in AccessDenied before anything changes (the pull status stays 'planned', so the
    real apply follows with the same plan file)."""
    name = "monitoring" if "monitoring" in site.names else site.names[-1]
    plan_profile = profile_name(site.name, "plan")
    role = profiles[plan_profile].rsplit("/", 1)[-1]
    result = run.apply_with_profile(site.project(name), plan_profile)
    log = Path(result.log).read_text() if result.log else ""
    denied = NOT_AUTHORIZED.search(log)
    if result.status != "error":
        return Refusal(role, "terraform apply", name, f"applied: {result.summary}")
    if denied is None:
        return Refusal(role, "terraform apply", name, f"failed otherwise: {result.summary}")
    return Refusal(role, f"terraform apply ({denied.group(1)})", name, "AccessDenied")


def _caller(tf: Terraform, name: str) -> str | None:
    for resource in tf.state_json(name).get("resources", []):
        if resource["mode"] == "data" and resource["type"] == "aws_caller_identity":
            return resource["instances"][0]["attributes"]["arn"]
    return None


def _stop_on(problems: list[str], stack: str, step: str) -> None:
    if problems:
        raise StepFailed(stack, step, "\n".join(problems))


def _check_out(site: Site, outdir: Path) -> list[str]:
    """Put the PR's synth of the environment into its stack directories (as a checkout of
    its branch would) and return the files it changed, relative to the repository root."""
    changed = []
    for name in site.names:
        stack = load_stack(outdir / "stacks" / name)
        label = site.project(name)
        remove_excluded(label, stack)
        target = site.tf.stack_dir(name) / "cdk.tf.json"
        if json.loads(target.read_text()) == stack:
            continue
        write_json(target, stack)
        override = quirks_override(stack, quirks_for(label, stack))
        if override:
            write_json(site.tf.stack_dir(name) / QUIRKS_OVERRIDE, override)
        site.stacks[name] = stack
        changed.append(f"{project_dir(site.name, name)}/cdk.tf.json")
    return changed


PROFILE_ROLE = re.compile(r"\[profile ([\w-]+)\][^\[]*?role_arn = (arn:[^\\\s\"']+)")
NOT_AUTHORIZED = re.compile(r"is not authorized to perform: ([\w:-]+)")
ACCOUNT_NOT_ALLOWED = re.compile(r"AWS account ID not allowed: \d{12}")
MOVED_LINE = re.compile(r"^\s*# (\S+) has moved to (\S+)$", re.MULTILINE)
PLAN_COUNTS = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")


def _plan_variant(site: Site, source: Path, variant: Path, report: Report) -> None:
    """Plan each stack of the environment whose synth differs in `variant` (an output
    root) against the applied state, in a copy of its initialized directory (the state
    is read, never written)."""
    copies = Terraform(site.tf.root / "variant", site.name, site.tf.env)
    for name in site.names:
        relative = Path(site.name) / "stacks" / name / "cdk.tf.json"
        if (variant / relative).read_bytes() == (source / relative).read_bytes():
            continue
        work = copies.stack_dir(name)
        shutil.copytree(site.tf.stack_dir(name), work, symlinks=True,
                        ignore=shutil.ignore_patterns(QUIRKS_OVERRIDE))
        stack = load_stack(variant / site.name / "stacks" / name)
        remove_excluded(site.project(name), stack)
        write_json(work / "cdk.tf.json", stack)
        override = quirks_override(stack, quirks_for(site.project(name), stack))
        if override:
            write_json(work / QUIRKS_OVERRIDE, override)
        plan = copies.run(name, "plan", "-lock=false", "-detailed-exitcode", allowed=(0, 2))
        counts = PLAN_COUNTS.search(plan.stdout)
        add, change, destroy = map(int, counts.groups()) if counts else (0, 0, 0)
        result = VariantPlan(stack=site.project(name),
                             moved=[list(m) for m in MOVED_LINE.findall(plan.stdout)],
                             add=add, change=change, destroy=destroy)
        report.variant_plans.append(result)
        say(f"variant  {result.stack}: {len(result.moved)} moved, {add} to add, "
            f"{change} to change, {destroy} to destroy")


def _check_protection(site: Site, report: Report) -> None:
    """Without the teardown override, Terraform must refuse to destroy the state stack."""
    plan = site.tf.run(BOOTSTRAP, "plan", "-destroy", allowed=(0, 1, 2))
    if plan.returncode == 1 and PROTECTED_MESSAGE in plan.stderr:
        report.protection_check = f"refused as expected ({PROTECTED_MESSAGE!r})"
        say(f"protect  {site.project(BOOTSTRAP)}: plan -destroy refused: {PROTECTED_MESSAGE}")
        return
    report.protection_check = "NOT refused"
    raise StepFailed(site.project(BOOTSTRAP),
                     f"terraform plan -destroy (expected {PROTECTED_MESSAGE!r})",
                     _tail(plan.stderr + "\n" + plan.stdout))


def _destroy_all(site: Site, aws: LocalAws, report: Report) -> None:
    forget = {q.address for q in report.quirks if q.quirk.forget_before_destroy}
    done = itertools.count(1)
    tf = site.tf

    def destroy(name: str) -> None:
        stack_dir = tf.stack_dir(name)
        if name == BOOTSTRAP:
            # Its bucket holds its own state: bring the state home before deleting the bucket.
            write_json(stack_dir / BACKEND_OVERRIDE, local_backend_override())
            tf.run(name, "init", "-migrate-state", "-force-copy")
        override, needs_apply = teardown_override(site.stacks[name])
        if override["resource"]:
            write_json(stack_dir / TEARDOWN_OVERRIDE, override)
        if needs_apply:
            tf.run(name, "apply", "-auto-approve")
        managed = tf.managed_resources(name)
        for address in sorted(forget & set(managed)):
            tf.run(name, "state", "rm", address)
        emptied = _empty_buckets(site.client(aws, "s3"), tf.state_json(name))
        tf.run(name, "destroy", "-auto-approve")
        result = report.result(site.name, name)
        result.destroyed = not tf.managed_resources(name)
        note = f" (emptied {', '.join(emptied)})" if emptied else ""
        say(f"destroy  [{site.name} {next(done)}/{len(site.names)}] {name}: "
            f"{'destroyed' if result.destroyed else 'RESOURCES LEFT'}{note}")
        if not result.destroyed:
            raise StepFailed(site.project(name), "terraform destroy", "resources left in the state")

    # A stack goes once every stack that reads from it is gone (the reverse of the
    # SSM graph atlantis.yaml declares; bootstrap, on which all depend, last).
    consumers = {name: {other for other, needs in site.depends_on.items() if name in needs}
                 for name in site.names}
    _run_graph(site.names, consumers, destroy)


def _empty_buckets(s3, state: dict) -> list[str]:
    """Delete every object version and delete marker of the stack's buckets (AWS refuses
    to delete a non-empty bucket and our buckets never set force_destroy)."""
    buckets = [instance["attributes"]["bucket"] for r in state.get("resources", [])
               if r["mode"] == "managed" and r["type"] == "aws_s3_bucket"
               for instance in r["instances"]]
    emptied = []
    for bucket in buckets:
        deleted = 0
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                       for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if objects:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
                deleted += len(objects)
        if deleted:
            emptied.append(f"{bucket}: {deleted} versions")
    return emptied

# --- reporting -----------------------------------------------------------------------
def summary(report: Report) -> str:
    rows = [("environment", "stack", "resources", "apply s", "re-plan", "destroyed")]
    for s in report.stacks:
        rows.append((s.environment, s.name, "-" if s.resources is None else str(s.resources),
                     "-" if s.apply_seconds is None else f"{s.apply_seconds:.1f}",
                     s.replan, "yes" if s.destroyed else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["", "Summary"]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    applied = sum(s.resources is not None for s in report.stacks)
    clean = sum(s.replan == "no changes" for s in report.stacks)
    destroyed = sum(s.destroyed for s in report.stacks)
    total = len(report.stacks)
    lines += [f"applied {applied}/{total}, re-planned clean {clean}/{total}, "
              f"destroyed {destroyed}/{total} in {report.seconds:.0f} s "
              f"({', '.join(f'{env} in account {a}' for env, a in report.accounts.items())})",
              f"bootstrap protection: {report.protection_check}"]
    if report.peak_apply_memory:
        wave, peak = max(report.peak_apply_memory.items(), key=lambda item: item[1])
        lines.append(f"peak memory of an apply wave: {peak / 2**20:,.0f} MiB ({wave}: terraform "
                     "and its provider plugins)")
    if report.assumed_roles:
        lines.append("STS AssumeRole on moto during the PRs: " + ", ".join(
            f"{role} x{count}" for role, count in report.assumed_roles.items()))
    if report.pull_requests:
        lines.append("Pull requests through Atlantis' flow (one line per project, as the PR "
                     "comment says it):")
    for entry in report.pull_requests:
        lines.append(f"  [{entry.pr}] {entry.command}")
        lines += [f"    {r['project']}: {r['status']}: {r['summary']}" for r in entry.results]
    if report.least_privilege:
        lines.append("Least privilege under moto's IAM enforcement (refused, as they must be):")
        lines += [f"  - {r.role}: {r.call} on {r.target}: {r.outcome}"
                  for r in report.least_privilege]
        lines.append("Not enforceable on moto (IAM enforces these on AWS):")
        lines += [f"  - {what}: {reason}" for what, reason in MOTO_UNENFORCED]
    if report.cross_account:
        lines.append("A stack planned with another environment's account keys "
                     "(allowed_account_ids):")
        lines += [f"  - {c.stack} with {c.credentials_of}'s keys: "
                  f"{'refused' if c.refused else 'NOT refused'}: {c.message}"
                  for c in report.cross_account]
    for environment, controls in report.account_controls.items():
        lines.append(f"CIS controls read back from {environment}'s account by a SecurityAudit "
                     "user:")
        lines += [f"  - {'met ' if c['met'] else 'FAIL'} {c['control']}: {c['evidence']}"
                  for c in controls["controls"]]
    gaps = next(iter(report.account_controls.values()), {}).get("moto_gaps", [])
    lines += [f"  - stored, not acted on by moto: {g['what']} ({g['reason']})" for g in gaps]
    if report.drift:
        lines += drift_run.summary_lines(report.drift)
    for plan in report.variant_plans:
        lines.append(f"variant plan of {plan.stack}: {len(plan.moved)} moved, {plan.add} to add, "
                     f"{plan.change} to change, {plan.destroy} to destroy")
        lines += [f"  - {old} has moved to {new}" for old, new in plan.moved]
    lines += ["",
              "Excluded (removed from the scratch copy; override files cannot delete):"]
    lines += [f"  - {e.stack}: {e.address}: {e.reason}" for e in report.exclusions] or ["  none"]
    lines.append("Moto quirks handled in the harness (override files in the scratch copy):")
    quirks: dict[str, list[str]] = {}
    for q in report.quirks:
        quirks.setdefault(q.quirk.reason, []).append(f"{q.stack}: {q.address}")
    for reason, addresses in quirks.items():
        lines.append(f"  - {reason}: {', '.join(addresses)}")
    if not quirks:
        lines.append("  none applied")
    lines.append("Moto settings and patches:")
    lines += [f"  - {k}={v}" for k, v in report.moto_settings.items()]
    lines.append(f"  - POST /moto-api/config {json.dumps(MOTO_RUNTIME_CONFIG)}")
    lines += [f"  - patch: {p}" for p in MOTO_PATCHES]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deploy_local", description=__doc__)
    parser.add_argument("--outdir-from", type=Path, default=REPO / "cdktf.out",
                        help="synth output root to copy, <root>/<env>/stacks/... (default: the "
                             "committed cdktf.out)")
    parser.add_argument("--environments",
                        help="comma-separated environments to deploy (default: every one in "
                             "the output; the one whose Atlantis server plans them is needed)")
    parser.add_argument("--workdir", type=Path,
                        help="scratch directory (default: a new temporary one, removed on success)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--stacks", help="comma-separated subset of every environment's stacks, "
                        "in deploy order (bootstrap is always included; for development)")
    parser.add_argument("--summary-json", type=Path, help="also write the summary as JSON")
    parser.add_argument("--atlantis-yaml", type=Path, default=REPO / "atlantis.yaml",
                        help="the repo-level Atlantis config the PRs use (default: the "
                             "committed one)")
    parser.add_argument("--pr-change", type=Path, metavar="OUTDIR",
                        help="the synth output root of a PR that changes every stack "
                             "(default: synthesized from a scratch copy with a planted change)")
    parser.add_argument("--variant", type=Path, metavar="OUTDIR",
                        help="a second synth output root (e.g. with renamed constructs and "
                             "their declared moves): each stack of the Atlantis server's "
                             "environment whose JSON differs is planned against the applied "
                             "state, and the plan's moves are reported")
    return parser.parse_args(argv)


def deploy_plan(source: Path, environments: str | None,
                stacks: str | None) -> dict[str, list[str]] | str:
    """Environment -> its stacks to deploy, or a sentence saying what is wrong."""
    present = environment_dirs(source, environment_names())
    chosen = environments.split(",") if environments else list(present)
    unknown = [e for e in chosen if e not in present]
    if unknown or not chosen:
        return (f"deploy-local: environments {unknown or chosen} are not in {source}; "
                f"it holds: {', '.join(present) or 'none (run `make synth` first)'}")
    plan = {}
    for environment in chosen:
        names = [n for n in STACK_NAMES if (present[environment] / "stacks" / n).is_dir()]
        if stacks:
            wanted = {BOOTSTRAP, *stacks.split(",")}
            unknown_stacks = wanted - set(STACK_NAMES)
            if unknown_stacks:
                return (f"deploy-local: unknown stacks {sorted(unknown_stacks)}; known: "
                        f"{', '.join(STACK_NAMES)}")
            names = [n for n in names if n in wanted]
        plan[environment] = names
    return plan


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    source = args.outdir_from.resolve()
    plan = deploy_plan(source, args.environments, args.stacks)
    if isinstance(plan, str):
        say(plan)
        return 2
    root = args.workdir or Path(tempfile.mkdtemp(prefix="deploy-local-"))
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        say(f"deploy-local: scratch directory {root} is not empty")
        return 2
    # SIGTERM (CI cancel) unwinds like Ctrl-C, so the moto server is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    say(f"deploy-local: {', '.join(f'{len(n)} stacks of {e}' for e, n in plan.items())} "
        f"from {source}, scratch {root}")
    pr_change = args.pr_change
    if pr_change is None:
        say("pr-flow: synthesizing a PR that changes every stack (scratch copy)")
        pr_change = synthesize_every_stack_change(root / "pr-change")
    report = deploy(source, root, plan, atlantis_yaml=args.atlantis_yaml.resolve(),
                    pr_change=pr_change.resolve(),
                    variant=args.variant.resolve() if args.variant else None)
    say(summary(report))
    if args.summary_json:
        args.summary_json.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    if report.failure:
        say(f"\nFAILED: {report.failure}\nscratch kept: {root}")
        return 1
    if args.keep or args.workdir:
        say(f"scratch kept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
