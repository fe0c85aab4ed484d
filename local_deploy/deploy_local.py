"""Deploy the synthesized stacks to moto with the real Terraform and provider, the way
they reach production: bootstrap applied by hand, every other apply a pull request
played through Atlantis' flow with the plan and apply roles (local_deploy/pr_runs.py), then
the protection check and the destroy. moto enforces IAM throughout, so the PRs prove
the roles suffice, and local_deploy/least_privilege.py that they refuse what they must.

Run: `make pr-flow` (or `make deploy-local`, `python -m local_deploy.deploy_local --help`).
Works on a scratch copy of cdktf.out/; the moto server lives only as long as the run.
"""

from __future__ import annotations

import argparse
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import fast_synth
from local_deploy import account_controls, drift_run
from local_deploy.least_privilege import MOTO_UNENFORCED, Refusal, apply_role_guard_rails
from local_deploy.local_aws import (
    ENFORCING_SETTINGS,
    MOTO_PATCHES,
    MOTO_RUNTIME_CONFIG,
    MOTO_SETTINGS,
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
from local_deploy.pr_flow import PullRequestRun, synthesize_every_stack_change
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

from stacks.atlantis_repo_config import APPLY_PROFILE, PLAN_PROFILE  # noqa: E402
from stacks.registry import STACK_NAMES, spec_of  # noqa: E402

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
class Report:
    stacks: list[StackResult]
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
    peak_apply_memory: dict[str, int] = field(default_factory=dict)
    """Apply wave (its stacks joined by '+') -> the largest sum of VmRSS of its
    terraform processes and their provider plugins, in bytes."""
    account_controls: dict = field(default_factory=dict)
    """The CIS controls read back from the deployed account (account_controls.report)."""
    drift: drift_run.DriftProof | None = None
    """The drift check on the deployment: planted, found, repaired (drift_run.py)."""
    protection_check: str = "not run"
    failure: str | None = None
    seconds: float = 0.0

    def result(self, name: str) -> StackResult:
        return next(s for s in self.stacks if s.name == name)

    def to_json(self) -> dict:
        return {
            "stacks": [asdict(s) for s in self.stacks],
            "exclusions": [asdict(e) for e in self.exclusions],
            "quirks": [{"stack": q.stack, "address": q.address, "reason": q.quirk.reason}
                       for q in self.quirks],
            "moto_patches": list(MOTO_PATCHES),
            "variant_plans": [asdict(v) for v in self.variant_plans],
            "peak_apply_memory": self.peak_apply_memory,
            "pull_requests": [asdict(r) for r in self.pull_requests],
            "monitoring_only": self.monitoring_only,
            "assumed_roles": self.assumed_roles,
            "least_privilege": [asdict(r) for r in self.least_privilege],
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
    """Runs terraform in a stack directory of the scratch copy, logging every command."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root, self.env = root, env
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.lock = threading.Lock()

    def stack_dir(self, stack: str) -> Path:
        return self.root / "out" / "stacks" / stack

    def run(self, stack: str, *args: str, allowed: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        command = ["terraform", *args, *FLAGS.get(args[0], ())]
        with self.lock:
            self.count += 1
            log = self.logs / f"{self.count:03d}-{stack}-{args[0]}.log"
        began = time.monotonic()
        result = subprocess.run(command, cwd=self.stack_dir(stack), env=self.env, text=True,
                                capture_output=True, timeout=COMMAND_TIMEOUT)
        log.write_text(f"$ {' '.join(command)}  # {time.monotonic() - began:.1f} s, "
                       f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        if result.returncode not in allowed:
            # Terraform writes its errors to stderr; the end of stdout shows where it stopped.
            raise StepFailed(stack, " ".join(["terraform", *args]),
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


# --- the flow ------------------------------------------------------------------------
def prepare(source: Path, root: Path, names: list[str], report: Report) -> dict[str, dict]:
    """Copy the synth output, apply the exclusions and write the quirk overrides."""
    target = root / "out"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
        ".terraform", "terraform.tfstate*", "*_override.tf.json", ".terraform.lock.hcl"))
    stacks = {}
    for name in names:
        stack_dir = target / "stacks" / name
        stack = load_stack(stack_dir)
        excluded = remove_excluded(name, stack)
        if excluded:
            write_json(stack_dir / "cdk.tf.json", stack)
            report.exclusions += excluded
        applied = quirks_for(name, stack)
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


def deploy(source: Path, root: Path, names: list[str], *, atlantis_yaml: Path,
           pr_change: Path, variant: Path | None = None) -> Report:
    started = time.monotonic()
    report = Report(stacks=[StackResult(name) for name in names])
    try:
        stacks = prepare(source, root, names, report)
        for item in report.exclusions:
            say(f"exclude  {item.stack}: {item.address} ({item.reason})")
        with LocalAws(root / "moto.log") as aws:
            say(f"moto     {aws.url} (log: {root / 'moto.log'})")
            tf = Terraform(root, terraform_env(root, aws.credentials))
            for name in names:
                write_json(tf.stack_dir(name) / PROVIDER_OVERRIDE,
                           provider_override(stacks[name], aws.url))
            try:
                _apply_bootstrap(tf, aws, stacks, names, report)
                _pull_requests(tf, aws, source, pr_change, atlantis_yaml, stacks, names,
                               report)
                report.account_controls = _read_back_controls(aws, stacks, names)
                _check_drift(tf, aws, stacks, names, report)
                if variant is not None:
                    _plan_variant(tf, source, variant, names, report)
                _check_protection(tf, report)
                _destroy_all(tf, aws, stacks, names, report)
            except StepFailed as failure:
                earlier = f"{report.failure}\n" if report.failure else ""
                report.failure = (f"{earlier}{failure.stack}: {failure.step} failed "
                                  f"(logs: {tf.logs})\n{failure.output}")
    except KeyboardInterrupt:
        report.failure = "interrupted"
    report.seconds = time.monotonic() - started
    return report


def _waves(names: list[str]) -> list[list[str]]:
    """Consecutive stacks of a parallel phase form one wave (applied at once, as Atlantis
    may); every other stack is a wave of its own."""
    waves: list[list[str]] = []
    for name in names:
        phase = spec_of(name).phase
        if waves and phase.parallel and spec_of(waves[-1][0]).phase == phase:
            waves[-1].append(name)
        else:
            waves.append([name])
    return waves


def _run_waves(waves: list[list[str]], action: Callable[[str], None],
               peaks: dict[str, int] | None = None) -> None:
    for wave in waves:
        with TerraformMemory() as memory:
            if len(wave) == 1:
                action(wave[0])
            else:
                with ThreadPoolExecutor(max_workers=len(wave)) as pool:
                    for future in [pool.submit(action, name) for name in wave]:
                        future.result()
        if peaks is not None:
            peaks["+".join(wave)] = memory.peak


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


def _apply_bootstrap(tf: Terraform, aws: LocalAws, stacks: dict[str, dict], names: list[str],
                     report: Report) -> None:
    """The first apply of the state stack, by hand with an admin's credentials (the
    README's bootstrap runbook): a local state first, then moved into its own bucket."""
    stack_dir = tf.stack_dir(BOOTSTRAP)
    write_json(stack_dir / BACKEND_OVERRIDE, local_backend_override())
    tf.run(BOOTSTRAP, "init")
    began = time.monotonic()
    tf.run(BOOTSTRAP, "apply", "-auto-approve")
    result = report.result(BOOTSTRAP)
    result.apply_seconds = time.monotonic() - began
    for name in names:
        write_json(tf.stack_dir(name) / BACKEND_OVERRIDE, s3_backend_override(stacks[name], aws.url))
    tf.run(BOOTSTRAP, "init", "-migrate-state", "-force-copy")
    (stack_dir / "terraform.tfstate").unlink(missing_ok=True)
    (stack_dir / "terraform.tfstate.backup").unlink(missing_ok=True)
    result.resources = len(tf.managed_resources(BOOTSTRAP))
    say(f"apply    {BOOTSTRAP}: {result.resources} resources in {result.apply_seconds:.1f} s by "
        "hand (first apply), state migrated to S3 on moto")


def _pull_requests(tf: Terraform, aws: LocalAws, source: Path, pr_change: Path,
                   atlantis_yaml: Path, stacks: dict[str, dict], names: list[str],
                   report: Report) -> None:
    """Every other apply, the re-plan and the one-stack PR, through Atlantis' flow
    (local_deploy/pr_runs.py) with the credentials its workflows select."""
    region = stacks[BOOTSTRAP]["provider"]["aws"][0]["region"]
    flags = atlantis_task_environment(source)
    ssm = aws.client("ssm", region)
    server_cfg = json.loads(resolve_ssm_references(
        flags["ATLANTIS_REPO_CONFIG_JSON"], source,
        lambda name: ssm.get_parameter(Name=name)["Parameter"]["Value"]))
    repo_id = flags["ATLANTIS_REPO_ALLOWLIST"]
    # The roles the server's workflows assume (their AWS profiles), nothing else.
    profiles = dict(PROFILE_ROLE.findall(json.dumps(server_cfg)))
    missing = [p for p in (PLAN_PROFILE, APPLY_PROFILE) if p not in profiles]
    if missing:
        raise StepFailed("atlantis", "reading the server config", (
            f"ATLANTIS_REPO_CONFIG_JSON of the synthesized atlantis task names no role_arn "
            f"for the AWS profile(s) {', '.join(missing)}; the workflows' profiles come from "
            "stacks/atlantis_repo_config.py aws_profiles()"))
    with ContainerCredentials(aws, region, tuple(sorted(set(profiles.values())))) as endpoint:
        env = task_env(tf.env, tf.root / "atlantis-home", endpoint.url)

        def pull_request(label: str):
            return new_pull_request(atlantis_yaml, server_cfg, repo_id, tf.root / "out", env,
                                    tf.logs / label)

        first = pull_request("pr-1-first-deployment")
        groups: dict[int, list[str]] = {}
        for name in names:
            groups.setdefault(first.projects[name].group, []).append(name)
        for number, group in enumerate(groups.values(), 1):
            with TerraformMemory() as memory:
                planned = record(report.pull_requests, "first deployment",
                                 f"atlantis plan -p {' -p '.join(group)}", first.plan(group))
                applied = record(report.pull_requests, "first deployment",
                                 f"atlantis apply -p {' -p '.join(group)}", first.apply(group))
            report.peak_apply_memory["+".join(group)] = memory.peak
            _stop_on(failures(planned + applied), group[0], "first deployment")
            seconds = {r.project: r.seconds for r in applied}
            for name in group:
                result = report.result(name)
                if name in seconds:
                    result.apply_seconds = seconds[name]
                result.resources = len(tf.managed_resources(name))
                result.planned_as = _caller(tf, name)
                say(f"pr 1     [{number}/{len(groups)}] {name}: {first.status[name]}, "
                    f"{result.resources} resources")

        changed = _check_out(tf, pr_change, names, stacks)
        every = pull_request("pr-2-every-stack")
        planned = record(report.pull_requests, "every stack changes", "autoplan",
                         every.autoplan(changed))
        _stop_on(failures(planned) + [f"{r.project}: {r.status}" for r in planned
                                      if r.status != "planned"], "every", "autoplan")
        report.least_privilege.append(_apply_with_plan_role(every, profiles, names))
        applied = record(report.pull_requests, "every stack changes", "atlantis apply",
                         every.apply())
        _stop_on(failures(applied), "every", "atlantis apply")
        say(f"pr 2     planned {len(planned)}, applied {len(applied)} in one atlantis apply")
        report.least_privilege += apply_role_guard_rails(
            aws, region, profiles[APPLY_PROFILE], profiles[PLAN_PROFILE],
            stacks[names[-1]]["terraform"]["backend"]["s3"]["bucket"])
        for refusal in report.least_privilege:
            say(f"refused  {refusal.role}: {refusal.call} on {refusal.target}: "
                f"{refusal.outcome}")
        if not all(r.refused for r in report.least_privilege):
            _fail(report, "a call the roles must not make was not refused:\n" + "\n".join(
                f"{r.role}: {r.call} on {r.target}: {r.outcome}"
                for r in report.least_privilege if not r.refused))
        again = record(report.pull_requests, "every stack changes", "autoplan (second push)",
                       every.autoplan(changed))
        for result in again:
            report.result(result.project).replan = (
                "no changes" if result.status == "no changes" else "CHANGES")
        say(f"pr 2     second run: {sum(r.status == 'no changes' for r in again)}/{len(again)} "
            "no changes")
        if any(r.status != "no changes" for r in again):
            _fail(report, "the second run of the PR found changes:\n" + "\n".join(
                f"{r.project}: {r.status}: {r.summary}" for r in again))

        only = pull_request("pr-3-monitoring")
        touched = [f"cdktf.out/stacks/{name}/cdk.tf.json" for name in ("monitoring",)
                   if name in names]
        results = record(report.pull_requests, "monitoring only", "autoplan",
                         only.autoplan(touched))
        report.monitoring_only = [r.project for r in results]
        say(f"pr 3     planned {', '.join(report.monitoring_only) or 'nothing'}")
    report.assumed_roles = assumed_roles(aws.assumed_roles_log)


def _read_back_controls(aws: LocalAws, stacks: dict[str, dict], names: list[str]) -> dict:
    """The CIS controls as an auditor's SecurityAudit user reads them from the
    account every stack was applied to (local_deploy/account_controls.py)."""
    region = stacks[BOOTSTRAP]["provider"]["aws"][0]["region"]
    state_bucket = stacks[names[-1]]["terraform"]["backend"]["s3"]["bucket"]
    auditor = account_controls.auditor_credentials(aws.client("iam", region))
    facts = account_controls.read_back(lambda service: aws.client(service, region, auditor))
    controls = account_controls.judge(facts, state_bucket)
    for control in controls:
        say(f"control  {'met ' if control.met else 'FAIL'} {control.control}: {control.evidence}")
    return account_controls.report(facts, controls)


def _check_drift(tf: Terraform, aws: LocalAws, stacks: dict[str, dict], names: list[str],
                 report: Report) -> None:
    """Drift planted out of band, found by `python -m drift`, repaired, found no more
    (local_deploy/drift_run.py)."""
    report.drift = drift_run.prove(tf, aws, stacks, names)
    for line in drift_run.summary_lines(report.drift):
        say(f"drift    {line}")
    for problem in drift_run.problems(report.drift):
        _fail(report, problem)


def _fail(report: Report, problem: str) -> None:
    """Record a failure that does not stop the run (later checks still report)."""
    report.failure = f"{report.failure}\n{problem}" if report.failure else problem


def _apply_with_plan_role(run: PullRequestRun, profiles: dict[str, str],
                          names: list[str]) -> Refusal:
    """The apply stage of one planned project with the plan role's profile: it must end
    in AccessDenied before anything changes (the pull status stays 'planned', so the
    real apply follows with the same plan file)."""
    name = "monitoring" if "monitoring" in names else names[-1]
    role = profiles[PLAN_PROFILE].rsplit("/", 1)[-1]
    result = run.apply_with_profile(name, PLAN_PROFILE)
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


def _check_out(tf: Terraform, outdir: Path, names: list[str], stacks: dict[str, dict]) -> list[str]:
    """Put the PR's synth into the stack directories (as a checkout of its branch would)
    and return the files it changed, relative to the repository root."""
    changed = []
    for name in names:
        relative = Path("stacks") / name / "cdk.tf.json"
        stack = load_stack(outdir / "stacks" / name)
        remove_excluded(name, stack)
        target = tf.stack_dir(name) / "cdk.tf.json"
        if json.loads(target.read_text()) == stack:
            continue
        write_json(target, stack)
        override = quirks_override(stack, quirks_for(name, stack))
        if override:
            write_json(tf.stack_dir(name) / QUIRKS_OVERRIDE, override)
        stacks[name] = stack
        changed.append(f"cdktf.out/{relative.as_posix()}")
    return changed


PROFILE_ROLE = re.compile(r"\[profile ([\w-]+)\][^\[]*?role_arn = (arn:[^\\\s\"']+)")
NOT_AUTHORIZED = re.compile(r"is not authorized to perform: ([\w:-]+)")
MOVED_LINE = re.compile(r"^\s*# (\S+) has moved to (\S+)$", re.MULTILINE)
PLAN_COUNTS = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")


def _plan_variant(tf: Terraform, source: Path, variant: Path, names: list[str],
                  report: Report) -> None:
    """Plan each stack whose synth differs in `variant` against the applied state, in a
    copy of its initialized directory (the state is read, never written)."""
    copies = Terraform(tf.root / "variant", tf.env)
    for name in names:
        relative = Path("stacks") / name / "cdk.tf.json"
        if (variant / relative).read_bytes() == (source / relative).read_bytes():
            continue
        work = copies.stack_dir(name)
        shutil.copytree(tf.stack_dir(name), work, symlinks=True,
                        ignore=shutil.ignore_patterns(QUIRKS_OVERRIDE))
        stack = load_stack(variant / "stacks" / name)
        remove_excluded(name, stack)
        write_json(work / "cdk.tf.json", stack)
        override = quirks_override(stack, quirks_for(name, stack))
        if override:
            write_json(work / QUIRKS_OVERRIDE, override)
        plan = copies.run(name, "plan", "-lock=false", "-detailed-exitcode", allowed=(0, 2))
        counts = PLAN_COUNTS.search(plan.stdout)
        add, change, destroy = map(int, counts.groups()) if counts else (0, 0, 0)
        result = VariantPlan(stack=name, moved=[list(m) for m in MOVED_LINE.findall(plan.stdout)],
                             add=add, change=change, destroy=destroy)
        report.variant_plans.append(result)
        say(f"variant  {name}: {len(result.moved)} moved, {add} to add, {change} to change, "
            f"{destroy} to destroy")


def _check_protection(tf: Terraform, report: Report) -> None:
    """Without the teardown override, Terraform must refuse to destroy the state stack."""
    plan = tf.run(BOOTSTRAP, "plan", "-destroy", allowed=(0, 1, 2))
    if plan.returncode == 1 and PROTECTED_MESSAGE in plan.stderr:
        report.protection_check = f"refused as expected ({PROTECTED_MESSAGE!r})"
        say(f"protect  {BOOTSTRAP}: plan -destroy refused: {PROTECTED_MESSAGE}")
        return
    report.protection_check = "NOT refused"
    raise StepFailed(BOOTSTRAP, f"terraform plan -destroy (expected {PROTECTED_MESSAGE!r})",
                     _tail(plan.stderr + "\n" + plan.stdout))


def _destroy_all(tf: Terraform, aws: LocalAws, stacks: dict[str, dict], names: list[str],
                 report: Report) -> None:
    forget = {q.address for q in report.quirks if q.quirk.forget_before_destroy}
    done = itertools.count(1)

    def destroy(name: str) -> None:
        stack_dir = tf.stack_dir(name)
        if name == BOOTSTRAP:
            # Its bucket holds its own state: bring the state home before deleting the bucket.
            write_json(stack_dir / BACKEND_OVERRIDE, local_backend_override())
            tf.run(name, "init", "-migrate-state", "-force-copy")
        override, needs_apply = teardown_override(stacks[name])
        if override["resource"]:
            write_json(stack_dir / TEARDOWN_OVERRIDE, override)
        if needs_apply:
            tf.run(name, "apply", "-auto-approve")
        managed = tf.managed_resources(name)
        for address in sorted(forget & set(managed)):
            tf.run(name, "state", "rm", address)
        region = stacks[name]["provider"]["aws"][0]["region"]
        emptied = _empty_buckets(aws, region, tf.state_json(name))
        tf.run(name, "destroy", "-auto-approve")
        result = report.result(name)
        result.destroyed = not tf.managed_resources(name)
        note = f" (emptied {', '.join(emptied)})" if emptied else ""
        say(f"destroy  [{next(done)}/{len(names)}] {name}: "
            f"{'destroyed' if result.destroyed else 'RESOURCES LEFT'}{note}")
        if not result.destroyed:
            raise StepFailed(name, "terraform destroy", "resources left in the state")

    _run_waves([list(reversed(wave)) for wave in reversed(_waves(names))], destroy)


def _empty_buckets(aws: LocalAws, region: str, state: dict) -> list[str]:
    """Delete every object version and delete marker of the stack's buckets (AWS refuses
    to delete a non-empty bucket and our buckets never set force_destroy)."""
    buckets = [instance["attributes"]["bucket"] for r in state.get("resources", [])
               if r["mode"] == "managed" and r["type"] == "aws_s3_bucket"
               for instance in r["instances"]]
    s3 = aws.client("s3", region)
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
    rows = [("stack", "resources", "apply s", "re-plan", "destroyed")]
    for s in report.stacks:
        rows.append((s.name, "-" if s.resources is None else str(s.resources),
                     "-" if s.apply_seconds is None else f"{s.apply_seconds:.1f}",
                     s.replan, "yes" if s.destroyed else "no"))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
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
              f"destroyed {destroyed}/{total} in {report.seconds:.0f} s",
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
    if report.account_controls:
        lines.append("CIS controls read back from the account by a SecurityAudit user:")
        lines += [f"  - {'met ' if c['met'] else 'FAIL'} {c['control']}: {c['evidence']}"
                  for c in report.account_controls["controls"]]
        lines += [f"  - stored, not acted on by moto: {g['what']} ({g['reason']})"
                  for g in report.account_controls["moto_gaps"]]
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
    lines += [f"  - {k}={v}" for k, v in {**MOTO_SETTINGS, **ENFORCING_SETTINGS}.items()]
    lines.append(f"  - POST /moto-api/config {json.dumps(MOTO_RUNTIME_CONFIG)}")
    lines += [f"  - patch: {p}" for p in MOTO_PATCHES]
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="deploy_local", description=__doc__)
    parser.add_argument("--outdir-from", type=Path, default=REPO / "cdktf.out",
                        help="synth output to copy (default: the committed cdktf.out)")
    parser.add_argument("--workdir", type=Path,
                        help="scratch directory (default: a new temporary one, removed on success)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--stacks", help="comma-separated subset, in deploy order "
                        "(bootstrap is always included; for development)")
    parser.add_argument("--summary-json", type=Path, help="also write the summary as JSON")
    parser.add_argument("--atlantis-yaml", type=Path, default=REPO / "atlantis.yaml",
                        help="the repo-level Atlantis config the PRs use (default: the "
                             "committed one)")
    parser.add_argument("--pr-change", type=Path, metavar="OUTDIR",
                        help="the synth of a PR that changes every stack (default: "
                             "synthesized from a scratch copy with a planted change)")
    parser.add_argument("--variant", type=Path, metavar="OUTDIR",
                        help="a second synth output (e.g. with renamed constructs and their "
                             "declared moves): each stack whose JSON differs is planned "
                             "against the applied state, and the plan's moves are reported")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    source = args.outdir_from.resolve()
    if not (source / "stacks").is_dir():
        say(f"deploy-local: {source}/stacks not found; run `make synth` first")
        return 2
    names = list(STACK_NAMES)
    if args.stacks:
        wanted = {BOOTSTRAP, *args.stacks.split(",")}
        unknown = wanted - set(names)
        if unknown:
            say(f"deploy-local: unknown stacks {sorted(unknown)}; known: {', '.join(names)}")
            return 2
        names = [n for n in names if n in wanted]
    root = args.workdir or Path(tempfile.mkdtemp(prefix="deploy-local-"))
    root.mkdir(parents=True, exist_ok=True)
    if any(root.iterdir()):
        say(f"deploy-local: scratch directory {root} is not empty")
        return 2
    # SIGTERM (CI cancel) unwinds like Ctrl-C, so the moto server is stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    say(f"deploy-local: {len(names)} stacks from {source}, scratch {root}")
    pr_change = args.pr_change
    if pr_change is None:
        say("pr-flow: synthesizing a PR that changes every stack (scratch copy)")
        pr_change = synthesize_every_stack_change(root / "pr-change")
    report = deploy(source, root, names, atlantis_yaml=args.atlantis_yaml.resolve(),
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
