"""`python -m cost [OUTDIR]` (`make cost`): the monthly estimate of each environment's
synthesized output (default: every environment of the committed cdktf.out; or one
environment's dir) next to the reference table.

`python -m cost diff BASE_OUTDIR PR_OUTDIR [--markdown]`: the monthly cost change
between two outputs (output roots, or one environment's dirs), per environment and
stack; CI posts the Markdown as a pull-request comment. Both outputs are priced with
this checkout's sheets and the usage assumptions of the PR output's environment."""

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
from environments import Settings, environment_names, load_environment

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTDIR = REPO / "cdktf.out"
"""The committed output `make synth` writes."""


def settings_of(output: EnvironmentOutput) -> Settings:
    name = output.environment
    if name not in environment_names():
        raise ConfigError([f"{output.outdir}: its stacks' Environment tag is {name!r}; allowed "
                           f"are the known environments {', '.join(environment_names())} (their "
                           "settings hold the usage assumptions)."])
    return load_environment(name)


def environment_outdirs(path: Path) -> dict[str, Path]:
    """Environment dir name -> output dir: `path` itself when it holds `stacks/` (one
    environment's output), else each `path/<environment>/` that does, in promotion
    order (an environment's output is priced with its own settings)."""
    path = Path(path)
    if (path / "stacks").is_dir():
        return {path.name: path}
    found = {p.parent.name: p.parent for p in sorted(path.glob("*/stacks"))}
    if not found:
        return {path.name: path}  # its load says what is missing
    order = [n for n in environment_names() if n in found]
    return {n: found[n] for n in order + sorted(set(found) - set(order))}


def diff_roots(base: Path, pr: Path, *, markdown: bool) -> str:
    """The cost change of every environment of the PR output; an environment the base
    lacks is priced from nothing, one the PR removes is listed."""
    bases, prs = environment_outdirs(base), environment_outdirs(pr)
    if set(prs) == {pr.name} and set(bases) == {base.name}:  # two environment dirs
        bases = {pr.name: base}
    parts = []
    for name, outdir in prs.items():
        pr_output = EnvironmentOutput.load(outdir)
        settings = settings_of(pr_output)
        after = estimate(pr_output, settings.cost)
        if name in bases:
            before = estimate(EnvironmentOutput.load(bases[name]), settings.cost)
        else:
            before = estimate(EnvironmentOutput(outdir=bases.get(name, base), stacks=[]),
                              settings.cost)
        parts.append(diff.render(before, after, markdown=markdown))
    gone = sorted(set(bases) - set(prs))
    if gone:
        parts.append(f"Environments removed by the PR (not priced): {', '.join(gone)}\n")
    return "\n".join(parts)


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
            sys.stdout.write(diff_roots(args.base, args.pr, markdown=args.markdown))
            return 0
        parser = argparse.ArgumentParser(prog="python -m cost", description=__doc__)
        parser.add_argument("outdir", nargs="?", type=Path, default=DEFAULT_OUTDIR,
                            help="the output root (every environment) or one environment's "
                                 "dir (holding stacks/<stack>/)")
        args = parser.parse_args(argv)
        sys.stdout.write("\n".join(report.full_report(estimate_of(outdir))
                                    for outdir in environment_outdirs(args.outdir).values()))
        return 0
    except ConfigError as error:
        print(f"cost: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
