"""Reading a construct's synthesized JSON in unit tests: the blocks one construct
created, found by construct path, and cdktf's Testing matchers as assertions.

The matchers (`Testing.to_have_resource_with_properties` and friends) return a
bool, so a bare call asserts nothing: use `assert_resource`, `assert_data_source`
and `assert_no_resource`, which fail with what the stack holds. They match like
cdktf's: a dict matches when it holds the given keys with matching values (more
keys are allowed), a list must have the same length and order, anything else must
be equal. Compare a whole dict with `==` on `one_under(...)` when an extra key
must fail the test. They read `Testing.synth(stack)`, which drops the `//`
blocks: waivers are read from `synth_json(stack)` (tests/unit/conftest.py).
"""

from __future__ import annotations

import json

from cdktf import TerraformStack, Testing

from policies.model import StackView
from policies.runner import check_stacks


def matchable(stack: TerraformStack) -> str:
    """The stack's JSON as cdktf's matchers read it (`Testing.synth`)."""
    return Testing.synth(stack)


def _blocks(received: str, section: str, kind: str) -> str:
    found = json.loads(received).get(section, {}).get(kind, {})
    return json.dumps(found, indent=2, sort_keys=True) if found else "none"


def assert_resource(received: str, kind: str, properties: dict) -> None:
    """Some resource of `kind` in `received` has `properties`."""
    assert Testing.to_have_resource_with_properties(received, kind, properties), (
        f"no {kind} with {properties}; the stack's {kind}: {_blocks(received, 'resource', kind)}")


def assert_data_source(received: str, kind: str, properties: dict) -> None:
    """Some data source of `kind` in `received` has `properties`."""
    assert Testing.to_have_data_source_with_properties(received, kind, properties), (
        f"no data source {kind} with {properties}; the stack's: "
        f"{_blocks(received, 'data', kind)}")


def assert_no_resource(received: str, kind: str) -> None:
    """`received` holds no resource of `kind`."""
    assert not Testing.to_have_resource(received, kind), (
        f"unexpected {kind}: {_blocks(received, 'resource', kind)}")


def under(doc: dict, kind: str, construct: str, section: str = "resource") -> list[dict]:
    """The `kind` blocks of `doc` (a `synth_json` document) created under the
    construct at `construct`, a path below the stack ("alb", "alb/https"), in
    synthesis order; empty when there are none."""
    found = []
    for body in doc.get(section, {}).get(kind, {}).values():
        path = body["//"]["metadata"]["path"].split("/", 1)[1]
        if path == construct or path.startswith(f"{construct}/"):
            found.append(body)
    return found


def one_under(doc: dict, kind: str, construct: str, section: str = "resource") -> dict:
    """The one `kind` block created under `construct` (fails unless there is one)."""
    found = under(doc, kind, construct, section)
    paths = [b["//"]["metadata"]["path"] for b in doc.get(section, {}).get(kind, {}).values()]
    assert len(found) == 1, f"{len(found)} {kind} under {construct!r}; all of them: {paths}"
    return found[0]


def governance_findings(stack: TerraformStack) -> list[str]:
    """Every open error finding of the governance rules (policies/) on `stack`, as
    `RULE address: message`: what a synth would refuse. A construct built with its
    defaults must leave none (the README's construct recipe), and nothing else
    checks a construct that no stack uses yet. Reads the JSON with its `//`
    blocks, so waivers count as they do in a synth."""
    doc = json.loads(json.dumps(stack.to_terraform()))
    report = check_stacks([StackView.from_doc(stack.node.id, doc)])
    return [f"{f.rule} {f.address}: {f.message}" for f in report.open_errors] + list(
        report.problems)
