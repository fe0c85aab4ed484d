"""The drift check (`python -m drift`, README "Drift") proven on the local deployment of
the environment that runs Atlantis, after every stack is applied and before the variant
plan, protection check and destroy:

1. three changes out of band, with the administrator's boto3 clients, in three stacks:
   a required tag removed from the VPC (network), the threshold of the database's CPU
   alarm raised (rds), a central log group's retention shortened (logging);
2. `python -m drift` over the environment's scratch output dir, as a user runs it, with
   a session of the bootstrap stack's plan role (read-only: the stand-in for the drift
   workflow's role): it must exit 2 and name exactly those stacks, addresses and
   attributes; the state objects in S3 and the lock table's items are the same bytes
   afterwards;
3. the cdktf CLI on the same deployment: `npx cdktf diff <env>-logging` shows the
   retention drift and `npx cdktf deploy <env>-logging --auto-approve` repairs it (S3
   backend and DynamoDB lock on moto; the scratch output root holds the CLI manifest of
   `<env>-<stack>` names, as cdktf.out/ does);
4. network and rds re-applied with `terraform apply` (the README's emergency path, the
   administrator's keys);
5. `python -m drift` again on the three repaired stacks (the others were in sync and
   nothing touched them since): exit 0, all in sync;
6. a copy of one stack whose backend names a bucket that does not exist: exit 1, that
   stack an error (an unreachable state is never "in sync").

An ingress rule added by hand to a security group is not planted here: a re-apply
cannot remove it (README "Drift"); its plan JSON is a unit test fixture
(tests/unit/drift/fixtures/rds_ingress_added.json).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from local_deploy.least_privilege import role_session
from local_deploy.local_overrides import BACKEND_OVERRIDE, write_json
from synth.layout import cli_stack_name

REPO = Path(__file__).resolve().parent.parent
DRIFT_JOBS = 3
"""Plans at once on the 2-core machine (moto's single server process is the bottleneck)."""
COMMAND_TIMEOUT = 1200
REMOVED_TAG = "CostCenter"
PLANTED_RETENTION_DAYS = 30
RAISED_THRESHOLD = 99.0
"""The CPU alarm's threshold after the edit: an alarm that will not ring (what a hand
silencing a noisy alarm in the console leaves behind)."""
RE_APPLIED = ("network", "rds")
CLI_STACK = "logging"
"""Repaired with the cdktf CLI: its scratch dir has no exclusion and no quirk override,
so the CLI plans exactly the committed JSON (plus the moto provider and backend)."""
PLAN_ROLE_PARAMETER = "ssm-atlantis-plan-role-arn"
"""The bootstrap stack's SSM contract that publishes the plan role's ARN."""
KEY_LINES = re.compile(r"retention_in_days|will be updated|Plan: |Apply complete|No changes|"
                       r"Error|changed outside of Terraform")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
"""The CLI's terminal control sequences (its progress display, also without a TTY)."""


@dataclass(frozen=True)
class Planted:
    stack: str
    address: str
    attribute: str
    what: str


@dataclass
class DriftRun:
    """One `python -m drift` run, for the summary."""

    name: str
    exit_code: int
    seconds: float
    report_path: str
    report: str
    statuses: dict[str, str]
    drifted: dict[str, dict[str, list[str]]]
    """stack -> address -> drifted attributes."""
    errors: dict[str, str]
    state_untouched: bool | None = None
    """The state objects in S3 (versions, ETags, bytes) and the lock table's items are
    the same after the run as before it."""


@dataclass
class CliRun:
    command: str
    exit_code: int
    key_lines: list[str]
    log: str


@dataclass
class DriftProof:
    role: str = ""
    planted: list[Planted] = field(default_factory=list)
    runs: list[DriftRun] = field(default_factory=list)
    cli: list[CliRun] = field(default_factory=list)
    repairs: list[dict] = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)


def prove(site, aws) -> DriftProof:
    """Steps 1-6 above on the environment `site` (deploy_local.Site) applied to `aws`."""
    began = time.monotonic()
    proof = DriftProof()
    tf, stacks, names = site.tf, site.stacks, site.names
    missing = [name for name in (*RE_APPLIED, CLI_STACK) if name not in names]
    if missing:
        proof.skipped = f"stacks {', '.join(missing)} not deployed in this run"
        return proof
    work = tf.root / "drift" / site.name
    work.mkdir(parents=True, exist_ok=True)
    bootstrap = stacks[names[0]]
    state = _StateWatch(site.client(aws, "s3"), site.client(aws, "dynamodb"),
                        bootstrap["terraform"]["backend"]["s3"])
    role_arn, credentials = _plan_role_session(aws, site, bootstrap)
    proof.role = role_arn.rsplit("/", 1)[-1]
    drift_env = _without_keys(tf.env) | credentials

    proof.planted = [_remove_vpc_tag(site.client(aws, "ec2"), stacks["network"]),
                     _raise_alarm_threshold(site.client(aws, "cloudwatch"), stacks["rds"]),
                     _shorten_retention(site.client(aws, "logs"), stacks[CLI_STACK])]
    out = tf.stack_dir(CLI_STACK).parents[1]
    proof.runs.append(_drift(out, work, "planted", drift_env, state, names))

    def cli() -> list[CliRun]:
        # The output root (cdktf.out/'s twin), whose manifest names `<env>-<stack>`.
        return [_cdktf(command, cli_stack_name(site.name, CLI_STACK), out.parent, tf.env,
                       work) for command in ("diff", "deploy")]

    # Three stacks, three states: the CLI's repair and the re-applies run side by side.
    with ThreadPoolExecutor(max_workers=1 + len(RE_APPLIED)) as pool:
        by_cli = pool.submit(cli)
        applies = {name: pool.submit(tf.run, name, "apply", "-auto-approve")
                   for name in RE_APPLIED}
        proof.cli = by_cli.result()
        proof.repairs += [{"stack": name, "how": "terraform apply -auto-approve "
                           "(administrator: the emergency path)",
                           "result": _last_match(apply.result().stdout, "Apply complete")}
                          for name, apply in applies.items()]
    # The other stacks were in sync in the first run and nothing has touched them since:
    # the clean run checks the three repaired ones (every stack would add ~90 s).
    repaired = [p.stack for p in proof.planted]
    proof.runs.append(_drift(out, work, "repaired", drift_env, state, repaired))

    unreachable = _unreachable_copy(tf, work / "unreachable", CLI_STACK)
    proof.runs.append(_drift(unreachable, work, "unreachable", drift_env, None, [CLI_STACK]))
    proof.seconds = time.monotonic() - began
    return proof


# --- out of band ---------------------------------------------------------------------
def _only(stack: dict, rtype: str) -> tuple[str, dict]:
    (name, body), *_ = sorted(stack["resource"][rtype].items())
    return name, body


def _remove_vpc_tag(ec2, stack: dict) -> Planted:
    name, body = _only(stack, "aws_vpc")
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name",
                                        "Values": [body["tags"]["Name"]]}])["Vpcs"]
    ec2.delete_tags(Resources=[vpc["VpcId"]], Tags=[{"Key": REMOVED_TAG}])
    # The resource's own `tags` still list the key (they are the configuration's); the
    # provider reads the tags on AWS into `tags_all`.
    return Planted("network", f"aws_vpc.{name}", "tags_all",
                   f"required tag {REMOVED_TAG} removed from {vpc['VpcId']}")


def _raise_alarm_threshold(cloudwatch, stack: dict) -> Planted:
    """PutMetricAlarm replaces the whole alarm: the one read back, its threshold raised."""
    name, body = sorted((n, b) for n, b in stack["resource"]["aws_cloudwatch_metric_alarm"]
                        .items() if b["metric_name"] == "CPUUtilization")[0]
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[body["alarm_name"]])["MetricAlarms"]
    kept = ("AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
            "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "Dimensions",
            "Period", "EvaluationPeriods", "DatapointsToAlarm", "ComparisonOperator",
            "TreatMissingData")
    cloudwatch.put_metric_alarm(**{k: alarm[k] for k in kept if k in alarm},
                                Threshold=RAISED_THRESHOLD)
    return Planted("rds", f"aws_cloudwatch_metric_alarm.{name}", "threshold",
                   f"threshold of {body['alarm_name']} {body['threshold']} -> "
                   f"{RAISED_THRESHOLD:g}")


def _shorten_retention(logs, stack: dict) -> Planted:
    name, body = _only(stack, "aws_cloudwatch_log_group")
    logs.put_retention_policy(
        logGroupName=body["name"], retentionInDays=PLANTED_RETENTION_DAYS)
    return Planted(CLI_STACK, f"aws_cloudwatch_log_group.{name}", "retention_in_days",
                   f"retention of {body['name']} {body['retention_in_days']} -> "
                   f"{PLANTED_RETENTION_DAYS} days")


# --- credentials ---------------------------------------------------------------------
def _without_keys(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items()
            if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                         "AWS_PROFILE")}


def _plan_role_session(aws, site, bootstrap: dict) -> tuple[str, dict[str, str]]:
    """Keys of a plan-role session, taken the way the Atlantis task takes it (the
    stand-in task role of the account of the environment running Atlantis, `site`,
    assumes it). The plan role trusts only the task role, so the administrator cannot
    assume it."""
    parameter = bootstrap["resource"]["aws_ssm_parameter"][PLAN_ROLE_PARAMETER]["name"]
    role_arn = site.client(aws, "ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    return role_arn, role_session(aws, site.region, role_arn, "drift-check", site.credentials)


# --- the state must not change --------------------------------------------------------
class _StateWatch:
    """Fingerprints of every state object version and of the lock table's items."""

    def __init__(self, s3, dynamodb, backend: dict):
        self.s3, self.dynamodb = s3, dynamodb
        self.bucket, self.table = backend["bucket"], backend["dynamodb_table"]

    def fingerprint(self) -> dict:
        """Every object version (id and ETag; a new write is a new version) and the
        SHA-256 of each key's current bytes."""
        versions = {}
        for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket):
            for version in page.get("Versions", []):
                entry = [version["ETag"]]
                if version["IsLatest"]:
                    body = self.s3.get_object(Bucket=self.bucket, Key=version["Key"],
                                              VersionId=version["VersionId"])["Body"].read()
                    entry.append(hashlib.sha256(body).hexdigest())
                versions[f"{version['Key']}@{version['VersionId']}"] = entry
            versions |= {f"{m['Key']}@{m['VersionId']}": ["delete marker"]
                         for m in page.get("DeleteMarkers", [])}
        items = self.dynamodb.scan(TableName=self.table)["Items"]
        return {"objects": versions,
                "lock_items": sorted(json.dumps(item, sort_keys=True) for item in items)}


# --- the drift module, as a user runs it ----------------------------------------------
def _drift(outdir: Path, work: Path, name: str, env: dict[str, str],
           state: _StateWatch | None, names: list[str]) -> DriftRun:
    report, results = work / f"{name}.md", work / f"{name}.json"
    before = state.fingerprint() if state else None
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "drift", "--outdir", str(outdir), "--stacks", ",".join(names),
         "--report", str(report),
         "--json", str(results), "--jobs", str(DRIFT_JOBS), "--logs", str(work / name)],
        cwd=REPO, env=env, text=True, capture_output=True, timeout=COMMAND_TIMEOUT)
    seconds = time.monotonic() - began
    (work / f"{name}.log").write_text(result.stdout + "\n" + result.stderr)
    stacks = json.loads(results.read_text())["stacks"] if results.exists() else []
    run = DriftRun(
        name=name, exit_code=result.returncode, seconds=round(seconds, 1),
        report_path=str(report), report=report.read_text() if report.exists() else "",
        statuses={s["stack"]: s["status"] for s in stacks},
        drifted={s["stack"]: {d["address"]: d["attributes"] for d in s["drifted"]}
                 for s in stacks if s["drifted"]},
        errors={s["stack"]: s["error"] for s in stacks if s["error"]},
        state_untouched=None if state is None else state.fingerprint() == before)
    if not stacks:
        run.errors["(run)"] = (result.stderr.strip().splitlines() or ["no output"])[-1]
    return run


# --- the cdktf CLI on the same deployment ---------------------------------------------
def _cdktf(command: str, stack: str, outdir: Path, env: dict[str, str], work: Path) -> CliRun:
    """`npx cdktf <command> <env>-<stack>` on the scratch output root, as the README runs
    it.

    Read from cdktf-cli 0.21.0 (node_modules/cdktf-cli/bundle/bin/cdktf.js and
    node_modules/@cdktf/cli-core/src/lib): `--output` names the output dir (default: cdktf.json's
    `output`); with `--skip-synth` the CLI reads `<output>/manifest.json` and runs terraform
    in each stack's `workingDirectory` from it, `<output>/<env>/stacks/<stack>`
    (synth-stack.js, readSynthesizedStacks), so the scratch dir's override files apply and
    no synth rewrites its JSON (cdktf-project.js: diff/deploy synthesize unless skipSynth).
    Terraform runs with the CLI's own environment (models/terraform-cli.js: `env:
    process.env`), so the harness's CLI config (provider mirror) and keys reach it; the
    CLI sets TF_PLUGIN_CACHE_DIR only when it is unset (cdktf.js). `init` runs without
    `-upgrade` while the lock file matches the pinned provider (cdktf-stack.js,
    checkNeedsUpgrade), and `--skip-provider-lock` stops `terraform providers lock`,
    which would ask the registry. `diff` runs `terraform plan -input=false -out plan`;
    `deploy` runs `terraform apply -auto-approve` (models/deploy-machine.js), taking the
    DynamoDB lock."""
    args = ["npx", "cdktf", command, stack, "--skip-synth", "--skip-provider-lock",
            "--output", str(outdir), "--no-color"]
    if command == "deploy":
        args.append("--auto-approve")
    result = subprocess.run(args, cwd=REPO, env=env | {"CHECKPOINT_DISABLE": "1"}, text=True,
                            capture_output=True, timeout=COMMAND_TIMEOUT)
    log = work / f"cdktf-{command}-{stack}.log"
    log.write_text(f"$ {' '.join(args)}  # exit {result.returncode}\n{result.stdout}\n"
                   f"{result.stderr}")
    text = ANSI.sub("", result.stdout + "\n" + result.stderr)
    lines = [line.strip() for line in text.splitlines()]
    return CliRun(" ".join(["npx", "cdktf", command, stack]), result.returncode,
                  [line for line in lines if KEY_LINES.search(line)], str(log))


# --- repairs and the unreachable state ------------------------------------------------
def _last_match(text: str, pattern: str) -> str:
    found = [line.strip() for line in text.splitlines() if re.search(pattern, line)]
    return found[-1] if found else ""


def _unreachable_copy(tf, root: Path, stack: str) -> Path:
    """An output dir with a copy of `stack` whose backend names a bucket that does not
    exist (its provider install kept: the lock file, no .terraform)."""
    target = root / "stacks" / stack
    shutil.copytree(tf.stack_dir(stack), target,
                    ignore=shutil.ignore_patterns(".terraform", "*.tfplan", "plan"))
    # The override holds the whole backend block (local_overrides.s3_backend_override).
    override = json.loads((target / BACKEND_OVERRIDE).read_text())
    override["terraform"]["backend"]["s3"]["bucket"] += "-missing"
    write_json(target / BACKEND_OVERRIDE, override)
    return root


def summary_lines(proof: DriftProof) -> list[str]:
    if proof.skipped:
        return [f"drift check: skipped ({proof.skipped})"]
    lines = [f"drift check (python -m drift as {proof.role}) in {proof.seconds:.0f} s:"]
    lines += [f"  - planted in {p.stack}: {p.what} ({p.address}.{p.attribute})"
              for p in proof.planted]
    for run in proof.runs:
        drifted = ", ".join(run.drifted) or "none"
        errors = ", ".join(f"{s}: {e}" for s, e in run.errors.items()) or "none"
        untouched = {None: "", True: "; state and lock table untouched",
                     False: "; STATE CHANGED"}[run.state_untouched]
        lines.append(f"  - {run.name}: exit {run.exit_code} in {run.seconds:.0f} s, drifted: "
                     f"{drifted}; errors: {errors}{untouched}")
    for cli in proof.cli:
        lines.append(f"  - {cli.command}: exit {cli.exit_code}: "
                     + " | ".join(cli.key_lines[-3:]))
    lines += [f"  - repaired {r['stack']}: {r['how']}: {r['result']}" for r in proof.repairs]
    return lines


def problems(proof: DriftProof) -> list[str]:
    """What went otherwise than steps 1-6 promise, one sentence each (empty: proven)."""
    if proof.skipped:
        return []
    found = []
    runs = {run.name: run for run in proof.runs}
    planted, repaired, unreachable = runs["planted"], runs["repaired"], runs["unreachable"]
    expected = {p.stack: {p.address} for p in proof.planted}
    if planted.exit_code != 2:
        found.append(f"the drift check exited {planted.exit_code} on the planted drift, not 2")
    if {s: set(a) for s, a in planted.drifted.items()} != expected:
        found.append(f"the drift check named {planted.drifted}, not the planted {expected}")
    for p in proof.planted:
        if p.attribute not in planted.drifted.get(p.stack, {}).get(p.address, []):
            found.append(f"the drift check did not name {p.address}.{p.attribute} ({p.stack})")
    for run in (planted, repaired):
        if run.state_untouched is not True:
            found.append(f"the {run.name} drift check changed the state or the lock table")
    if repaired.exit_code != 0 or set(repaired.statuses.values()) != {"in sync"}:
        found.append(f"after the repairs the drift check exited {repaired.exit_code}: "
                     f"{repaired.statuses}")
    if unreachable.exit_code != 1 or set(unreachable.statuses.values()) != {"error"}:
        found.append(f"the unreachable state gave exit {unreachable.exit_code}: "
                     f"{unreachable.statuses}")
    found += [f"{cli.command} exited {cli.exit_code} (log: {cli.log})"
              for cli in proof.cli if cli.exit_code != 0]
    return found
