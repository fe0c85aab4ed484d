"""Every IAM document of every stack, read from the synthesized JSON: no
statement puts an action under an encryption-context condition its requests
never carry, and every service trust names its source (aws:SourceAccount or
aws:SourceArn) unless the service documents that it cannot."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from constructs_lib.kms_key import condition_applies
from stacks.registry import STACK_NAMES

DATA_REFERENCE = re.compile(r"^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$")
SOURCE_KEYS = ("aws:sourceaccount", "aws:sourcearn")

# Services whose role trusts cannot carry SourceAccount/SourceArn, with the
# document that says so. Every other service trusted here documents the keys in
# its role trust: ecs-tasks (Amazon ECS task IAM role), events (EventBridge
# cross-service confused deputy prevention: the rule ARN), grafana (workspace
# service role), monitoring.rds (USER_Monitoring.OS.Enabling.html#USER_Monitoring.OS.confused-deputy),
# vpc-flow-logs (flow-logs-iam-role.html: the flow log ARN).
SOURCELESS_SERVICES = {
    # "Confused deputy prevention is not applicable to the role policy for
    # CloudWatch Logs monitoring. The role policy doesn't support the use of
    # aws:SourceArn and aws:SourceAccount." (the only role CloudTrail assumes here)
    "cloudtrail.amazonaws.com": "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
                                "cloudtrail-required-policy-for-cloudwatch-logs.html",
    # AWS Backup's confused-deputy guidance puts aws:SourceArn/SourceAccount in
    # resource policies (key and SNS topic policies: the SourceArn "must be a Backup
    # vault"); neither its service-role page (iam-service-roles.html) nor the
    # provider's example role (hashicorp/terraform-provider-aws
    # website/docs/r/backup_selection.html.markdown) puts a condition on the trust,
    # and no page says the service sends either key when it assumes the role passed
    # with a selection. A condition it does not satisfy would fail every backup job.
    "backup.amazonaws.com": "https://docs.aws.amazon.com/aws-backup/latest/devguide/"
                            "cross-service-confused-deputy-prevention.html",
}


@dataclass(frozen=True)
class Statement:
    """One statement, whichever way it was written (data source or JSON)."""

    where: str
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    services: tuple[str, ...]
    condition_keys: tuple[str, ...]


def _from_data_source(where: str, body: dict) -> list[Statement]:
    statements = []
    for stmt in body.get("statement", []):
        statements.append(Statement(
            where=where,
            sid=stmt.get("sid"),
            effect=stmt.get("effect", "Allow"),
            actions=tuple(stmt.get("actions", [])),
            services=tuple(i for p in stmt.get("principals", []) if p["type"] == "Service"
                           for i in p["identifiers"]),
            condition_keys=tuple(c["variable"] for c in stmt.get("condition", [])),
        ))
    return statements


def _listed(value) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value or ())


def _from_json(where: str, document: dict) -> list[Statement]:
    statements = []
    for stmt in _listed_statements(document["Statement"]):
        principal = stmt.get("Principal")
        services = _listed(principal.get("Service")) if isinstance(principal, dict) else ()
        statements.append(Statement(
            where=where,
            sid=stmt.get("Sid"),
            effect=stmt.get("Effect", "Allow"),
            actions=_listed(stmt.get("Action")),
            services=services,
            condition_keys=tuple(key for keys in (stmt.get("Condition") or {}).values()
                                 for key in keys),
        ))
    return statements


def _listed_statements(value) -> list[dict]:
    return [value] if isinstance(value, dict) else list(value)


def _json_policy(value: object) -> dict | None:
    """The policy a resource attribute holds as a JSON string, or None."""
    if not isinstance(value, str) or not value.lstrip().startswith("{"):
        return None
    try:
        document = json.loads(value)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) and "Statement" in document else None


def policy_statements(stack_name: str, stack: dict) -> Iterator[Statement]:
    """The statements of every aws_iam_policy_document data source and of every
    policy a resource holds as inline JSON."""
    for name, body in (stack.get("data") or {}).get("aws_iam_policy_document", {}).items():
        yield from _from_data_source(f"{stack_name}: data.aws_iam_policy_document.{name}", body)
    for kind, by_name in (stack.get("resource") or {}).items():
        for name, body in by_name.items():
            for attribute, value in body.items():
                document = _json_policy(value)
                if document is not None:
                    yield from _from_json(f"{stack_name}: {kind}.{name}.{attribute}", document)


def trust_statements(stack_name: str, stack: dict) -> Iterator[tuple[str, Statement]]:
    """(role name, statement) for every statement of every role's trust policy."""
    documents = (stack.get("data") or {}).get("aws_iam_policy_document", {})
    for name, role in (stack.get("resource") or {}).get("aws_iam_role", {}).items():
        where = f"{stack_name}: aws_iam_role.{name}"
        trust = role["assume_role_policy"]
        reference = DATA_REFERENCE.match(trust)
        if reference:
            statements = _from_data_source(where, documents[reference.group(1)])
        else:
            document = _json_policy(trust)
            assert document is not None, f"{where}: unreadable trust {trust!r}"
            statements = _from_json(where, document)
        for statement in statements:
            yield role["name"], statement


def encryption_context_offences(statements) -> list[str]:
    return [f"{s.where} (sid {s.sid}): {action} under {key}"
            for s in statements for key in s.condition_keys for action in s.actions
            if not condition_applies(key, action)]


def sourceless_trusts(trusts) -> list[tuple[str, str]]:
    """(role name, where) of Allow service trusts with neither source key."""
    return [(role, s.where) for role, s in trusts
            if s.effect == "Allow" and s.services
            and any(a.lower().startswith("sts:assumerole") or a in ("sts:*", "*")
                    for a in s.actions)
            and not set(s.services) <= set(SOURCELESS_SERVICES)
            and not any(k.lower() in SOURCE_KEYS for k in s.condition_keys)]


@pytest.fixture(scope="module")
def stacks(synth_root, env_stack_json) -> dict[str, dict]:
    """`<env>-<stack>` -> its JSON, for every stack of every environment."""
    found = sorted(p.relative_to(synth_root).parts[::2]
                   for p in synth_root.glob("*/stacks/*") if p.is_dir())
    # Every stack of the registry is walked (prod has them all), and nothing else.
    assert sorted({stack for _, stack in found}) == sorted(STACK_NAMES)
    return {f"{env}-{stack}": env_stack_json(env, stack) for env, stack in found}


@pytest.fixture(scope="module")
def statements(stacks) -> list[Statement]:
    return [s for name, stack in stacks.items() for s in policy_statements(name, stack)]


def test_encryption_context_conditions_only_on_actions_that_carry_one(statements):
    assert encryption_context_offences(statements) == []
    # The walk reaches the documents that use such conditions: the logs key, its
    # us-east-1 replica and the CloudTrail key.
    users = {s.where.split(":")[0] for s in statements
             if any(k.startswith("kms:EncryptionContext:") for k in s.condition_keys)}
    assert {"prod-kms", "prod-route53", "staging-kms", "staging-route53"} <= users


def test_service_role_trusts_name_their_source(stacks):
    trusts = [t for name, stack in stacks.items() for t in trust_statements(name, stack)]
    checked = {role for role, s in trusts if s.services}
    assert {"prod-mysql-monitoring", "prod-cloudtrail-logs"} <= checked
    assert sourceless_trusts(trusts) == []


def test_the_checks_read_inline_json_and_flag_what_they_should():
    describe_under_context = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
                      "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
                      "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "x"}}},
    }
    bare_trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                 "Principal": {"Service": "lambda.amazonaws.com"}}]}
    stack = {"resource": {
        "aws_kms_key": {"key": {"policy": json.dumps(describe_under_context)}},
        "aws_iam_role": {"role": {"name": "prod-fn", "assume_role_policy": json.dumps(bare_trust)},
                         "trail": {"name": "prod-trail-logs", "assume_role_policy": json.dumps(
                             {"Statement": [{**bare_trust["Statement"][0], "Principal": {
                                 "Service": "cloudtrail.amazonaws.com"}}]})}},
    }}
    assert encryption_context_offences(policy_statements("x", stack)) == [
        "x: aws_kms_key.key.policy (sid None): kms:DescribeKey under "
        "kms:EncryptionContext:aws:logs:arn"]
    assert [role for role, _ in sourceless_trusts(trust_statements("x", stack))] == ["prod-fn"]
