"""NAM001: name-like attributes are kebab-case and start with `<env>-`, except where AWS says otherwise."""

from __future__ import annotations

import re

from policies.model import (
    NOT_APPLICABLE,
    ResourceView,
    Result,
    Rule,
    from_problems,
    is_kebab,
    is_snake,
    is_token,
)

# Attributes that carry a resource's own name on most types.
NAME_ATTRIBUTES = (
    "name", "name_prefix", "bucket", "bucket_prefix", "identifier", "identifier_prefix",
    "function_name", "alarm_name", "dashboard_name",
)
# Name attributes that only mean "name" on some types.
TYPE_NAME_ATTRIBUTES = {
    "aws_ecs_task_definition": ("family",),
    "aws_prometheus_workspace": ("alias",),
}

# Types whose names are not ours to shape, each with why. They are skipped.
SKIPPED_TYPES = {
    "aws_ssm_parameter": "names are paths; NAM003 checks them",
    "aws_route53_zone": "the name is the DNS domain",
    "aws_route53_record": "the name is a DNS name",
    "aws_acm_certificate": "the name is a DNS name",
    "aws_iam_service_linked_role": "AWS names service-linked roles",
}

# Types whose names follow another AWS-imposed format, each with why.
PATH_TYPES = {
    "aws_cloudwatch_log_group": ("log group names are paths: `/aws/<service>/...` where AWS "
                                 "services require it (Lambda, Route 53 query logs, flow "
                                 "logs), otherwise `/<env>/...`"),
    "aws_secretsmanager_secret": ("secret names are hierarchical by convention "
                                  "(`<env>/<service>/<name>`); `/` is allowed"),
}
SNAKE_TYPES = {
    "aws_glue_catalog_database": "Athena/Glue reject hyphens: snake_case, `<env>_` prefix",
    "aws_glue_catalog_table": "Athena/Glue reject hyphens: snake_case (the env is in the database)",
    "aws_athena_database": "Athena database names allow only letters, digits and underscores",
}
KMS_ALIAS_TYPE = "aws_kms_alias"  # KMS requires `alias/`; the rest is `<env>-...`
FIFO_SUFFIX = ".fifo"  # SQS/SNS require it on FIFO queues and topics

# Names the reference fixes, each with why: (type, the name with `{env}` for the
# environment's name) -> reason.
EXCEPTIONS = {
    ("aws_ecs_cluster", "atlantis-{env}"): (
        "the reference README names the cluster `atlantis-<env>` (its runbook runs "
        "`aws ecs describe-tasks --cluster atlantis-<env>`)"),
}

LOG_PATH = re.compile(r"^/aws/[A-Za-z0-9._/-]+$")
SEGMENT = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _name_attributes(resource: ResourceView) -> tuple[str, ...]:
    return NAME_ATTRIBUTES + TYPE_NAME_ATTRIBUTES.get(resource.type, ())


def _check_name(rtype: str, attr: str, value: str, env: str | None) -> str | None:
    """A problem sentence, or None when `value` is a good name for `attr` of `rtype`."""
    if env is not None and any(rtype == t and value == name.format(env=env)
                               for t, name in EXCEPTIONS):
        return None
    prefix_attr = attr.endswith("_prefix")
    if rtype in PATH_TYPES and "/" in value:
        segments = value.strip("/").split("/")
        if rtype == "aws_cloudwatch_log_group" and LOG_PATH.match(value):
            return None
        leading = value.startswith("/") if rtype == "aws_cloudwatch_log_group" else True
        if leading and all(SEGMENT.match(s) for s in segments) and (
                env is None or segments[0] == env):
            return None
        return (f"{attr} {value!r} is not a path of kebab-case segments starting with "
                f"{'/' if rtype == 'aws_cloudwatch_log_group' else ''}{env or '<env>'}/")
    if rtype in SNAKE_TYPES:
        prefixed = rtype == "aws_glue_catalog_table" or env is None or value.startswith(
            f"{env.replace('-', '_')}_")
        return None if is_snake(value) and prefixed else (
            f"{attr} {value!r} is not snake_case with the `{env}_` prefix"
            if rtype != "aws_glue_catalog_table" else f"{attr} {value!r} is not snake_case")
    if rtype == KMS_ALIAS_TYPE:
        if not value.startswith("alias/"):
            return f"{attr} {value!r} does not start with alias/"
        value = value[len("alias/"):]
    if value.endswith(FIFO_SUFFIX) and rtype in ("aws_sqs_queue", "aws_sns_topic"):
        value = value[: -len(FIFO_SUFFIX)]
    body = value[:-1] if prefix_attr and value.endswith("-") else value
    if not is_kebab(body):
        return f"{attr} {value!r} is not kebab-case"
    if env is not None and not (body == env or body.startswith(f"{env}-")):
        return f"{attr} {value!r} does not start with {env}-"
    return None


class ResourceNames(Rule):
    id = "NAM001"
    family = "naming"
    title = "name-like attributes kebab-case with the environment prefix"
    rationale = ("One naming scheme (`<env>-<service>-<purpose>`, the reference's rule) makes "
                 "the environment and owner of any resource obvious in the console, in ARNs "
                 "and in IAM conditions, and avoids collisions between environments.")
    fix = "build the name with GovernedStack.resource_name(...) (gives `<env>-...`)"

    def applies_to(self, resource: ResourceView) -> bool:
        return not resource.data and resource.type not in SKIPPED_TYPES

    def check(self, resource: ResourceView) -> Result:
        if resource.type in SKIPPED_TYPES:
            return NOT_APPLICABLE
        env = resource.stack.environment
        checked = False
        problems = []
        for attr in _name_attributes(resource):
            value = resource.body.get(attr)
            if not isinstance(value, str):
                continue
            checked = True
            if is_token(value):
                continue
            problem = _check_name(resource.type, attr, value, env)
            if problem:
                problems.append(problem)
        if not checked:
            return NOT_APPLICABLE
        return from_problems(problems)


RULE = ResourceNames()
