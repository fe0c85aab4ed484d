"""Small synthesized outputs written to a temporary dir, the way `make synth` lays
them out (`<outdir>/stacks/<stack>/cdk.tf.json`), for the cost tests."""

from __future__ import annotations

import json
from pathlib import Path

from cost.environment_output import EnvironmentOutput
from cost.estimate import Estimate, estimate
from environments.settings import CostAssumptions


def write_output(root: Path, stacks: dict[str, dict]) -> Path:
    for name, doc in stacks.items():
        path = root / "stacks" / name / "cdk.tf.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
    return root


def load(root: Path, stacks: dict[str, dict]) -> EnvironmentOutput:
    """The output in the order `stacks` lists them (no registry needed)."""
    write_output(root, stacks)
    return EnvironmentOutput.load(root, order=lambda names: [n for n in stacks if n in names])


def estimate_stacks(root: Path, stacks: dict[str, dict],
                    assumptions: CostAssumptions | None = None) -> Estimate:
    return estimate(load(root, stacks), assumptions or CostAssumptions())


def items(estimate_: Estimate, stack: str, address: str) -> dict[str, object]:
    """Component label (up to its first ' (') -> line item, of one resource."""
    resource = estimate_.stack(stack).resource(address)
    assert resource is not None, f"{address} was not priced in {stack}"
    return {item.component.split(" (")[0]: item for item in resource.items}
