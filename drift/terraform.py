"""Terraform for the drift check: `init`, a plan that takes no state lock, the plan as JSON.

Each stack runs in its own directory of the output dir, as a person planning by hand
would (README, "Plan one stack by hand"): `terraform init -input=false` (no `-upgrade`:
the check uses the providers the lock file pins), then `terraform plan -input=false
-lock=false -detailed-exitcode -out <tmp>` and `terraform show -json <tmp>`. Inits run
one at a time (Terraform's plugin cache is not safe for concurrent installs); plans run
in parallel, they read the state and take no lock.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

COMMAND_TIMEOUT = 1200
"""Seconds one terraform command may take before the stack counts as an error."""

NO_CHANGES, ERRORED, CHANGES = 0, 1, 2
"""`terraform plan -detailed-exitcode`'s exit codes."""

_BOX = re.compile(r"^[\s│╷╵]*")
_ERROR = re.compile(r"^Error: ")


@dataclass(frozen=True)
class PlanRun:
    """What Terraform said about one stack."""

    stack: str
    plan: dict | None
    """`terraform show -json` of the plan; None when a step failed."""
    exit_code: int
    """The plan's detailed exit code, or the failing step's exit code."""
    failed_step: str | None = None
    """'init', 'plan' or 'show' when one failed."""
    error: str | None = None
    """The first error line of the failing step's output."""
    seconds: float = 0.0


def first_error_line(output: str) -> str | None:
    """Terraform's first `Error: ...` line (without its box drawing), else its first
    non-empty line; None for empty output."""
    lines = [_BOX.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    return next((line for line in lines if _ERROR.match(line)), lines[0] if lines else None)


class Terraform:
    """Runs the three steps in `stack_dir(stack)`; `env` is the whole environment."""

    def __init__(self, env: dict[str, str] | None = None, logs: Path | None = None):
        base = dict(os.environ if env is None else env)
        # Never prompt, and keep the output free of "run terraform apply" advice.
        self.env = base | {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
        self.logs = logs
        self._init_lock = threading.Lock()
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)

    def check(self, stack: str, workdir: Path, scratch: Path) -> PlanRun:
        """init, plan and show of the stack in `workdir`; the plan file lives in
        `scratch` (a private temporary dir) and is deleted at once after `show`."""
        began = time.monotonic()
        plan_file = scratch / f"{stack}.tfplan"

        def failed(step: str, result: subprocess.CompletedProcess) -> PlanRun:
            line = first_error_line(result.stderr) or first_error_line(result.stdout)
            return PlanRun(stack, None, result.returncode, step,
                           line or f"terraform {step} exited {result.returncode}",
                           time.monotonic() - began)

        with self._init_lock:
            init = self._run(stack, workdir, "init", "-input=false", "-no-color")
        if init.returncode != 0:
            return failed("init", init)
        plan = self._run(stack, workdir, "plan", "-input=false", "-lock=false",
                         "-detailed-exitcode", "-no-color", f"-out={plan_file}")
        if plan.returncode not in (NO_CHANGES, CHANGES):
            plan_file.unlink(missing_ok=True)
            return failed("plan", plan)
        try:
            # The JSON holds sensitive values in clear: never logged, never kept.
            show = self._run(stack, workdir, "show", "-json", "-no-color", str(plan_file),
                             log_stdout=False)
        finally:
            plan_file.unlink(missing_ok=True)
        if show.returncode != 0:
            return failed("show", show)
        return PlanRun(stack, json.loads(show.stdout), plan.returncode,
                       seconds=time.monotonic() - began)

    def providers_schema(self, workdir: Path) -> dict | None:
        """`terraform providers schema -json` in an initialized stack dir (None if it fails)."""
        result = self._run(workdir.name, workdir, "providers", "schema", "-json",
                           log_stdout=False)
        return json.loads(result.stdout) if result.returncode == 0 else None

    def _run(self, stack: str, workdir: Path, *args: str,
             log_stdout: bool = True) -> subprocess.CompletedProcess:
        command = ["terraform", *args]
        began = time.monotonic()
        try:
            result = subprocess.run(command, cwd=workdir, env=self.env, text=True,
                                    capture_output=True, timeout=COMMAND_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            result = subprocess.CompletedProcess(
                command, ERRORED, "", f"Error: terraform {args[0]} did not finish in "
                                      f"{COMMAND_TIMEOUT} s")
        if self.logs is not None:
            stdout = result.stdout if log_stdout else f"({len(result.stdout)} characters)"
            (self.logs / f"{stack}-{args[0]}.log").write_text(
                f"$ {' '.join(command)}  # in {workdir}, {time.monotonic() - began:.1f} s, "
                f"exit {result.returncode}\n{stdout}\n{result.stderr}")
        return result
