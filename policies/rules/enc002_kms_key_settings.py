"""ENC002: every customer-managed KMS key rotates and waits 30 days before deletion."""

from __future__ import annotations

from typing import ClassVar

from constructs_lib.formats import KMS_DELETION_WINDOW_DAYS
from policies.model import AttributeRule


class KmsKeySettings(AttributeRule):
    id = "ENC002"
    family = "encryption"
    title = "every aws_kms_key has rotation and a 30-day deletion window"
    rationale = ("Yearly rotation limits what one leaked key version decrypts; the maximum "
                 "30-day window leaves time to notice and cancel a mistaken deletion, which "
                 "would otherwise make every object encrypted with the key unreadable.")
    fix = (f"use constructs_lib.kms_key (enable_key_rotation=True, "
           f"deletion_window_in_days={KMS_DELETION_WINDOW_DAYS})")
    resource_types = frozenset({"aws_kms_key"})
    requirements: ClassVar[dict[str, tuple]] = {
        "enable_key_rotation": (True,),
        "deletion_window_in_days": (KMS_DELETION_WINDOW_DAYS,),
    }


RULE = KmsKeySettings()
