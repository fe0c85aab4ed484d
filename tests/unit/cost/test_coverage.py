"""Every resource type the stacks create is priced (cost/pricing) or declared free with
a reason (cost/prices/free.json), and every priced component of the committed output
finds its price. A new type fails here, listing it, until it is one or the other.

Reads the committed cdktf.out/ (tests/integration/test_delivery.py keeps it equal to
a fresh synth), so no synth runs here."""

from __future__ import annotations

from pathlib import Path

import pytest

from cost.environment_output import EnvironmentOutput
from cost.estimate import estimate
from cost.price_sheet import free_types
from cost.pricing import PRICERS
from environments import load_environment

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module", params=sorted(p.parent.name
                                              for p in (REPO / "cdktf.out").glob("*/stacks")))
def output(request) -> EnvironmentOutput:
    """Each environment's committed output in turn."""
    return EnvironmentOutput.load(REPO / "cdktf.out" / request.param)


def test_every_type_the_stacks_create_is_priced_or_declared_free(output):
    created = {r.type: f"{r.stack.name}/{r.address}" for r in output.resources()}
    missing = sorted(f"{rtype} (e.g. {where})" for rtype, where in created.items()
                     if rtype not in PRICERS and rtype not in free_types())
    assert not missing, (
        "resource types the stacks create that cost/pricing does not price and "
        "cost/prices/free.json does not declare free (add a pricer or a reason):\n  "
        + "\n  ".join(missing))


def test_no_type_is_both_priced_and_free():
    assert not set(PRICERS) & set(free_types())


def test_the_committed_output_is_fully_priced(output):
    """No unpriced type and no component whose price the sheet lacks."""
    result = estimate(output, load_environment(output.environment).cost)
    assert result.unpriced() == []
    assert result.monthly > 0


def test_free_types_are_types_the_stacks_create():
    """A free entry for a type no environment creates is dead weight in the sheet (the
    Transit Gateway is created only with create_transit_gateway=True)."""
    created = {r.type for outdir in (REPO / "cdktf.out").glob("*/stacks")
               for r in EnvironmentOutput.load(outdir.parent).resources()}
    optional = {"aws_ec2_transit_gateway"}
    assert set(free_types()) - created - optional == set()
