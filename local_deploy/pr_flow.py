"""A pull request played the way Atlantis v0.47.1 plays it: the committed atlantis.yaml
judged against the server-side config the atlantis stack deploys, projects chosen by
`when_modified`, their workflow steps run group by group, and one summary per project
in the form the PR comment takes. `make pr-flow` runs it on moto (local_deploy/deploy_local.py).

Read from runatlantis/atlantis at v0.47.1:
- project selection: `DetermineProjectsViaConfig` (server/events/project_finder.go),
  patterns relative to the project dir, matched like moby's patternmatcher
  (`MatchesOrParentMatches`, `!` excludes);
- order: execution order groups one after the other, the projects of a group in
  parallel with parallel_plan/parallel_apply, later groups skipped after a failure with
  abort_on_execution_order_fail (server/events/project_command_pool_executor.go);
- apply: every planned project, a project refused while a `depends_on` of this PR is
  neither applied nor planned without changes (`ValidateProjectDependencies`,
  server/events/command_requirement_handler.go), the pull status updated between
  groups (PR #6102, the fix of #5791);
- steps (server/core/runtime): `init` deletes a lock file git does not track and runs
  `init -input=false -upgrade` (init_step_runner.go); `plan` runs
  `plan -input=false -refresh -out <planfile>` (plan_step_runner.go); `apply` runs
  `apply -input=false <planfile>` (apply_step_runner.go); `env` sets a variable for the
  later steps (env_step_runner.go); `run` runs a shell command with the project's
  variables (run_step_runner.go); plan files are `<project>-<workspace>.tfplan`
  (runtime.go); terraform runs with TF_IN_AUTOMATION=true (terraform_client.go).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from local_deploy.atlantis_merge import id_matches, validate_repo_cfg

DEFAULT_WORKFLOW = {"plan": {"steps": ["init", "plan"]}, "apply": {"steps": ["apply"]}}
"""Atlantis' built-in `default` workflow."""
PLAN_COUNTS = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
APPLY_COUNTS = re.compile(r"Apply complete! Resources: (\d+) added, (\d+) changed, (\d+) destroyed")
COMMAND_TIMEOUT = 1200


PLUGIN_CACHE_INIT = threading.Lock()
"""One `init` at a time across every PR this process plays. Atlantis v0.47.1 runs the
init steps of concurrent PRs at once against its shared plugin cache, which Terraform
does not make safe for concurrent installs (hashicorp/terraform#31964): on a real server
two PRs planning at once can fail with "Failed to install provider" and are planned
again (runatlantis/atlantis#2242; serialized inits are proposed in #6799). The local
deploy plays two environments' PRs at once and must not fail by chance, so here they
wait for each other's init (a few seconds each)."""


class AtlantisError(Exception):
    """What Atlantis would comment instead of running anything."""


@dataclass(frozen=True)
class Project:
    name: str
    dir: str
    workspace: str
    group: int
    depends_on: tuple[str, ...]
    workflow: str | None
    when_modified: tuple[str, ...]

    @classmethod
    def from_cfg(cls, body: dict) -> Project:
        autoplan = body.get("autoplan") or {}
        return cls(name=body["name"], dir=body["dir"], workspace=body.get("workspace", "default"),
                   group=body.get("execution_order_group", 0),
                   depends_on=tuple(body.get("depends_on") or ()),
                   workflow=body.get("workflow"),
                   when_modified=tuple(autoplan.get("when_modified") or ("**/*.tf*",)))

    @property
    def plan_file(self) -> str:
        return f"{self.name.replace('/', '::')}-{self.workspace}.tfplan"


@dataclass
class ProjectResult:
    project: str
    command: str
    """'plan' or 'apply'."""
    status: str
    """'planned', 'no changes', 'applied', 'error' or 'skipped'."""
    summary: str
    add: int = 0
    change: int = 0
    destroy: int = 0
    seconds: float = 0.0
    log: str = ""
    """The log of the step that failed, if one did."""


def _pattern(pattern: str) -> re.Pattern[str]:
    """A patternmatcher pattern as a regex: `*` and `?` stay within a path element,
    `**` crosses them."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out.append("/?")
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def when_modified_matches(project: Project, changed_files: list[str]) -> bool:
    """Whether a changed file (repo-relative) matches the project's patterns, each
    relative to the project dir; a later `!pattern` excludes again."""
    rules = []
    for raw in project.when_modified:
        pattern = raw.strip()
        exclude = pattern.startswith("!")
        pattern = pattern[1:] if exclude else pattern
        rules.append((exclude, _pattern(str(Path(project.dir) / pattern))))
    for changed in changed_files:
        candidates = [changed, *[str(p) for p in Path(changed).parents if str(p) != "."]]
        matched = False
        for exclude, regex in rules:
            if any(regex.match(c) for c in candidates):
                matched = not exclude
        if matched:
            return True
    return False


@dataclass
class PullRequestRun:
    """One PR: its pull status lives as long as the object."""

    repo_cfg: dict
    server_cfg: dict
    repo_id: str
    project_dir: Callable[[Project], Path]
    """Where a project's `dir` is checked out."""
    env: dict[str, str]
    """The server's environment (credentials come from the workflow's steps)."""
    logs: Path
    status: dict[str, str] = field(default_factory=dict)
    """Project -> its last plan or apply status (Atlantis' pull status)."""

    def __post_init__(self) -> None:
        error = validate_repo_cfg(self.repo_cfg, self.server_cfg, self.repo_id)
        if error:
            # Posted by plan_command_runner.go as the PR's plan result.
            raise AtlantisError(f"Plan Error: parsing atlantis.yaml: {error}")
        self.projects = {p["name"]: Project.from_cfg(p) for p in self.repo_cfg["projects"]}
        self.logs.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._lock = threading.Lock()

    # --- commands ---------------------------------------------------------------------
    def autoplan(self, changed_files: list[str]) -> list[ProjectResult]:
        """What a push with these changed files plans (every matching project)."""
        names = [p.name for p in self.projects.values()
                 if when_modified_matches(p, changed_files)]
        return self.plan(names)

    def plan(self, names: list[str]) -> list[ProjectResult]:
        """`atlantis plan` of these projects (`-p` each)."""
        return self._run_groups(names, "plan", self.repo_cfg.get("parallel_plan", False))

    def apply(self, names: list[str] | None = None) -> list[ProjectResult]:
        """`atlantis apply` (every planned project), or `atlantis apply -p` each of `names`."""
        planned = [n for n, s in self.status.items() if s == "planned"]
        chosen = planned if names is None else [n for n in names if n in planned]
        return self._run_groups(chosen, "apply", self.repo_cfg.get("parallel_apply", False))

    def apply_with_profile(self, name: str, profile: str) -> ProjectResult:
        """The apply stage of a planned project with its workflow's AWS_PROFILE replaced by
        `profile` (what a workflow edited to apply with the plan role would do); the pull
        status is left as it was."""
        return self._run_stage(self.projects[name], "apply", profile=profile)

    # --- order ------------------------------------------------------------------------
    def _run_groups(self, names: list[str], command: str, parallel: bool) -> list[ProjectResult]:
        projects = [self.projects[n] for n in names]
        groups = sorted({p.group for p in projects})
        abort = self.repo_cfg.get("abort_on_execution_order_fail", False)
        results: list[ProjectResult] = []
        failed = False
        for group in groups:
            members = [p for p in projects if p.group == group]
            if failed and abort:
                results += [ProjectResult(p.name, command, "skipped",
                                          "not run: an earlier execution order group failed")
                            for p in members]
                continue
            run = self._apply_project if command == "apply" else self._plan_project
            if parallel and len(members) > 1:
                with ThreadPoolExecutor(max_workers=len(members)) as pool:
                    group_results = list(pool.map(run, members))
            else:
                group_results = [run(p) for p in members]
            for result in group_results:
                self.status[result.project] = result.status
            failed = failed or any(r.status == "error" for r in group_results)
            results += group_results
        return results

    def _plan_project(self, project: Project) -> ProjectResult:
        return self._run_stage(project, "plan")

    def _apply_project(self, project: Project) -> ProjectResult:
        for dependency in project.depends_on:
            state = self.status.get(dependency)
            if state is not None and state not in ("applied", "no changes"):
                return ProjectResult(project.name, "apply", "error",
                                     "Can't apply your project unless you apply its "
                                     f"dependencies: [{dependency}]")
        return self._run_stage(project, "apply")

    # --- steps ------------------------------------------------------------------------
    def workflow(self, project: Project) -> dict:
        name = project.workflow
        if name is None:
            for repo in self.server_cfg.get("repos", []):
                if id_matches(repo, self.repo_id) and repo.get("workflow"):
                    name = repo["workflow"]
        if name is None or name == "default":
            return self.server_cfg.get("workflows", {}).get("default", DEFAULT_WORKFLOW)
        return self.server_cfg["workflows"][name]

    def _run_stage(self, project: Project, command: str,
                   profile: str | None = None) -> ProjectResult:
        began = time.monotonic()
        directory = self.project_dir(project)
        env = {**self.env, "TF_IN_AUTOMATION": "true", "WORKSPACE": project.workspace,
               "DIR": str(directory), "PROJECT_NAME": project.name,
               "REPO_REL_DIR": project.dir, "PLANFILE": str(directory / project.plan_file)}
        output = ""
        try:
            for step in self.workflow(project)[command]["steps"]:
                output = self._step(project, directory, step, env)
                if profile is not None and "AWS_PROFILE" in env:
                    env["AWS_PROFILE"] = profile
        except StepError as error:
            return ProjectResult(project.name, command, "error", error.first_line,
                                 seconds=time.monotonic() - began, log=str(error.log or ""))
        result = ProjectResult(project.name, command, "", "", seconds=time.monotonic() - began)
        if command == "plan":
            counts = PLAN_COUNTS.search(output)
            if counts is None or "No changes." in output:
                result.status, result.summary = "no changes", "No changes."
            else:
                result.add, result.change, result.destroy = map(int, counts.groups())
                result.status, result.summary = "planned", counts.group(0) + "."
        else:
            counts = APPLY_COUNTS.search(output)
            if counts:
                result.add, result.change, result.destroy = map(int, counts.groups())
            result.status = "applied"
            result.summary = counts.group(0) if counts else "Apply complete!"
        return result

    def _step(self, project: Project, directory: Path, step: object, env: dict[str, str]) -> str:
        if step == "init":
            lock = directory / ".terraform.lock.hcl"
            lock.unlink(missing_ok=True)  # not tracked by git: Atlantis deletes it
            with PLUGIN_CACHE_INIT:
                return self._terraform(project, directory, env, "init", "-input=false",
                                       "-upgrade")
        if step == "plan":
            return self._terraform(project, directory, env, "plan", "-input=false", "-refresh",
                                   "-out", project.plan_file)
        if step == "apply":
            return self._terraform(project, directory, env, "apply", "-input=false",
                                   project.plan_file)
        if isinstance(step, dict) and "env" in step:
            # env_step_runner.go: `value` when set, else the output of `command` (run
            # like a `run` step, with the project's variables), trailing newline trimmed.
            spec = step["env"]
            if spec.get("value"):
                env[spec["name"]] = spec["value"]
            else:
                output = self._execute(project, directory, env, ["sh", "-c", spec["command"]],
                                       "env")
                env[spec["name"]] = output.removesuffix("\n")
            return ""
        if isinstance(step, dict) and "run" in step:
            run = step["run"]
            command = run["command"] if isinstance(run, dict) else run
            return self._execute(project, directory, env, ["sh", "-c", command], "run")
        raise StepError(f"step {step!r} is not one this harness knows")

    def _terraform(self, project: Project, directory: Path, env: dict[str, str],
                   *args: str) -> str:
        return self._execute(project, directory, env, ["terraform", *args, "-no-color"], args[0])

    def _execute(self, project: Project, directory: Path, env: dict[str, str],
                 command: list[str], label: str) -> str:
        with self._lock:
            self._count += 1
            log = self.logs / f"{self._count:03d}-{project.name}-{label}.log"
        began = time.monotonic()
        result = subprocess.run(command, cwd=directory, env=env, text=True, capture_output=True,
                                timeout=COMMAND_TIMEOUT)
        log.write_text(f"$ {' '.join(command)}  # {time.monotonic() - began:.1f} s, exit "
                       f"{result.returncode}\n{result.stdout}\n{result.stderr}")
        if result.returncode != 0:
            raise StepError(result.stderr.strip() or result.stdout.strip(), log)
        return result.stdout


class StepError(Exception):
    def __init__(self, output: str, log: Path | None = None):
        super().__init__(output)
        self.output, self.log = output, log

    @property
    def first_line(self) -> str:
        lines = [line.strip(" │╷╵") for line in self.output.splitlines()]
        errors = [line for line in lines if line.startswith("Error:")]
        first = errors[0] if errors else next((line for line in lines if line), "failed")
        return f"{first} (log: {self.log})" if self.log else first


# --- the PR that changes every stack -------------------------------------------------
REPO = Path(__file__).resolve().parent.parent
SCRATCH_IGNORE = (".venv", "node_modules", ".git", "__pycache__", ".pytest_cache", ".ruff_cache",
                  "build", ".synth-*")
# Every stack publishes SSM contracts, so a word added to their descriptions is a
# change in all 11 that AWS applies in place (a PutParameter each).
EVERY_STACK_CHANGE = ('            description=description,\n',
                      '            description=f"{description} (reviewed)",\n')


def synthesize_every_stack_change(root: Path) -> Path:
    """The synth output of a scratch copy of the repository whose change touches every
    stack (the SSM contract descriptions); returns its outdir."""
    copy = root / "repo"
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(*SCRATCH_IGNORE))
    base = copy / "stacks" / "base.py"
    old, new = EVERY_STACK_CHANGE
    text = base.read_text()
    if old not in text:
        raise SystemExit(f"pr-flow: the planted change no longer applies to stacks/base.py "
                         f"({old.strip()!r} not found)")
    base.write_text(text.replace(old, new))
    result = subprocess.run([sys.executable, "main.py", "--outdir", str(root / "out"),
                             "--skip-policies"], cwd=copy, text=True, capture_output=True,
                            timeout=COMMAND_TIMEOUT)
    if result.returncode != 0:
        raise SystemExit(f"pr-flow: the synth of the planted change failed\n{result.stderr}")
    return root / "out"
