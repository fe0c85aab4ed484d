"""`python -m drift`: plan every stack of an environment output dir without the state
lock, print a table, write a Markdown report; exit 0 in sync, 2 on drift, 1 on error.

Exit 1 also wins when some stacks drifted and others could not be checked (the report
still names the drifted ones), and a usage error exits 1 too, so 2 always means drift.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from drift import classify, lifecycle, outdir, report
from drift.schema import SchemaOnce
from drift.terraform import Terraform

DEFAULT_JOBS = 4
"""Plans at once: each is a terraform process and a provider plugin (~300 MB), mostly
waiting on the AWS APIs."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2, which here means drift
        self.print_usage(sys.stderr)
        self.exit(report.EXIT_ERROR, f"{self.prog}: error: {message}\n")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(prog="python -m drift", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--environment", metavar="ENV",
                       help=f"check {outdir.OUTPUT_ROOT}/ENV, the output of one environment "
                            "(with credentials of that environment's account)")
    where.add_argument("--outdir", type=Path,
                       help="an environment output dir holding stacks/<stack>/cdk.tf.json")
    parser.add_argument("--stacks", help="comma-separated subset (default: every stack "
                        "of the output dir), checked in deploy order")
    parser.add_argument("--report", type=Path, help="write the Markdown report here")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS,
                        help=f"plans run at once (default: {DEFAULT_JOBS})")
    parser.add_argument("--json", type=Path, help="also write the results as JSON (for "
                        "programs: statuses, drifted addresses and attributes, errors)")
    parser.add_argument("--logs", type=Path, help="keep each terraform command's output "
                        "here (never the plan JSON, which holds sensitive values in clear)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, not {args.jobs}")
    return args


def check(root: Path, names: list[str], jobs: int,
          logs: Path | None = None) -> list[classify.StackDrift]:
    """Each stack of `root` planned and classified, in the order of `names`."""
    terraform = Terraform(logs=logs)
    schema = SchemaOnce(terraform.providers_schema)

    def one(name: str) -> classify.StackDrift:
        workdir = outdir.stack_dir(root, name)
        run = terraform.check(name, workdir, scratch)
        read_only = schema.get(workdir) if run.plan is not None else {}
        result = classify.classify(run, lifecycle.ignored_attributes(workdir), read_only)
        print(f"{name}: {result.status} ({result.seconds:.1f} s)", file=sys.stderr, flush=True)
        return result

    with tempfile.TemporaryDirectory(prefix="drift-") as private, \
            ThreadPoolExecutor(max_workers=jobs) as pool:
        scratch = Path(private)
        return list(pool.map(one, names))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.environment is not None:
            args.outdir = outdir.environment_outdir(args.environment)
        names = outdir.select(outdir.stacks_in(args.outdir, outdir.deploy_order()), args.stacks)
    except ValueError as problem:
        print(f"drift: {problem}", file=sys.stderr)
        return report.EXIT_ERROR
    results = check(args.outdir, names, args.jobs, args.logs)
    print(report.table(results))
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(report.markdown(results, str(args.outdir)))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_json(results), indent=2) + "\n")
    return report.exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
