"""Synthesize the app, run the governance rules on the result, and publish it.

Used by main.py (so `npx cdktf synth` behaves like `make synth`). The output is
built in a temporary directory beside the target; the address ledger compares it
with the committed cdktf.out/ and the governance rules check it, and only when
both passed does it reach the target. With `--publish` (what `make synth` passes)
it replaces `cdktf.out/` and the generated files: a failed synth leaves them
byte-identical.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

import fast_synth
from constructs_lib.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "cdktf.out"
"""The committed output: what the address ledger compares a new synth with."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="synth", description=__doc__)
    parser.add_argument("--env", default=os.environ.get("CDKTF_ENVIRONMENT", "prod"))
    parser.add_argument("--outdir", default=os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    parser.add_argument("--publish", action="store_true",
                        help="build in a temporary directory and replace the outdir and "
                             "generated files only when everything passed")
    parser.add_argument("--bootstrap-backend", choices=("s3", "local"),
                        default=os.environ.get("CDKTF_BOOTSTRAP_BACKEND", "s3"))
    parser.add_argument("--generated-to", metavar="DIR",
                        help="write the generated files (atlantis.yaml, README.md) under DIR "
                             "instead of the repository (freshness checks)")
    parser.add_argument("--skip-policies", action="store_true",
                        help="do not run the governance rules (tests that need raw output)")
    return parser.parse_args(argv)


def run(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        code = synthesize(args)
    except ConfigError as error:
        print(f"synth failed, nothing was written. {error}", file=sys.stderr)
        if os.environ.get("CDKTF_DEBUG"):
            traceback.print_exc()
        code = 1
    fast_synth.exit_now(code)
    return code  # only reached when fast exit is off


def synthesize(args: argparse.Namespace) -> int:
    from environments import load_environment

    settings = load_environment(args.env)
    fast_synth.enable()
    from stacks.app import build_app
    from synth.address_ledger import check as ledger_check
    from synth.generated import generated_files

    target = Path(args.outdir).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    # Always built aside: the address ledger and the policies judge the whole
    # output before any of it reaches the target.
    with tempfile.TemporaryDirectory(prefix=".synth-", dir=target.parent) as tmp:
        staged = Path(tmp) / "out"
        app, graph = build_app(settings, str(staged), bootstrap_backend=args.bootstrap_backend)
        app.synth()
        ledger = ledger_check(BASELINE, staged)
        if ledger.failures:
            print(f"synth failed, nothing was written: {ledger.failure_text()}",
                  file=sys.stderr)
            return 1
        if not args.skip_policies and _check(staged) != 0:
            print(f"synth failed: governance findings above; {args.outdir} was not changed.",
                  file=sys.stderr)
            return 1
        generated = (generated_files(graph, staged, settings)
                     if args.publish or args.generated_to else {})
        if args.publish:
            _replace_dir(staged, target, Path(tmp) / "old")
            for path, content in generated.items():
                _replace_file(path, content)
        else:
            # In place, as cdktf writes: a stack directory may hold a local state
            # (bootstrap's first apply) or a `.terraform` of `cdktf diff`.
            shutil.copytree(staged, target, dirs_exist_ok=True)
            if args.generated_to:
                for path, content in generated.items():
                    copy = Path(args.generated_to) / path.relative_to(REPO)
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    copy.write_text(content)
    print(ledger.summary())
    if args.publish:
        print(f"synthesized {len(_stack_names(target))} stacks into {args.outdir}; "
              "governance rules passed")
    return 0


def _stack_names(outdir: Path) -> list[str]:
    stacks = outdir / "stacks"
    return sorted(p.name for p in stacks.iterdir()) if stacks.is_dir() else []


def _check(outdir: Path) -> int:
    from policies.runner import check_output

    report = check_output(outdir)
    if report.failed:
        print(report.render(), file=sys.stderr)
        return 1
    return 0


def _replace_dir(staged: Path, target: Path, old: Path) -> None:
    # Two renames on one filesystem: the window without a target is tiny and
    # a failure before it leaves the old output in place.
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)


def _replace_file(path: Path, content: str) -> None:
    if path.exists() and path.read_text() == content:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(content)
    os.replace(tmp, path)
