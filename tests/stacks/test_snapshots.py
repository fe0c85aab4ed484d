"""Every stack of every environment against its committed snapshot: a safety net
beside the real assertions, which catches any change to a stack's JSON.

The snapshots are syrupy's, one JSON file per environment and stack in
__snapshots__/test_snapshots/test_stack[<env>-<stack>].json. A stack (or an
environment) added fails here until `make snapshots` writes its file; a file left
behind by a removed one fails a full run as unused."""

from __future__ import annotations

import pytest

from environments import load_environments
from stacks.registry import stacks_for
from synth.layout import cli_stack_name

CASES = [(s.name, spec.name) for s in load_environments() for spec in stacks_for(s)]


@pytest.mark.parametrize(("environment", "stack"), CASES,
                         ids=[cli_stack_name(*case) for case in CASES])
def test_stack(env_stack_json, snapshot, environment, stack):
    name = cli_stack_name(environment, stack)
    assert env_stack_json(environment, stack) == snapshot, (
        f"stack {name} differs from tests/stacks/__snapshots__/test_snapshots/"
        f"test_stack[{name}].json; if the change is intended run `make snapshots` "
        "and review the diff")
