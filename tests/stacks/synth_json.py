"""Reading the synthesized Terraform JSON of a stack in tests."""

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
    """The resources of `kind` keyed by their `attribute`."""
    return {body[attribute]: body for body in resources(stack, kind).values()}


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


def ssm(name):
    """The `${data.aws_ssm_parameter.<name>.insecure_value}` reference to an SSM parameter."""
    return f"${{data.aws_ssm_parameter.{name}.insecure_value}}"


def containers(stack) -> dict[str, dict]:
    """The container definitions of the stack's one ECS task definition, by name."""
    return {c["name"]: c for c in json.loads(one(stack, "aws_ecs_task_definition")[
        "container_definitions"])}
