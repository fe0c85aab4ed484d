"""Run checkov (framework terraform_json) over the synthesized stacks; its failed
checks become findings of the shared report (policies/report.py), so the
suppression file and the waivers constructs recorded excuse them as they do ours.

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
from pathlib import Path

from policies import suppressions as supp
from policies.finding import Finding
from policies.model import StackView
from policies.report import Report, build_report

# cdktf writes its JSON with two-space indentation: `"<name>": {` of a block sits at depth 3.
KEY_LINE = re.compile(r'^(?P<indent> *)"(?P<key>[^"]+)": [{\[]')


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


def run_checkov(outdir: Path) -> tuple[list[dict], int, list[str]]:
    """(failed records, number of passed checks, problems) from one checkov run over
    `<outdir>/stacks`."""
    stacks = outdir / "stacks"
    command = [checkov_executable(), "--framework", "terraform_json", "-d", str(stacks),
               "-o", "json", "--compact", "--quiet", "--skip-download"]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    done = subprocess.run(command, capture_output=True, text=True, env=env,
                          check=False)  # exit 1 just means failed checks
    try:
        parsed = json.loads(done.stdout)
    except ValueError:
        return [], 0, [(f"checkov exited {done.returncode} without JSON output: "
                         f"{done.stderr.strip()[-2000:]}")]
    runs = parsed if isinstance(parsed, list) else [parsed]
    failed, passed, problems = [], 0, []
    for run in runs:
        passed += (run.get("summary") or {}).get("passed", 0)
        errors = (run.get("summary") or {}).get("parsing_errors", 0)
        if errors:
            problems.append(f"checkov could not parse {errors} file(s): "
                            f"{(run.get('results') or {}).get('parsing_errors')}")
        failed.extend((run.get("results") or {}).get("failed_checks") or [])
    return failed, passed, problems


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


def scan(outdir: Path, suppression_file: Path = supp.DEFAULT_FILE) -> Report:
    """checkov's failed checks as findings in the shared report (waivers and
    suppressions applied as for our rules)."""
    outdir = Path(outdir)
    stacks, problems = StackView.load_output(outdir)
    found: list[Finding] = []
    passed = 0
    if stacks:
        with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
            scanned = scannable_copy(outdir, Path(tmp))
            records, passed, checkov_problems = run_checkov(scanned)
            found = findings(records, scanned)
            problems.extend(checkov_problems)
    return build_report("checkov", outdir, stacks, found, owns=supp.is_checkov_id,
                        suppression_file=suppression_file, problems=problems, passed=passed)


def findings(records: list[dict], scanned: Path) -> list[Finding]:
    """One finding per (check, resource), ordered by stack, address and check."""
    cache: dict[Path, dict[int, str]] = {}
    by_key: dict[tuple[str, str, str], Finding] = {}
    for record in records:
        relative = Path((record.get("file_path") or "").lstrip("/"))
        stack = relative.parts[0] if relative.parts else "?"
        address = resolve_address(record, scanned / "stacks" / relative, cache)
        finding = Finding(rule=record.get("check_id", "?"), stack=stack, address=address,
                          message=record.get("check_name", ""))
        by_key.setdefault((stack, address, finding.rule), finding)
    return [by_key[key] for key in sorted(by_key)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies.checkov_scan", description=__doc__)
    parser.add_argument("outdir", nargs="?", default="cdktf.out", type=Path)
    parser.add_argument("--suppressions", type=Path, default=supp.DEFAULT_FILE)
    args = parser.parse_args(argv)
    failed = False
    for number, outdir in enumerate(StackView.environment_outdirs(args.outdir)):
        report = scan(outdir, args.suppressions)
        print(("\n" if number else "") + report.render())
        failed = failed or report.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
