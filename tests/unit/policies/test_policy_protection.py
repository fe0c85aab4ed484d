"""PRO001: stateful resources carry prevent_destroy and never force_destroy."""

from __future__ import annotations

import pytest

from policies.model import Outcome
from policies.rules.pro001_prevent_destroy import RULE as PRO001

C, N, NA = Outcome.COMPLIANT, Outcome.NON_COMPLIANT, Outcome.NOT_APPLICABLE
KEEP = {"lifecycle": {"prevent_destroy": True}}


@pytest.mark.parametrize(("case", "rtype", "body", "expected"), [
    ("bucket kept", "aws_s3_bucket", {**KEEP, "bucket": "prod-b"}, C),
    ("bucket without lifecycle", "aws_s3_bucket", {"bucket": "prod-b"}, N),
    ("bucket force_destroy", "aws_s3_bucket", {**KEEP, "force_destroy": True}, N),
    ("table kept", "aws_dynamodb_table", KEEP, C),
    ("key prevent_destroy false", "aws_kms_key", {"lifecycle": {"prevent_destroy": False}}, N),
    ("efs kept", "aws_efs_file_system", KEEP, C),
    ("backup vault kept", "aws_backup_vault", {**KEEP, "name": "prod-backup"}, C),
    ("backup vault without lifecycle", "aws_backup_vault", {"name": "prod-backup"}, N),
    ("backup vault force_destroy", "aws_backup_vault", {**KEEP, "force_destroy": True}, N),
    ("db fully protected", "aws_db_instance", {**KEEP, "deletion_protection": True,
                                               "skip_final_snapshot": False}, C),
    ("db without deletion protection", "aws_db_instance", {**KEEP, "skip_final_snapshot": False}, N),
    ("db skipping the final snapshot", "aws_db_instance",
     {**KEEP, "deletion_protection": True, "skip_final_snapshot": True}, N),
    ("stateless type", "aws_sns_topic", {"name": "prod-t"}, NA),
])
def test_pro001(pol, case, rtype, body, expected):
    assert pol.outcome_of(PRO001, pol.doc({rtype: {"r": body}}), f"{rtype}.r") is expected, case


def test_pro001_lists_every_problem(pol):
    doc = pol.doc({"aws_db_instance": {"r": {"skip_final_snapshot": True}}})
    _, message = pol.outcomes(PRO001, doc)["aws_db_instance.r"]
    assert "lifecycle.prevent_destroy" in message
    assert "deletion_protection" in message and "skip_final_snapshot" in message
