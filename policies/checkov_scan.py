"""Run checkov (framework terraform_json) over the synthesized stacks; apply the
suppression file and the waivers constructs recorded.

Run: `python -m policies.checkov_scan [OUTDIR]`; exit 1 on any unexcused failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from policies import suppressions as supp

# cdktf writes its JSON with two-space indentation: `"<name>": {` of a block sits at depth 3.
KEY_LINE = re.compile(r'^(?P<indent> *)"(?P<key>[^"]+)": [{\[]')


@dataclass(frozen=True)
class CheckovFailure:
    check_id: str
    check_name: str
    stack: str
    address: str
    reason: str = ""

    @property
    def resource(self) -> str:
        return f"{self.stack}/{self.address}"

    def line(self) -> str:
        return f"{self.check_id} {self.resource}: {self.check_name}"


@dataclass
class CheckovReport:
    outdir: Path
    passed: int = 0
    failures: list[CheckovFailure] = field(default_factory=list)
    suppressed: list[CheckovFailure] = field(default_factory=list)
    waived: list[CheckovFailure] = field(default_factory=list)
    stale: list[supp.Suppression] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.failures or self.problems)

    def render(self) -> str:
        lines = [(f"checkov report for {self.outdir}: {self.passed} passed, "
                  f"{len(self.failures)} failed, {len(self.suppressed)} suppressed, "
                  f"{len(self.waived)} waived")]
        if self.failures:
            lines.append("Failed checks (fix them, or suppress with a reason in "
                         "policies/suppressions.yaml):")
            lines.extend(f"  {f.line()}" for f in self.failures)
        if self.suppressed:
            lines.append("Suppressed (policies/suppressions.yaml):")
            for f in self.suppressed:
                lines.append(f"  {f.line()}")
                lines.append(f"      reason: {f.reason}")
        if self.waived:
            lines.append("Waived by the construct that made the resource (a named argument):")
            for f in self.waived:
                lines.append(f"  {f.line()}")
                lines.append(f"      reason: {f.reason}")
        if self.stale:
            lines.append("Stale checkov suppressions (match no failure; remove them) [warning]:")
            lines.extend(f"  entry {s.line}: {s.describe()}" for s in self.stale)
        if self.problems:
            lines.append("Problems:")
            lines.extend(f"  {p}" for p in self.problems)
        lines.append("FAILED" if self.failed else "PASSED: no unexcused checkov failures")
        return "\n".join(lines)


def checkov_executable() -> str:
    """The checkov next to this interpreter (the pinned one in .venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "checkov"
    if beside.exists():
        return str(beside)
    found = shutil.which("checkov")
    if found is None:
        raise FileNotFoundError("checkov not found; install requirements-dev.txt into .venv")
    return found


def block_starts(path: Path) -> dict[int, str]:
    """Start line -> address (`type.name` / `data.type.name`) of each resource and data block."""
    starts: dict[int, str] = {}
    keys: list[tuple[int, str]] = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        match = KEY_LINE.match(text)
        if not match:
            continue
        depth = len(match["indent"])
        keys = [(d, k) for d, k in keys if d < depth]
        keys.append((depth, match["key"]))
        if len(keys) == 3 and keys[0][1] in ("resource", "data"):
            prefix = "data." if keys[0][1] == "data" else ""
            starts[number] = f"{prefix}{keys[1][1]}.{keys[2][1]}"
    return starts


def resolve_address(record: dict, stack_file: Path, cache: dict[Path, dict[int, str]]) -> str:
    """The `type.name` address of a checkov record.

    checkov 3.1.47's terraform_json runner names resource-check records
    `resource.<name>` (the type is lost); the block's start line gives it back.
    """
    resource = record.get("resource") or ""
    parts = resource.split(".")
    if len(parts) != 2 or parts[0] not in ("resource", "data"):
        return resource
    if stack_file not in cache:
        cache[stack_file] = block_starts(stack_file) if stack_file.exists() else {}
    start = (record.get("file_line_range") or [0])[0]
    return cache[stack_file].get(start, resource)


def run_checkov(outdir: Path) -> tuple[list[dict], dict, list[str]]:
    """(failed records, summary, problems) from one checkov run over `<outdir>/stacks`."""
    stacks = outdir / "stacks"
    if not stacks.is_dir():
        return [], {}, [f"no stacks found under {stacks} (run the synth first)"]
    command = [checkov_executable(), "--framework", "terraform_json", "-d", str(stacks),
               "-o", "json", "--compact", "--quiet", "--skip-download"]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run(command, capture_output=True, text=True, env=env,
                          check=False)  # exit 1 just means failed checks
    try:
        parsed = json.loads(done.stdout)
    except ValueError:
        return [], {}, [(f"checkov exited {done.returncode} without JSON output: "
                         f"{done.stderr.strip()[-2000:]}")]
    runs = parsed if isinstance(parsed, list) else [parsed]
    failed, summary, problems = [], {"passed": 0}, []
    for run in runs:
        summary["passed"] += (run.get("summary") or {}).get("passed", 0)
        errors = (run.get("summary") or {}).get("parsing_errors", 0)
        if errors:
            problems.append(f"checkov could not parse {errors} file(s): "
                            f"{(run.get('results') or {}).get('parsing_errors')}")
        failed.extend((run.get("results") or {}).get("failed_checks") or [])
    return failed, summary, problems


def waiver_reason(outdir: Path, failure: CheckovFailure, cache: dict[str, dict]) -> str | None:
    """The reason a construct recorded for weakening `failure.check_id` on the
    resource (see constructs_lib/waivers.py), or None."""
    if failure.stack not in cache:
        path = outdir / "stacks" / failure.stack / "cdk.tf.json"
        cache[failure.stack] = json.loads(path.read_text()) if path.exists() else {}
    kind, _, name = failure.address.rpartition(".")
    section = "data" if kind.startswith("data.") else "resource"
    block = cache[failure.stack].get(section, {}).get(kind.removeprefix("data."), {}).get(name, {})
    return ((block.get("//") or {}).get("waivers") or {}).get(failure.check_id)


def scannable_copy(outdir: Path, dest: Path) -> Path:
    """A copy of the stacks that checkov 3.1.47 can parse.

    Its terraform_json parser crashes ("this method receives only dicts") on a
    string attribute of the `terraform` block, i.e. `required_version`; nothing
    checkov checks lives there, so the copy leaves it out.
    """
    for stack_file in sorted((outdir / "stacks").glob("*/cdk.tf.json")):
        document = json.loads(stack_file.read_text())
        document.get("terraform", {}).pop("required_version", None)
        target = dest / "stacks" / stack_file.parent.name / stack_file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, indent=2) + "\n")
    return dest


def scan(outdir: Path, suppression_file: Path = supp.DEFAULT_FILE) -> CheckovReport:
    outdir = Path(outdir)
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        return _scan(outdir, scannable_copy(outdir, Path(tmp)), suppression_file)


def _scan(outdir: Path, scanned: Path, suppression_file: Path) -> CheckovReport:
    report = CheckovReport(outdir=outdir)
    entries, report.problems = supp.load(suppression_file)
    entries = [e for e in entries if e.is_checkov]
    if not (outdir / "stacks").is_dir():
        report.problems.append(f"no stacks found under {outdir / 'stacks'} (run the synth first)")
        return report
    records, summary, problems = run_checkov(scanned)
    report.problems.extend(problems)
    report.passed = summary.get("passed", 0)
    cache: dict[Path, dict[int, str]] = {}
    used: set[int] = set()
    seen: set[tuple[str, str]] = set()
    stacks_json: dict[str, dict] = {}
    for record in records:
        relative = Path((record.get("file_path") or "").lstrip("/"))
        stack = relative.parts[0] if relative.parts else "?"
        address = resolve_address(record, scanned / "stacks" / relative, cache)
        failure = CheckovFailure(check_id=record.get("check_id", "?"),
                                 check_name=record.get("check_name", ""), stack=stack,
                                 address=address)
        if (failure.check_id, failure.resource) in seen:
            continue
        seen.add((failure.check_id, failure.resource))
        reason = waiver_reason(outdir, failure, stacks_json)
        entry = next((e for e in entries if e.matches(failure.check_id, failure.resource)), None)
        if reason is not None:
            report.waived.append(CheckovFailure(**{**failure.__dict__, "reason": reason}))
        elif entry is None:
            report.failures.append(failure)
        else:
            used.add(entry.line)
            report.suppressed.append(CheckovFailure(**{**failure.__dict__, "reason": entry.reason}))
    def key(f: CheckovFailure) -> tuple[str, str, str]:
        return (f.stack, f.address, f.check_id)

    report.failures.sort(key=key)
    report.suppressed.sort(key=key)
    report.waived.sort(key=key)
    report.stale = [e for e in entries if e.line not in used]
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.checkov_scan", description=__doc__)
    parser.add_argument("outdir", nargs="?", default="cdktf.out", type=Path)
    parser.add_argument("--suppressions", type=Path, default=supp.DEFAULT_FILE)
    args = parser.parse_args(argv)
    report = scan(args.outdir, args.suppressions)
    print(report.render())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
