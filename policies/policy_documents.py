"""IAM policy statements as synthesized, in one shape: the statement blocks of a
`data.aws_iam_policy_document` and literal policy JSON read the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass

from policies.model import StackView, is_token, values_at


def as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Statement:
    label: str
    """How messages name it: `statement <sid or index>`, prefixed by where it is."""
    effect: str
    actions: tuple
    principals: tuple[tuple[str, str], ...]
    """(type, identifier) pairs; a JSON `"Principal": "*"` is ("*", "*")."""
    resources: tuple
    conditions: tuple[tuple[str, str, tuple], ...]
    """(operator, key, values) triples, e.g. ("Bool", "aws:SecureTransport", ("false",))."""
    sid: str | None = None
    """Its Sid: a merged document's statement replaces one of the same Sid."""


def document_statements(body: dict, where: str = "") -> list[Statement]:
    """The `statement` blocks of a data aws_iam_policy_document (effect defaults to Allow)."""
    out = []
    blocks = [s for s in values_at(body, "statement") if isinstance(s, dict)]
    for i, st in enumerate(blocks):
        principals = tuple((p.get("type"), ident) for p in values_at(st, "principals")
                           if isinstance(p, dict) for ident in as_list(p.get("identifiers")))
        conditions = tuple((c.get("test"), c.get("variable"), tuple(as_list(c.get("values"))))
                           for c in values_at(st, "condition") if isinstance(c, dict))
        out.append(Statement(label=f"{where}statement {st.get('sid') or i}",
                             effect=st.get("effect") or "Allow",
                             actions=tuple(values_at(st, "actions")), principals=principals,
                             resources=tuple(values_at(st, "resources")),
                             conditions=conditions, sid=st.get("sid") or None))
    return out


def json_statements(text: object, where: str = "") -> list[Statement] | None:
    """The statements of a literal JSON policy, or None when `text` is not literal JSON
    (a `${...}` expression, say)."""
    if not isinstance(text, str):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    raw = [s for s in as_list(doc.get("Statement")) if isinstance(s, dict)]
    return [Statement(label=f"{where}statement {st.get('Sid') or i}",
                      effect=st.get("Effect") or "", actions=tuple(as_list(st.get("Action"))),
                      principals=_json_principals(st.get("Principal")),
                      resources=tuple(as_list(st.get("Resource"))),
                      conditions=_json_conditions(st.get("Condition")),
                      sid=st.get("Sid") or None)
            for i, st in enumerate(raw)]


def _json_principals(value: object) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, dict):
        return ()
    return tuple((kind, ident) for kind, ids in value.items() for ident in as_list(ids))


def _json_conditions(value: object) -> tuple[tuple[str, str, tuple], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple((operator, key, tuple(as_list(values)))
                 for operator, keys in value.items() if isinstance(keys, dict)
                 for key, values in keys.items())


def policy_statements(policy: object, stack: StackView,
                      seen: set[str] | None = None) -> list[Statement] | None:
    """The statements of a resource's `policy` argument: literal JSON, or the
    `aws_iam_policy_document`s it refers to with the ones they merge in
    (`source_policy_documents`, `override_policy_documents`); None when it is
    neither (an expression a rule cannot read). `seen` stops a document cycle."""
    seen = set() if seen is None else seen
    literal = json_statements(policy)
    if literal is not None:
        return literal
    documents = [d for d in (stack.resolve(policy) if is_token(policy) else [])
                 if d.type == "aws_iam_policy_document"]
    if not documents:
        return None
    found: list[Statement] = []
    for doc in documents:
        if doc.address in seen:
            continue
        seen.add(doc.address)
        # Terraform's merge: the document's own statements replace source ones
        # of the same Sid, and override documents' statements replace both.
        layers = ([st for merged in values_at(doc.body, "source_policy_documents")
                   for st in policy_statements(merged, stack, seen) or []],
                  document_statements(doc.body, where=f"{doc.address} "),
                  [st for merged in values_at(doc.body, "override_policy_documents")
                   for st in policy_statements(merged, stack, seen) or []])
        found.extend(_merge_by_sid(layers))
    return found


def _merge_by_sid(layers: tuple[list[Statement], ...]) -> list[Statement]:
    """The statements of `layers`, a later layer's statement replacing an earlier one
    of the same Sid (statements without a Sid are all kept)."""
    merged: dict[object, Statement] = {}
    for layer in layers:
        for index, statement in enumerate(layer):
            key = statement.sid if statement.sid else (id(layer), index)
            merged.pop(key, None)
            merged[key] = statement
    return list(merged.values())
