"""Small hand-written synth documents for the policy rule tests (no cdktf needed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from policies.model import Outcome, Rule, StackView

TAGS = {
    "Environment": "prod", "Service": "network", "Team": "platform-team",
    "Owner": "platform@example.com", "CostCenter": "engineering", "Project": "infrastructure",
    "DataClass": "internal", "ManagedBy": "terraform",
}


def make_doc(resources: dict | None = None, *, data: dict | None = None,
             output: dict | None = None, variable: dict | None = None,
             providers: list | None = None) -> dict:
    """A cdk.tf.json document: `resources` is {type: {name: body}}."""
    doc = {
        "provider": {"aws": providers if providers is not None else [
            {"region": "ap-northeast-2", "default_tags": [{"tags": dict(TAGS)}]}]},
        "resource": copy.deepcopy(resources or {}),
        "terraform": {"required_providers": {"aws": {"source": "aws", "version": "5.100.0"}}},
    }
    for key, value in (("data", data), ("output", output), ("variable", variable)):
        if value is not None:
            doc[key] = copy.deepcopy(value)
    return doc


def outcomes(rule: Rule, doc: dict, stack: str = "network") -> dict[str, tuple[Outcome, str]]:
    """address -> (outcome, message) for every address the rule reported on."""
    view = StackView.from_doc(stack, doc)
    return {a: (r.outcome, r.message) for a, r in rule.check_stack(view)}


def outcome_of(rule: Rule, doc: dict, address: str, stack: str = "network") -> Outcome:
    """The rule's outcome at `address` (NOT_APPLICABLE when it did not report there)."""
    return outcomes(rule, doc, stack).get(address, (Outcome.NOT_APPLICABLE, ""))[0]


def write_outdir(root: Path, stacks: dict[str, dict]) -> Path:
    """`root/stacks/<name>/cdk.tf.json` for each document, pretty-printed as cdktf does."""
    for name, doc in stacks.items():
        path = root / "stacks" / name / "cdk.tf.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2, sort_keys=True))
    return root


@pytest.fixture(scope="session")
def pol() -> SimpleNamespace:
    """The helpers above (test modules here cannot import conftest by name)."""
    return SimpleNamespace(doc=make_doc, outcomes=outcomes, outcome_of=outcome_of,
                           write_outdir=write_outdir, tags=TAGS)
