"""Reading the synthesized Terraform JSON of a stack in tests: one definition of
each lookup, shared by every stack test file."""

from __future__ import annotations

import json


def resources(stack, kind) -> dict[str, dict]:
    """The resources of `kind` by logical id; a KeyError if the stack has none."""
    return stack["resource"][kind]


def one(stack, kind) -> dict:
    """The body of the one resource of `kind` (fails unless there is exactly one)."""
    (body,) = resources(stack, kind).values()
    return body


def by_name(stack, kind, attribute="name") -> dict[str, dict]:
    """The resources of `kind` keyed by their `attribute`; fails when two share a
    value, so a key stands for exactly one resource."""
    found: dict = {}
    for body in resources(stack, kind).values():
        key = body[attribute]
        assert key not in found, f"two {kind} with {attribute} {key!r}"
        found[key] = body
    return found


def address(stack, kind, **attributes) -> str:
    """`<kind>.<logical id>` of the one resource of `kind` whose attributes have
    these values (fails unless exactly one has)."""
    found = [f"{kind}.{name}" for name, body in resources(stack, kind).items()
             if all(body.get(key) == value for key, value in attributes.items())]
    assert len(found) == 1, f"{len(found)} {kind} with {attributes}: {found}"
    return found[0]


def ref(address: str, attribute: str = "id") -> str:
    """The `${<address>.<attribute>}` expression that reads a resource's attribute."""
    return f"${{{address}.{attribute}}}"


def at_path(stack, section, kind, path):
    """The block whose construct path is `path` (logical ids carry hash suffixes)."""
    for body in stack[section][kind].values():
        if body["//"]["metadata"]["path"] == path:
            return body
    raise KeyError(path)


def policy(stack, reference: str) -> dict:
    """The aws_iam_policy_document data source a `${data....json}` reference names."""
    name = reference.removeprefix("${data.aws_iam_policy_document.").removesuffix(".json}")
    return stack["data"]["aws_iam_policy_document"][name]


def policy_at(stack, path: str) -> dict:
    """The aws_iam_policy_document data source whose construct path is `path`."""
    return at_path(stack, "data", "aws_iam_policy_document", path)


def statements(document) -> dict[str | None, dict]:
    """A policy document's statements by sid (None for one without); fails when two
    share a sid, so `(only,) = statements(doc).values()` really is the only one."""
    found: dict = {}
    for statement in document["statement"]:
        sid = statement.get("sid")
        assert sid not in found, f"two statements with sid {sid!r}"
        found[sid] = statement
    return found


def conditions(statement) -> dict[tuple[str, str], list[str]]:
    """A statement's conditions as (test, variable) -> values ({} without any);
    fails when a (test, variable) pair is repeated."""
    found: dict = {}
    for condition in statement.get("condition", []):
        key = (condition["test"], condition["variable"])
        assert key not in found, f"condition {key} twice"
        found[key] = condition["values"]
    return found


def group_rules(stack, direction, group) -> list[dict]:
    """The `direction` ("ingress" or "egress") rules of the security group at address
    `group`; a KeyError if the stack has no rule of that direction at all."""
    kind = f"aws_vpc_security_group_{direction}_rule"
    return [r for r in resources(stack, kind).values() if r["security_group_id"] == ref(group)]


def attachments(stack, role_name) -> list[dict]:
    """The aws_iam_role_policy_attachments of the role named `role_name`."""
    role = ref(address(stack, "aws_iam_role", name=role_name), "name")
    return [a for a in resources(stack, "aws_iam_role_policy_attachment").values()
            if a["role"] == role]


def published(stack) -> dict[str, str]:
    """Name -> value of the SSM parameters (the contracts) the stack writes."""
    return {name: body["value"] for name, body in by_name(stack, "aws_ssm_parameter").items()}


def reads(stack) -> list[str]:
    """The paths of the SSM parameters the stack reads (its data sources), sorted."""
    return sorted(body["name"] for body in stack["data"]["aws_ssm_parameter"].values())


def producers(stack) -> set[str]:
    """The stacks whose SSM parameters the stack reads (`/<env>/<stack>/<name>`)."""
    return {path.split("/")[2] for path in reads(stack)}


def ssm(name):
    """The `${data.aws_ssm_parameter.<name>.insecure_value}` reference to an SSM parameter."""
    return f"${{data.aws_ssm_parameter.{name}.insecure_value}}"


def containers(stack) -> dict[str, dict]:
    """The container definitions of the stack's one ECS task definition, by name."""
    return {c["name"]: c for c in json.loads(one(stack, "aws_ecs_task_definition")[
        "container_definitions"])}
