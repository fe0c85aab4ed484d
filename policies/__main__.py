"""CLI: `python -m policies [OUTDIR] [--pack NAME ...] [--checkov]` prints the report of
each environment's output (OUTDIR is the output root or one environment's dir); exit 1 on
findings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from policies import suppressions as supp
from policies.model import StackView
from policies.packs import PACKS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policies", description=__doc__)
    parser.add_argument("outdir", nargs="?", default="cdktf.out", type=Path,
                        help="synth output root (default: cdktf.out; every environment in it) "
                             "or one environment's output dir")
    parser.add_argument("--pack", action="append", choices=sorted(PACKS),
                        help="rule pack to run (repeatable; default: all)")
    parser.add_argument("--checkov", action="store_true",
                        help="also run checkov over the output (framework terraform_json)")
    parser.add_argument("--suppressions", type=Path, default=supp.DEFAULT_FILE)
    args = parser.parse_args(argv)

    from policies.runner import check_output

    rules = tuple(dict.fromkeys(r for name in (args.pack or ["all"]) for r in PACKS[name]))
    failed = False
    for number, outdir in enumerate(StackView.environment_outdirs(args.outdir)):
        report = check_output(outdir, rules, suppression_file=args.suppressions)
        print(("\n" if number else "") + report.render())
        failed = failed or report.failed
        if args.checkov:
            from policies.checkov_scan import scan

            checkov = scan(outdir, args.suppressions)
            print()
            print(checkov.render())
            failed = failed or checkov.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
