"""The stacks an environment output dir holds, in deploy order.

An environment output dir is what a synth writes for one environment: `manifest.json`
and `stacks/<stack>/cdk.tf.json`, in `cdktf.out/<env>/`. The order is the stack
registry's, filtered to the stacks present.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from policies.model import StackView
from stacks.atlantis_repo_config import OUTPUT_ROOT

STACKS = "stacks"
STACK_FILE = "cdk.tf.json"


def stack_dir(outdir: Path, stack: str) -> Path:
    return outdir / STACKS / stack


def environment_outdir(environment: str, root: Path = Path(OUTPUT_ROOT)) -> Path:
    """`root/<environment>`; ValueError with a sentence when the synth has none."""
    known = {path.name: path for path in StackView.environment_outdirs(root)
             if path.parent == root}
    held = ", ".join(sorted(known)) or "nothing; run make synth"
    if not environment:
        raise ValueError(f"no environment named: pass --environment <env> (make drift "
                         f"ENVIRONMENT=<env>); {root} holds: {held}")
    if environment not in known:
        raise ValueError(f"--environment {environment!r}: {root} holds no output of it "
                         f"(it holds: {held})")
    return known[environment]


def deploy_order() -> tuple[str, ...]:
    """Every stack name in the registry's deploy order."""
    import fast_synth

    # The registry imports cdktf, whose jsii runtime prints a banner on node 20 (as main.py).
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    # Lazy AWS bindings: naming the stacks then costs no eager import of the bindings.
    fast_synth.enable()
    from stacks.registry import STACK_NAMES

    return STACK_NAMES


def stacks_in(outdir: Path, order: Sequence[str]) -> list[str]:
    """The stacks of `outdir` (a dir with `stacks/<stack>/cdk.tf.json`) in `order`.

    Raises ValueError with a sentence when the dir holds no stack or one that `order`
    does not know (a stale or foreign synth: the check must not skip it silently)."""
    root = outdir / STACKS
    present = sorted(path.parent.name for path in root.glob(f"*/{STACK_FILE}"))
    if not present:
        raise ValueError(f"{outdir} holds no {STACKS}/<stack>/{STACK_FILE}; pass the "
                         "environment output dir of a synth (`make synth` writes "
                         "cdktf.out/<env>), or --environment <env>")
    unknown = sorted(set(present) - set(order))
    if unknown:
        raise ValueError(f"{root} holds {', '.join(unknown)}, which the stack registry does "
                         f"not know (known: {', '.join(order)}); synthesize again")
    return [name for name in order if name in present]


def select(available: list[str], wanted: str | None) -> list[str]:
    """`available` limited to the comma-separated `wanted` names, in deploy order."""
    if not wanted:
        return available
    names = [name.strip() for name in wanted.split(",") if name.strip()]
    missing = [name for name in names if name not in available]
    if missing:
        raise ValueError(f"--stacks names {', '.join(missing)}, not in this output dir "
                         f"(it holds: {', '.join(available)})")
    return [name for name in available if name in names]
