"""`python -m cost [OUTDIR]` (`make cost`): the monthly estimate of one environment's
synthesized output (default: the committed cdktf.out) next to the reference table.

`python -m cost diff BASE_OUTDIR PR_OUTDIR [--markdown]`: the monthly cost change
between two outputs, per stack; CI posts the Markdown as a pull-request comment.
Both outputs are priced with this checkout's sheets and the usage assumptions of
the PR output's environment."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from constructs_lib.errors import ConfigError
from cost import diff, report
from cost.environment_output import EnvironmentOutput
from cost.estimate import Estimate, estimate
from environments import ENVIRONMENTS, Settings, load_environment

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTDIR = REPO / "cdktf.out"
"""The committed output `make synth` writes."""


def settings_of(output: EnvironmentOutput) -> Settings:
    name = output.environment
    if name not in ENVIRONMENTS:
        raise ConfigError([f"{output.outdir}: its stacks' Environment tag is {name!r}; allowed "
                           f"are the known environments {', '.join(ENVIRONMENTS)} (their "
                           "settings hold the usage assumptions)."])
    return load_environment(name)


def estimate_of(outdir: Path, settings: Settings | None = None) -> Estimate:
    output = EnvironmentOutput.load(outdir)
    return estimate(output, (settings or settings_of(output)).cost)


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["diff"]:
            parser = argparse.ArgumentParser(prog="python -m cost diff", description=__doc__)
            parser.add_argument("base", type=Path, help="the base branch's environment output")
            parser.add_argument("pr", type=Path, help="the pull request's environment output")
            parser.add_argument("--markdown", action="store_true",
                                help="Markdown for a pull-request comment")
            args = parser.parse_args(argv[1:])
            pr_output = EnvironmentOutput.load(args.pr)
            settings = settings_of(pr_output)
            pr = estimate(pr_output, settings.cost)
            base = estimate(EnvironmentOutput.load(args.base), settings.cost)
            sys.stdout.write(diff.render(base, pr, markdown=args.markdown))
            return 0
        parser = argparse.ArgumentParser(prog="python -m cost", description=__doc__)
        parser.add_argument("outdir", nargs="?", type=Path, default=DEFAULT_OUTDIR,
                            help="an environment output: the dir holding stacks/<stack>/")
        args = parser.parse_args(argv)
        sys.stdout.write(report.full_report(estimate_of(args.outdir)))
        return 0
    except ConfigError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
