"""Snapshot fixture for stack tests: a safety net beside the real assertions.

`make snapshots` (pytest --snapshot-update) rewrites them; review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.stacks.synth_json import containers as container_definitions

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.fixture
def snapshot(request, stack_json):
    update = request.config.getoption("--snapshot-update")

    def check(stack: str) -> None:
        actual = json.dumps(stack_json(stack), indent=2, sort_keys=True) + "\n"
        path = SNAPSHOTS / f"{stack}.json"
        if update or not path.exists():
            if not update:
                pytest.fail(f"no snapshot for {stack}; run `make snapshots` and review it")
            path.write_text(actual)
            return
        assert path.read_text() == actual, (
            f"stack {stack} differs from tests/stacks/snapshots/{stack}.json; if the change is "
            "intended run `make snapshots` and review the diff")

    return check


@pytest.fixture(scope="module")
def atlantis(stack_json):
    """The atlantis stack's JSON (test_atlantis.py, test_atlantis_server.py)."""
    return stack_json("atlantis")


@pytest.fixture(scope="module")
def containers(atlantis):
    """The Atlantis task's container definitions, by name."""
    return container_definitions(atlantis)
