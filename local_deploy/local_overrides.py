"""What the local e2e deploy changes in its scratch copy of cdktf.out, and why.

Terraform override files only (provider, backend, lifecycle), except the exclusions,
which delete blocks from the scratch JSON because an override file cannot delete.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROVIDER_OVERRIDE = "local_provider_override.tf.json"
BACKEND_OVERRIDE = "local_backend_override.tf.json"
QUIRKS_OVERRIDE = "local_quirks_override.tf.json"
TEARDOWN_OVERRIDE = "local_teardown_override.tf.json"

ENDPOINT_SERVICES = (
    "acm", "amp", "apigateway", "appautoscaling", "athena", "backup", "cloudtrail", "cloudwatch",
    "dynamodb", "ec2", "ecr", "ecs", "efs", "elbv2", "events", "firehose", "glue", "grafana",
    "iam", "kinesis", "kms", "lambda", "logs", "organizations", "rds", "route53", "s3",
    "secretsmanager", "servicediscovery", "sns", "sqs", "ssm", "sts", "wafv2",
)
"""Every AWS service the provider may call, pointed at moto (one name per service:
the provider rejects a service set twice under two aliases)."""

SERVICE_OF_TYPE: dict[str, str | None] = {
    "aws_acm_": "acm", "aws_athena_": "athena", "aws_backup_": "backup",
    "aws_caller_identity": "sts",
    "aws_cloudtrail": "cloudtrail", "aws_cloudwatch_event_": "events",
    "aws_cloudwatch_log_": "logs", "aws_cloudwatch_metric_alarm": "cloudwatch",
    "aws_db_": "rds", "aws_default_network_acl": "ec2", "aws_default_security_group": "ec2",
    "aws_dynamodb_": "dynamodb", "aws_ec2_": "ec2", "aws_ecr_": "ecr", "aws_ecs_": "ecs",
    "aws_efs_": "efs", "aws_eip": "ec2", "aws_flow_log": "ec2", "aws_glue_": "glue",
    "aws_grafana_": "grafana", "aws_iam_": "iam", "aws_iam_policy_document": None,
    "aws_internet_gateway": "ec2", "aws_kms_": "kms", "aws_lambda_": "lambda", "aws_lb": "elbv2",
    "aws_nat_gateway": "ec2", "aws_partition": None, "aws_prometheus_": "amp",
    "aws_region": None, "aws_regions": "ec2", "aws_route": "ec2", "aws_route53_": "route53",
    "aws_s3_": "s3", "aws_secretsmanager_": "secretsmanager", "aws_security_group": "ec2",
    "aws_sns_": "sns", "aws_ssm_": "ssm", "aws_subnet": "ec2", "aws_vpc": "ec2",
}
"""Resource and data source type prefix -> the service its calls go to (the longest
prefix wins; None: the provider answers it without a call). A type of no prefix
here fails tests/unit/test_local_overrides.py, so a stack that starts using a new
service gets it pointed at moto before the local deploy sends it elsewhere."""


def service_of(resource_type: str) -> str | None:
    """The endpoint service of `resource_type`; KeyError when no prefix covers it."""
    matches = [prefix for prefix in SERVICE_OF_TYPE if resource_type.startswith(prefix)]
    if not matches:
        raise KeyError(resource_type)
    return SERVICE_OF_TYPE[max(matches, key=len)]


BACKEND_ENDPOINTS = ("s3", "dynamodb", "sts", "iam")


def write_json(path: Path, body: dict) -> None:
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")


def load_stack(stack_dir: Path) -> dict:
    return json.loads((stack_dir / "cdk.tf.json").read_text())


# --- provider and backend -----------------------------------------------------------
def provider_override(stack: dict, url: str) -> dict:
    """Every aws provider block (aliases included) talks to moto. The credentials come
    from the environment: an admin's fake keys, or the AWS profile an Atlantis
    workflow selects (assumed through STS on moto)."""
    blocks = []
    for original in stack.get("provider", {}).get("aws", []):
        block = {
            "endpoints": [dict.fromkeys(ENDPOINT_SERVICES, url)],
            "s3_use_path_style": True,
            # No instance metadata on a laptop or CI runner.
            "skip_metadata_api_check": True,
        }
        if "alias" in original:
            block["alias"] = original["alias"]
        blocks.append(block)
    return {"provider": {"aws": blocks}}


def s3_backend_override(stack: dict, url: str) -> dict:
    """The stack's own S3 backend (bucket, key, lock table, KMS alias) reached on moto."""
    backend = dict(stack["terraform"]["backend"]["s3"])
    backend.update(
        endpoints=dict.fromkeys(BACKEND_ENDPOINTS, url),
        use_path_style=True,
        skip_metadata_api_check=True,
    )
    return {"terraform": {"backend": {"s3": backend}}}


def local_backend_override() -> dict:
    return {"terraform": {"backend": {"local": {"path": "terraform.tfstate"}}}}


# --- exclusions ----------------------------------------------------------------------
@dataclass(frozen=True)
class Exclusion:
    stack: str
    address: str
    reason: str


EXCLUDED_TYPE_PREFIXES = {
    "aws_grafana_": "moto 5.2.5 has no Amazon Managed Grafana service",
    "aws_backup_selection": "moto 5.2.5 has backup vaults, plans and vault locks but no backup "
                            "selections (moto/backup/urls.py routes no "
                            "/backup/plans/<id>/selections)",
}


def remove_excluded(stack_name: str, stack: dict) -> list[Exclusion]:
    """Delete the excluded resource types from `stack` and, transitively, every resource,
    data source and output that references them; returns what went, with the reason."""
    removed: list[Exclusion] = []
    gone: list[str] = []
    for rtype in list(stack.get("resource", {})):
        reason = next((r for p, r in EXCLUDED_TYPE_PREFIXES.items() if rtype.startswith(p)), None)
        if reason is None:
            continue
        for name in stack["resource"].pop(rtype):
            address = f"{rtype}.{name}"
            gone.append(address)
            removed.append(Exclusion(stack_name, address, reason))
    while gone:
        pattern = re.compile(r"(?<![\w.-])(" + "|".join(re.escape(a) for a in gone) + r")\b")
        gone = []
        for kind in ("resource", "data"):
            for rtype, blocks in list(stack.get(kind, {}).items()):
                for name, body in list(blocks.items()):
                    found = pattern.search(json.dumps(body))
                    if found is None:
                        continue
                    del blocks[name]
                    address = f"{rtype}.{name}" if kind == "resource" else f"data.{rtype}.{name}"
                    gone.append(address)
                    removed.append(Exclusion(stack_name, address, f"references {found.group(1)}"))
                if not blocks:
                    del stack[kind][rtype]
        for name, body in list(stack.get("output", {}).items()):
            found = pattern.search(json.dumps(body))
            if found is not None:
                del stack["output"][name]
                removed.append(Exclusion(stack_name, f"output.{name}",
                                         f"references {found.group(1)}"))
    return removed


# --- moto quirks ---------------------------------------------------------------------
@dataclass(frozen=True)
class Quirk:
    resource_type: str
    reason: str
    kind: str = "resource"
    """'resource', or 'data' for a data source."""
    ignore_changes: tuple[str, ...] = ()
    """Attributes moto does not store; ignored in the re-plan (lifecycle override)."""
    applies: Callable[[dict], bool] = lambda body: True
    set_attributes: Callable[[dict], dict] | None = None
    """Attribute values the scratch copy sets instead (an override file)."""
    forget_before_destroy: bool = False
    """`terraform state rm` before destroy: moto never finishes deleting it."""


def _references_group(body: dict) -> bool:
    return bool(body.get("referenced_security_group_id") or body.get("source_security_group_id"))


def _log_group_arn_with_wildcard(body: dict) -> dict:
    arn = body.get("cloudwatch_log_group_arn", "")
    if arn.endswith(":*"):
        return {}
    # "${aws_cloudwatch_log_group.x.arn}" -> "${aws_cloudwatch_log_group.x.arn}:*"
    return {"cloudwatch_log_group_arn": f"{arn}:*"}


STAND_IN_TASK_ROLE = "atlantis-task-stand-in"
"""The role whose sessions the local PR runs' container credentials serve: the atlantis
stack's own task role does not exist before that stack is applied in the run."""

_TASK_ROLE = re.compile(r":role/[a-z0-9-]+-atlantis-task$")


def _task_role_conditions(body: dict):
    for statement in body.get("statement", []):
        for condition in statement.get("condition", []):
            if condition.get("variable") == "aws:PrincipalArn" and any(
                    _TASK_ROLE.search(v) for v in condition.get("values", [])):
                yield condition


def _trusts_task_role(body: dict) -> bool:
    return next(_task_role_conditions(body), None) is not None


def _trust_stand_in_too(body: dict) -> dict:
    statements = json.loads(json.dumps(body["statement"]))
    for condition in _task_role_conditions({"statement": statements}):
        condition["values"] = sorted({*condition["values"], *(
            _TASK_ROLE.sub(f":role/{STAND_IN_TASK_ROLE}", v) for v in condition["values"]
            if _TASK_ROLE.search(v))})
    return {"statement": statements}


QUIRKS: tuple[Quirk, ...] = (
    Quirk("aws_ec2_transit_gateway_vpc_attachment",
          "moto does not store a transit gateway attachment's tags (re-plan drift)",
          ignore_changes=("tags", "tags_all")),
    Quirk("aws_ec2_transit_gateway_vpc_attachment",
          "moto never completes a transit gateway attachment's deletion (destroy hangs); "
          "it is removed from the state before destroy",
          forget_before_destroy=True),
    Quirk("aws_ecs_service",
          "moto does not store enable_execute_command, availability_zone_rebalancing, "
          "enable_ecs_managed_tags and health_check_grace_period_seconds",
          ignore_changes=("enable_execute_command", "availability_zone_rebalancing",
                          "enable_ecs_managed_tags", "health_check_grace_period_seconds")),
    Quirk("aws_db_parameter_group",
          "moto does not store a DB parameter group's parameters",
          ignore_changes=("parameter",)),
    Quirk("aws_db_instance",
          "moto does not store the Performance Insights settings",
          ignore_changes=("performance_insights_enabled", "performance_insights_kms_key_id",
                          "performance_insights_retention_period")),
    Quirk("aws_prometheus_workspace",
          "moto does not store an AMP workspace's kms_key_arn",
          ignore_changes=("kms_key_arn",)),
    Quirk("aws_vpc_security_group_ingress_rule",
          "moto drops the description of a rule that references another security group",
          ignore_changes=("description",), applies=_references_group),
    Quirk("aws_vpc_security_group_egress_rule",
          "moto drops the description of a rule that references another security group",
          ignore_changes=("description",), applies=_references_group),
    Quirk("aws_security_group_rule",
          "moto drops the description of a rule that references another security group",
          ignore_changes=("description",), applies=_references_group),
    Quirk("aws_iam_policy_document",
          "the plan and apply roles trust only the atlantis task role, which the atlantis "
          "stack creates later in the run; the scratch copy's trust names the stand-in task "
          f"role ({STAND_IN_TASK_ROLE}) beside it, with the same condition",
          kind="data", applies=_trusts_task_role, set_attributes=_trust_stand_in_too),
    Quirk("aws_route53_query_log",
          "moto accepts only the log group ARN with the ':*' suffix (a form AWS documents "
          "and accepts too); the scratch copy appends it",
          set_attributes=_log_group_arn_with_wildcard),
)


@dataclass(frozen=True)
class AppliedQuirk:
    stack: str
    address: str
    """`type.name`, `data.type.name` for a data source."""
    quirk: Quirk


def quirks_for(stack_name: str, stack: dict) -> list[AppliedQuirk]:
    applied = []
    for quirk in QUIRKS:
        prefix = "data." if quirk.kind == "data" else ""
        for name, body in stack.get(quirk.kind, {}).get(quirk.resource_type, {}).items():
            if quirk.applies(body):
                applied.append(AppliedQuirk(stack_name,
                                            f"{prefix}{quirk.resource_type}.{name}", quirk))
    return applied


def quirks_override(stack: dict, applied: list[AppliedQuirk]) -> dict:
    """ignore_changes (merged with what the stack already ignores) and replaced values;
    empty when nothing needs overriding."""
    blocks: dict[str, dict[str, dict[str, dict]]] = {"resource": {}, "data": {}}
    for item in applied:
        kind = item.quirk.kind
        rtype, name = item.address.removeprefix("data.").split(".", 1)
        body = stack[kind][rtype][name]
        override = blocks[kind].setdefault(rtype, {}).setdefault(name, {})
        if item.quirk.ignore_changes:
            lifecycle = override.setdefault("lifecycle", {})
            current = lifecycle.get("ignore_changes") or body.get("lifecycle", {}).get(
                "ignore_changes", [])
            if current == "all":
                continue
            lifecycle["ignore_changes"] = sorted({*current, *item.quirk.ignore_changes})
        if item.quirk.set_attributes is not None:
            override.update(item.quirk.set_attributes(body))
    result = {}
    for kind, types in blocks.items():
        kept = {t: {n: b for n, b in bs.items() if b} for t, bs in types.items()}
        if any(kept.values()):
            result[kind] = {t: bs for t, bs in kept.items() if bs}
    return result


# --- teardown ------------------------------------------------------------------------
PROTECTION_ATTRIBUTES = {
    "aws_db_instance": {"deletion_protection": False, "skip_final_snapshot": True},
    "aws_rds_cluster": {"deletion_protection": False, "skip_final_snapshot": True},
    "aws_lb": {"enable_deletion_protection": False},
    "aws_dynamodb_table": {"deletion_protection_enabled": False},
}
"""Deletion protection lifted (by an apply) before destroy, as one must on AWS too."""


def teardown_override(stack: dict) -> tuple[dict, bool]:
    """prevent_destroy lifted everywhere and deletion protection off; the bool says whether
    an apply is needed first (a protection attribute changes)."""
    resources: dict[str, dict[str, dict]] = {}
    needs_apply = False
    for rtype, blocks in stack.get("resource", {}).items():
        for name, body in blocks.items():
            override = {}
            if body.get("lifecycle", {}).get("prevent_destroy"):
                override["lifecycle"] = {"prevent_destroy": False}
            for attribute, safe in PROTECTION_ATTRIBUTES.get(rtype, {}).items():
                # A missing attribute has the provider's default, False for all of these.
                if body.get(attribute, False) != safe:
                    override[attribute] = safe
                    needs_apply = True
            if override:
                resources.setdefault(rtype, {})[name] = override
    return {"resource": resources}, needs_apply
