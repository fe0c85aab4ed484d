"""Every stack of the registry against its committed snapshot: a safety net
beside the real assertions, which catches any change to a stack's JSON.

The snapshots are syrupy's, one JSON file per stack in
__snapshots__/test_snapshots/test_stack[<stack>].json. A stack added to the
registry fails here until `make snapshots` writes its file; a file left behind
by a removed stack fails a full run as unused."""

from __future__ import annotations

import pytest

from stacks.registry import STACK_NAMES


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_stack(stack_json, snapshot, stack):
    assert stack_json(stack) == snapshot, (
        f"stack {stack} differs from tests/stacks/__snapshots__/test_snapshots/"
        f"test_stack[{stack}].json; if the change is intended run `make snapshots` "
        "and review the diff")
