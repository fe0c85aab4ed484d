"""Typed IAM policy statements, their validation, and rendering through the
`aws_iam_policy_document` data source (never hand-written JSON)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct

from constructs_lib.errors import Problems
from constructs_lib.formats import is_unresolved

EFFECTS = ("Allow", "Deny")
# "*" renders as `"Principal": "*"` (everyone, anonymous callers included), the
# form of the topic policies' deny-insecure-transport statement.
PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser", "*")
SID = re.compile(r"^[A-Za-z0-9]+$")
ACTION = re.compile(r"^([a-z0-9-]+:[A-Za-z0-9*]+|\*)$")
WILDCARD_ACTIONS = ("*", "*:*")


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One condition block, e.g. `Condition(test="StringEquals",
    variable="aws:SourceAccount", values=("123456789012",))`."""

    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Principal:
    """Who a resource or trust policy statement applies to."""

    type: str
    """One of AWS, Service, Federated, CanonicalUser, or `*` (whose only
    identifier is `*`)."""
    identifiers: tuple[str, ...]


EVERYONE = Principal(type="*", identifiers=("*",))
"""`"Principal": "*"`: every caller, anonymous ones included (a Deny's target, or an
Allow narrowed by a condition such as aws:PrincipalAccount)."""


@dataclass(frozen=True, kw_only=True)
class PolicyStatement:
    """One IAM statement. Identity policies leave `principals` empty; resource
    and trust policies name them."""

    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    """Left out: no `Resource` element (only right for trust policies)."""
    effect: str = "Allow"
    """Left out: Allow."""
    sid: str | None = None
    """Left out: the statement has no Sid."""
    principals: tuple[Principal, ...] = ()
    """Left out: no `Principal` element (identity policies)."""
    conditions: tuple[Condition, ...] = ()
    """Left out: the statement applies unconditionally."""

    @property
    def allows_everything(self) -> bool:
        """An Allow of every action on every resource (rule SEC002)."""
        return (
            self.effect == "Allow"
            and any(a in WILDCARD_ACTIONS for a in self.actions)
            and "*" in self.resources
        )

    @property
    def has_wildcard_principal(self) -> bool:
        return any("*" in p.identifiers for p in self.principals)


def check_statements(
    problems: Problems,
    field: str,
    statements: Sequence[PolicyStatement],
    *,
    resource_policy: bool,
) -> None:
    """Add a problem for each malformed statement.

    `resource_policy`: statements need principals, and an Allow must not name
    the `*` principal (a public grant); otherwise principals are not allowed.
    Wildcard actions on `*` are checked by the caller, which may waive them.
    """
    if not isinstance(statements, (tuple, list)):
        problems.add(field, statements, "allowed is a tuple of PolicyStatement")
        return
    sids: set[str] = set()
    for i, stmt in enumerate(statements):
        where = f"{field}[{i}]"
        if not isinstance(stmt, PolicyStatement):
            problems.add(where, stmt, "allowed is a PolicyStatement")
            continue
        if stmt.effect not in EFFECTS:
            problems.add(f"{where}.effect", stmt.effect, f"allowed is one of {EFFECTS}")
        if stmt.sid is not None:
            if not SID.match(stmt.sid):
                problems.add(f"{where}.sid", stmt.sid, "allowed are letters and digits only")
            elif stmt.sid in sids:
                problems.add(f"{where}.sid", stmt.sid, "Sids must be unique within a policy")
            sids.add(stmt.sid)
        if not stmt.actions:
            problems.add(f"{where}.actions", stmt.actions, "a statement needs at least one action")
        for action in stmt.actions:
            if not is_unresolved(action) and not ACTION.match(action):
                problems.add(f"{where}.actions", action,
                             "allowed is '<service>:<Action>' (wildcards allowed) or '*'")
        if not stmt.resources:
            problems.add(f"{where}.resources", stmt.resources,
                         "a statement needs at least one resource ARN (or '*')")
        for c, cond in enumerate(stmt.conditions):
            if not cond.test or not cond.variable or not cond.values:
                problems.add(f"{where}.conditions[{c}]", cond,
                             "a condition needs a test, a variable and at least one value")
        if resource_policy:
            if not stmt.principals:
                problems.add(f"{where}.principals", stmt.principals,
                             "a resource policy statement must name its principals")
            if stmt.effect == "Allow" and stmt.has_wildcard_principal:
                problems.add(f"{where}.principals", stmt.principals,
                             "an Allow must name specific principals, never '*'")
        elif stmt.principals:
            problems.add(f"{where}.principals", stmt.principals,
                         "identity policy statements take no principals")
        for p in stmt.principals:
            if p.type not in PRINCIPAL_TYPES:
                problems.add(f"{where}.principals", p.type, f"allowed types are {PRINCIPAL_TYPES}")
            elif p.type == "*" and tuple(p.identifiers) != ("*",):
                problems.add(f"{where}.principals", p.identifiers,
                             "the principal type '*' takes the one identifier '*'")


def policy_document(
    scope: Construct, construct_id: str, statements: Iterable[PolicyStatement]
) -> DataAwsIamPolicyDocument:
    """An `aws_iam_policy_document` data source holding `statements` in order."""
    return DataAwsIamPolicyDocument(
        scope, construct_id, statement=render_statements(statements)
    )


def render_statements(
    statements: Iterable[PolicyStatement],
) -> list[DataAwsIamPolicyDocumentStatement]:
    """The binding structs for `statements`, e.g. for `put_statement`."""
    return [_render(s) for s in statements]


def _render(stmt: PolicyStatement) -> DataAwsIamPolicyDocumentStatement:
    return DataAwsIamPolicyDocumentStatement(
        sid=stmt.sid,
        effect=stmt.effect,
        actions=list(stmt.actions),
        resources=list(stmt.resources) or None,
        principals=[
            DataAwsIamPolicyDocumentStatementPrincipals(type=p.type, identifiers=list(p.identifiers))
            for p in stmt.principals
        ] or None,
        condition=[
            DataAwsIamPolicyDocumentStatementCondition(
                test=c.test, variable=c.variable, values=list(c.values))
            for c in stmt.conditions
        ] or None,
    )
