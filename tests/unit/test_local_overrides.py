"""The scratch copy's trust quirk: the local PR runs' stand-in task role is trusted beside
the real task role, with the same condition, and nothing else in the stack changes."""

from __future__ import annotations

from local_deploy.local_overrides import (
    STAND_IN_TASK_ROLE,
    quirks_for,
    quirks_override,
)

TASK_ROLE = "arn:${data.aws_partition.partition.partition}:iam::${data.x.account_id}:role/prod-atlantis-task"


def _trust(values: list[str]) -> dict:
    return {"statement": [{
        "actions": ["sts:AssumeRole"],
        "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:root"]}],
        "condition": [{"test": "ArnEquals", "variable": "aws:PrincipalArn", "values": values}],
    }]}


def _stack() -> dict:
    return {"data": {"aws_iam_policy_document": {
        "plan-trust": _trust([TASK_ROLE]),
        "github-trust": {"statement": [{"actions": ["sts:AssumeRoleWithWebIdentity"],
                                        "condition": [{"test": "StringLike",
                                                       "variable": "token:sub",
                                                       "values": ["repo:o/r:*"]}]}]},
    }}, "resource": {}}


def test_the_trust_of_the_task_role_also_names_the_stand_in():
    stack = _stack()
    applied = quirks_for("bootstrap", stack)
    assert [q.address for q in applied] == ["data.aws_iam_policy_document.plan-trust"]
    override = quirks_override(stack, applied)
    assert set(override) == {"data"}
    [statement] = override["data"]["aws_iam_policy_document"]["plan-trust"]["statement"]
    [condition] = statement["condition"]
    assert condition["test"] == "ArnEquals"
    assert sorted(condition["values"]) == sorted(
        [TASK_ROLE, TASK_ROLE.replace("prod-atlantis-task", STAND_IN_TASK_ROLE)])
    # Principal and actions as synthesized; the stack's own JSON is not touched.
    assert statement["principals"] == _stack()["data"]["aws_iam_policy_document"][
        "plan-trust"]["statement"][0]["principals"]
    assert stack == _stack()


def test_no_override_without_a_quirk():
    stack = {"resource": {"aws_sns_topic": {"t": {"name": "x"}}}}
    assert quirks_override(stack, quirks_for("logging", stack)) == {}
