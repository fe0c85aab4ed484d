"""SEC002: no IAM statement allows action `*` on resource `*`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from policies.model import COMPLIANT, Result, Rule, StackView, from_problems, values_at

# Attributes holding a policy JSON document (checked when they are literal JSON).
POLICY_ATTRIBUTES = ("policy", "inline_policy.policy")


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def json_statements(text: object) -> list[dict] | None:
    """Statements of a literal JSON policy, or None when `text` is not literal JSON."""
    if not isinstance(text, str):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    return [s for s in _as_list(doc.get("Statement")) if isinstance(s, dict)]


def _wildcard(actions: list, resources: list) -> bool:
    return "*" in actions and "*" in resources


def document_problems(statements: list[dict]) -> Iterator[str]:
    """For data aws_iam_policy_document `statement` blocks."""
    for i, st in enumerate(statements):
        if st.get("effect", "Allow") != "Allow":
            continue
        if _wildcard(_as_list(st.get("actions")), _as_list(st.get("resources"))):
            label = f"statement {st.get('sid') or i}"
            yield f"{label} allows action * on resource *"


def json_problems(statements: list[dict], where: str) -> Iterator[str]:
    for i, st in enumerate(statements):
        if st.get("Effect") != "Allow":
            continue
        if _wildcard(_as_list(st.get("Action")), _as_list(st.get("Resource"))):
            yield f"{where} statement {st.get('Sid') or i} allows action * on resource *"


class WildcardIam(Rule):
    id = "SEC002"
    family = "security"
    title = "no IAM statement allowing `*` actions on `*` resources"
    rationale = ("`*` on `*` is administrator access: one compromised role or task could do "
                 "anything in the account. Least privilege names the actions and resources.")
    fix = ("list the actions the workload calls and scope resources to ARNs (from the KeyRef/"
           "TopicRef/... the construct was given)")

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        for doc in stack.of_type("aws_iam_policy_document", data=True):
            statements = [s for s in values_at(doc.body, "statement") if isinstance(s, dict)]
            yield doc.address, from_problems(list(document_problems(statements)))
        for resource in stack.resources:
            problems = []
            seen = False
            for attr in POLICY_ATTRIBUTES:
                for text in values_at(resource.body, attr):
                    statements = json_statements(text)
                    if statements is not None:
                        seen = True
                        problems.extend(json_problems(statements, attr))
            if seen:
                yield resource.address, from_problems(problems) if problems else COMPLIANT


RULE = WildcardIam()
