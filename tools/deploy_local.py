"""Deploy the synthesized stacks to moto with the real Terraform and provider, re-plan, destroy.

Run: `make deploy-local` (or `python -m tools.deploy_local --help`). Works on a scratch copy
of cdktf.out/; the moto server lives only as long as the run.
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

from stacks.registry import STACK_NAMES, spec_of
from tools.local_aws import (
    FAKE_CREDENTIALS,
    MOTO_PATCHES,
    MOTO_RUNTIME_CONFIG,
    MOTO_SETTINGS,
    LocalAws,
)
from tools.local_overrides import (
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
from tools.process_memory import child_pids, tree_rss
from tools.terraform_cli import cli_config_env

REPO = Path(__file__).resolve().parent.parent
BOOTSTRAP = STACK_NAMES[0]
PROTECTED_MESSAGE = "Instance cannot be destroyed"
REPLAN_WORKERS = 3
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
    peak_apply_memory: dict[str, int] = field(default_factory=dict)
    """Apply wave (its stacks joined by '+') -> the largest sum of VmRSS of its
    terraform processes and their provider plugins, in bytes."""
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


def _plan_changes(text: str) -> str:
    """The resource lines and the summary of a plan, for the failure report."""
    keep = [line for line in text.splitlines()
            if line.lstrip().startswith(("#", "~", "+", "-", "Plan:")) or "->" in line]
    return "\n".join(keep[:80])


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
            if override["resource"]:
                write_json(stack_dir / QUIRKS_OVERRIDE, override)
            report.quirks += applied
        stacks[name] = stack
    return stacks


def terraform_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("TF_DATA_DIR", "TF_WORKSPACE")}
    env.update(cli_config_env(root / "cli", plugin_cache=True))
    env.update(FAKE_CREDENTIALS)
    # No shared config/profiles of the machine leak into the run.
    env.update(AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")
    return env


def deploy(source: Path, root: Path, names: list[str], variant: Path | None = None) -> Report:
    started = time.monotonic()
    report = Report(stacks=[StackResult(name) for name in names])
    try:
        stacks = prepare(source, root, names, report)
        for item in report.exclusions:
            say(f"exclude  {item.stack}: {item.address} ({item.reason})")
        with LocalAws(root / "moto.log") as aws:
            say(f"moto     {aws.url} (log: {root / 'moto.log'})")
            tf = Terraform(root, terraform_env(root))
            for name in names:
                write_json(tf.stack_dir(name) / PROVIDER_OVERRIDE,
                           provider_override(stacks[name], aws.url))
            try:
                _apply_all(tf, aws, stacks, names, report)
                _replan_all(tf, names, report)
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


def _apply_all(tf: Terraform, aws: LocalAws, stacks: dict[str, dict], names: list[str],
               report: Report) -> None:
    done = itertools.count(1)

    def apply(name: str) -> None:
        stack_dir = tf.stack_dir(name)
        if name == BOOTSTRAP:
            # The state bucket does not exist yet: first apply with a local state.
            write_json(stack_dir / BACKEND_OVERRIDE, local_backend_override())
            tf.run(name, "init")
            for other in names[1:]:
                shutil.copy(stack_dir / ".terraform.lock.hcl", tf.stack_dir(other))
        else:
            write_json(stack_dir / BACKEND_OVERRIDE, s3_backend_override(stacks[name], aws.url))
            tf.run(name, "init")
        began = time.monotonic()
        tf.run(name, "apply", "-auto-approve")
        result = report.result(name)
        result.apply_seconds = time.monotonic() - began
        if name == BOOTSTRAP:
            write_json(stack_dir / BACKEND_OVERRIDE, s3_backend_override(stacks[name], aws.url))
            tf.run(name, "init", "-migrate-state", "-force-copy")
            (stack_dir / "terraform.tfstate").unlink(missing_ok=True)
            (stack_dir / "terraform.tfstate.backup").unlink(missing_ok=True)
        result.resources = len(tf.managed_resources(name))
        moved = ", state migrated to S3 on moto" if name == BOOTSTRAP else ""
        say(f"apply    [{next(done)}/{len(names)}] {name}: {result.resources} resources in "
            f"{result.apply_seconds:.1f} s{moved}")

    _run_waves(_waves(names), apply, report.peak_apply_memory)


def _replan_all(tf: Terraform, names: list[str], report: Report) -> None:
    drift = []
    # Plans only read: a few at once (Terraform waits on moto more than on the CPU).
    with ThreadPoolExecutor(max_workers=REPLAN_WORKERS) as pool:
        plans = list(pool.map(
            lambda name: tf.run(name, "plan", "-detailed-exitcode", allowed=(0, 2)), names))
    for index, (name, plan) in enumerate(zip(names, plans, strict=True), 1):
        result = report.result(name)
        result.replan = "no changes" if plan.returncode == 0 else "CHANGES"
        say(f"re-plan  [{index}/{len(names)}] {name}: {result.replan}")
        if plan.returncode == 2:
            drift.append(f"--- {name}\n{_plan_changes(plan.stdout)}")
    if drift:
        # Teardown still runs (the resources exist); the run fails at the end.
        report.failure = "re-plan found changes:\n" + "\n".join(drift)


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
        if override["resource"]:
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
    lines += [f"  - {k}={v}" for k, v in MOTO_SETTINGS.items()]
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
    report = deploy(source, root, names, args.variant.resolve() if args.variant else None)
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
