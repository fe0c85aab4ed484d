"""IamRoleWithPolicies: trust policies, inline and managed policies, SEC002 guard, errors."""

from __future__ import annotations

import pytest

from constructs_lib.errors import ConfigError
from constructs_lib.iam_role_policy import (
    AccountTrust,
    Condition,
    FederatedTrust,
    IamRoleWithPolicies,
    IamRoleWithPoliciesProps,
    PolicyStatement,
)
from constructs_lib.refs import RoleRef
from tests.unit.synth_helpers import governance_findings

READ = PolicyStatement(actions=("s3:GetObject",), resources=("arn:aws:s3:::prod-state/*",))
ADMIN = PolicyStatement(actions=("*",), resources=("*",))
GITHUB = FederatedTrust(
    provider_arn="arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
    conditions=(
        Condition(test="StringEquals", variable="token.actions.githubusercontent.com:aud",
                  values=("sts.amazonaws.com",)),
        Condition(test="StringLike", variable="token.actions.githubusercontent.com:sub",
                  values=("repo:example/infra:ref:refs/heads/main",)),
    ),
)


def props(tags, **overrides) -> IamRoleWithPoliciesProps:
    values = {"name": "prod-atlantis-task", "tags": tags,
                  "service_principals": ("ecs-tasks.amazonaws.com",)}
    values.update(overrides)
    return IamRoleWithPoliciesProps(**values)


@pytest.fixture(scope="module")
def built(make_stack, synth, tags):
    stack = make_stack()
    task = IamRoleWithPolicies(stack, "task", props(
        tags, description="Atlantis task role",
        trust_conditions=(Condition(test="StringEquals", variable="aws:SourceAccount",
                                    values=("123456789012",)),),
        inline_policies={"state-read": [READ]},
        managed_policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",),
    ))
    task.add_statements("state-read", [PolicyStatement(actions=("kms:Decrypt",),
                                                       resources=("arn:aws:kms:x",))])
    task.add_statements("logs-write", [PolicyStatement(actions=("logs:PutLogEvents",),
                                                       resources=("arn:aws:logs:x",))])
    IamRoleWithPolicies(stack, "deploy", props(
        tags, name="prod-github-deploy", service_principals=(), federated=GITHUB,
        inline_policies={"admin": [ADMIN]}, max_session_duration=7200,
        allow_admin_reason="bootstrap deploy role applies every stack",
    ))
    return task, synth(stack)


def of(doc, kind, type_, prefix):
    return {k: v for k, v in doc[kind].get(type_, {}).items() if k.startswith(prefix)}


def test_role_with_service_trust(built, tags):
    _, doc = built
    (role,) = of(doc, "resource", "aws_iam_role", "task_").values()
    assert role["name"] == "prod-atlantis-task"
    assert role["max_session_duration"] == 3600
    assert role["description"] == "Atlantis task role"
    assert role["tags"] == tags.resource_tags("prod-atlantis-task")
    assert role["assume_role_policy"].startswith("${data.aws_iam_policy_document.task_trust-policy")
    (trust,) = of(doc, "data", "aws_iam_policy_document", "task_trust-policy").values()
    (stmt,) = trust["statement"]
    assert stmt["actions"] == ["sts:AssumeRole"]
    assert stmt["principals"] == [{"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}]
    assert stmt["condition"][0]["variable"] == "aws:SourceAccount"


def test_inline_policies_named_after_role_and_extended(built):
    _, doc = built
    policies = of(doc, "resource", "aws_iam_role_policy", "task_")
    assert sorted(p["name"] for p in policies.values()) == [
        "prod-atlantis-task-logs-write", "prod-atlantis-task-state-read"]
    (state,) = of(doc, "data", "aws_iam_policy_document", "task_policy-state-read").values()
    assert [s["actions"] for s in state["statement"]] == [["s3:GetObject"], ["kms:Decrypt"]]


def test_managed_policy_attached(built):
    _, doc = built
    (attachment,) = of(doc, "resource", "aws_iam_role_policy_attachment", "task_").values()
    assert attachment["policy_arn"] == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    assert attachment["role"].startswith("${aws_iam_role.task_role")


def test_federated_trust_and_admin_waiver(built):
    _, doc = built
    (trust,) = of(doc, "data", "aws_iam_policy_document", "deploy_trust-policy").values()
    (stmt,) = trust["statement"]
    assert stmt["actions"] == ["sts:AssumeRoleWithWebIdentity"]
    assert stmt["principals"][0]["type"] == "Federated"
    assert {c["variable"] for c in stmt["condition"]} == {
        "token.actions.githubusercontent.com:aud", "token.actions.githubusercontent.com:sub"}
    (policy,) = of(doc, "resource", "aws_iam_role_policy", "deploy_").values()
    assert policy["//"]["waivers"]["SEC002"] == "bootstrap deploy role applies every stack"
    (role,) = of(doc, "resource", "aws_iam_role", "deploy_").values()
    assert role["max_session_duration"] == 7200


def test_account_trust_names_the_root_narrowed_to_principals(make_stack, synth, tags):
    stack = make_stack()
    trust = AccountTrust(account_root="arn:aws:iam::123456789012:root",
                         principal_arns=("arn:aws:iam::123456789012:role/prod-atlantis-task",))
    IamRoleWithPolicies(stack, "plan", props(tags, name="prod-atlantis-plan", service_principals=(),
                                       account=trust))
    doc = synth(stack)
    (document,) = of(doc, "data", "aws_iam_policy_document", "plan_trust-policy").values()
    assert document["statement"] == [{
        "actions": ["sts:AssumeRole"], "effect": "Allow",
        "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:root"]}],
        "condition": [{"test": "ArnEquals", "variable": "aws:PrincipalArn",
                       "values": ["arn:aws:iam::123456789012:role/prod-atlantis-task"]}],
    }]


def test_account_trust_can_require_mfa(make_stack, synth, tags):
    stack = make_stack()
    trust = AccountTrust(account_root="arn:aws:iam::123456789012:root",
                         principal_arns=("arn:aws:iam::123456789012:user/*",), require_mfa=True)
    IamRoleWithPolicies(stack, "support", props(tags, name="prod-support", service_principals=(),
                                          account=trust))
    (document,) = of(synth(stack), "data", "aws_iam_policy_document",
                     "support_trust-policy").values()
    (statement,) = document["statement"]
    assert statement["condition"] == [
        {"test": "ArnEquals", "variable": "aws:PrincipalArn",
         "values": ["arn:aws:iam::123456789012:user/*"]},
        {"test": "Bool", "variable": "aws:MultiFactorAuthPresent", "values": ["true"]}]


def test_require_mfa_must_be_a_bool(stack, tags):
    trust = AccountTrust(account_root="arn:aws:iam::123456789012:root",
                         principal_arns=("arn:aws:iam::123456789012:user/*",), require_mfa="false")
    with pytest.raises(ConfigError) as err:
        IamRoleWithPolicies(stack, "support", props(tags, name="prod-support",
                                                    service_principals=(), account=trust))
    assert "account.require_mfa is 'false'; allowed is True or False" in str(err.value)


def test_admin_policy_waives_our_rule_and_checkovs(make_stack, synth, tags):
    stack = make_stack()
    IamRoleWithPolicies(stack, "apply", props(
        tags, name="prod-atlantis-apply",
        managed_policy_arns=("arn:aws:iam::aws:policy/AdministratorAccess",),
        allow_admin_reason="applies every stack, with explicit denies"))
    (attachment,) = of(synth(stack), "resource", "aws_iam_role_policy_attachment",
                       "apply_").values()
    assert attachment["//"]["waivers"] == {
        "SEC002": "applies every stack, with explicit denies",
        "CKV_AWS_274": "applies every stack, with explicit denies"}


def test_ref(built):
    task, _ = built
    assert isinstance(task.ref, RoleRef)


def test_defaults_pass_governance(stack, tags):
    """Built with only its required props (one trust source), the role leaves no
    governance finding."""
    IamRoleWithPolicies(stack, "task", props(tags))
    assert governance_findings(stack) == []


@pytest.mark.parametrize("overrides, field, shown, allowed", [
    ({"name": "atlantis"}, "name", "'atlantis'", "starting with 'prod-'"),
    ({"name": "prod-" + "a" * 60}, "name", "'prod-" + "a" * 60 + "'", "at most 64"),
    ({"service_principals": ()}, "service_principals", "()", "exactly one of"),
    ({"federated": GITHUB}, "service_principals", "('ecs-tasks.amazonaws.com',)", "exactly one of"),
    ({"service_principals": ("ecs",)}, "service_principals", "'ecs'", "service principals like"),
    ({"service_principals": (), "federated": FederatedTrust(provider_arn="arn:x", conditions=())},
     "federated.conditions", "()", "narrowed by conditions"),
    ({"inline_policies": {"admin": [ADMIN]}}, "inline_policies['admin'][0]", "('*',)",
     "rule SEC002"),
    ({"inline_policies": {"Bad_Key": [READ]}}, "inline_policies['Bad_Key']", "'Bad_Key'",
     "kebab-case"),
    ({"inline_policies": {"p": [PolicyStatement(actions=("s3:GetObject",))]}},
     "inline_policies['p'][0].resources", "()", "at least one resource"),
    ({"managed_policy_arns": ("arn:aws:iam::aws:policy/AdministratorAccess",)},
     "managed_policy_arns", "'arn:aws:iam::aws:policy/AdministratorAccess'", "rule SEC002"),
    ({"managed_policy_arns": ("ReadOnlyAccess",)}, "managed_policy_arns", "'ReadOnlyAccess'",
     "IAM policy ARN"),
    ({"max_session_duration": 60}, "max_session_duration", "60", "3600..43200"),
    ({"service_principals": (), "account": AccountTrust(account_root="arn:aws:iam::1:root",
                                                        principal_arns=())},
     "account.principal_arns", "()", "name the principals"),
    ({"account": AccountTrust(account_root="arn:aws:iam::1:root", principal_arns=("arn:r",))},
     "service_principals", "('ecs-tasks.amazonaws.com',)", "exactly one of"),
    ({"allow_admin_reason": "because"}, "allow_admin_reason", "'because'", "at least 10"),
])
def test_rejects_bad_props(stack, tags, overrides, field, shown, allowed):
    with pytest.raises(ConfigError) as err:
        IamRoleWithPolicies(stack, "bad", props(tags, **overrides))
    assert f"unit/bad: {field} is {shown}; " in str(err.value)
    assert allowed in str(err.value)
    assert stack.node.try_find_child("bad").node.children == []


def test_add_statements_refuses_admin_without_reason(stack, tags):
    role = IamRoleWithPolicies(stack, "role", props(tags))
    with pytest.raises(ConfigError, match=r"unit/role: add_statements\['x'\]\[0\] is \('\*',\).*SEC002"):
        role.add_statements("x", [ADMIN])
