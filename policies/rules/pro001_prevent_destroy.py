"""PRO001: stateful resources carry prevent_destroy and never force_destroy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from policies.model import AttributeRule, ResourceView, is_token

# A backup vault holds the recovery points; its force_destroy deletes them all first.
STATEFUL_TYPES = frozenset({
    "aws_s3_bucket", "aws_dynamodb_table", "aws_kms_key", "aws_db_instance", "aws_efs_file_system",
    "aws_backup_vault",
})


class PreventDestroy(AttributeRule):
    id = "PRO001"
    family = "protection"
    title = "stateful resources carry prevent_destroy and no force_destroy"
    rationale = ("Data, state and keys cannot be recreated: a plan that replaces or deletes "
                 "them must fail instead of destroying them, and a bucket must never be "
                 "emptied by Terraform.")
    fix = ("keep the construct default (lifecycle prevent_destroy, no force_destroy, RDS "
           "deletion_protection and a final snapshot), or pass allow_destroy_reason=... which "
           "records a waiver")
    resource_types = STATEFUL_TYPES
    requirements: ClassVar[dict[str, tuple]] = {"lifecycle.prevent_destroy": (True,)}

    def problems(self, resource: ResourceView) -> Iterator[str]:
        yield from super().problems(resource)
        if resource.get("force_destroy") is True:
            yield "force_destroy is true"
        if resource.type == "aws_db_instance":
            protection = resource.get("deletion_protection")
            if protection is not True and not is_token(protection):
                yield "deletion_protection is not true"
            if resource.get("skip_final_snapshot") is True:
                yield "skip_final_snapshot is true"


RULE = PreventDestroy()
