"""The scratch copy's trust quirk: the local PR runs' stand-in task role is trusted beside
the real task role, with the same condition, and nothing else in the stack changes; and
every service the stacks call is pointed at moto."""

from __future__ import annotations

import pytest

from local_deploy.local_overrides import (
    ENDPOINT_SERVICES,
    SERVICE_OF_TYPE,
    STAND_IN_TASK_ROLE,
    quirks_for,
    quirks_override,
    service_of,
)
from stacks.registry import STACK_NAMES

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


def test_every_service_the_stacks_call_is_pointed_at_moto(stack_json):
    """A type no prefix of SERVICE_OF_TYPE covers, or whose service is missing from
    ENDPOINT_SERVICES, would send the local deploy's calls past moto."""
    types = sorted({rtype for name in STACK_NAMES for kind in ("resource", "data")
                    for rtype in stack_json(name).get(kind, {})})
    unknown = [t for t in types if not any(t.startswith(p) for p in SERVICE_OF_TYPE)]
    assert not unknown, (
        f"{', '.join(unknown)}: no prefix in SERVICE_OF_TYPE (local_deploy/local_overrides.py) "
        "names the AWS service it calls; add it, and the service to ENDPOINT_SERVICES")
    missing = sorted({service_of(t) for t in types} - {None} - set(ENDPOINT_SERVICES))
    assert not missing, (
        f"the stacks call {', '.join(missing)}, which ENDPOINT_SERVICES "
        "(local_deploy/local_overrides.py) does not point at moto")


@pytest.mark.parametrize(("resource_type", "service"), [
    ("aws_route53_zone", "route53"), ("aws_route_table", "ec2"), ("aws_lb_listener", "elbv2"),
    ("aws_cloudwatch_log_group", "logs"), ("aws_cloudwatch_event_rule", "events"),
    ("aws_iam_policy_document", None), ("aws_iam_role", "iam"),
])
def test_the_longest_prefix_names_the_service(resource_type, service):
    assert service_of(resource_type) == service


def test_a_type_of_no_known_service_is_a_key_error():
    with pytest.raises(KeyError):
        service_of("aws_sqs_queue")
