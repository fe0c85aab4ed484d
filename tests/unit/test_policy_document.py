"""policy_document: the checks every statement of every policy goes through."""

from __future__ import annotations

from dataclasses import replace

from constructs_lib.errors import Problems
from constructs_lib.policy_document import PolicyStatement, Principal, check_statements

EVERYONE = Principal(type="*", identifiers=("*",))
DENY_PLAIN_HTTP = PolicyStatement(
    effect="Deny", principals=(EVERYONE,), actions=("sns:Publish",),
    resources=("arn:aws:sns:ap-northeast-2:123456789012:prod-alerts",))


def problems_of(*statements: PolicyStatement) -> list[str]:
    problems = Problems("unit")
    check_statements(problems, "policy", statements, resource_policy=True)
    return problems.items


def test_the_star_principal_may_be_denied():
    assert problems_of(DENY_PLAIN_HTTP) == []


def test_the_star_principal_takes_only_the_star_identifier():
    odd = replace(DENY_PLAIN_HTTP, principals=(Principal(type="*", identifiers=("123456789012",)),))
    assert problems_of(odd) == [
        "unit: policy[0].principals is ('123456789012',); "
        "the principal type '*' takes the one identifier '*'."]


def test_the_star_principal_is_never_allowed():
    (problem,) = problems_of(replace(DENY_PLAIN_HTTP, effect="Allow"))
    assert "an Allow must name specific principals, never '*'" in problem


def test_a_bad_action_is_a_problem():
    (problem,) = problems_of(replace(DENY_PLAIN_HTTP, actions=("sns Publish",)))
    assert problem.startswith("unit: policy[0].actions is 'sns Publish'; allowed is")
