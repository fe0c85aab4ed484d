"""Value formats shared by settings validation and construct props validation."""

from __future__ import annotations

import ipaddress
import re

MIN_REASON = 10
"""Characters a reason needs (a waiver, a suppression, a declared address change):
shorter ones ("n/a", "legacy") never tell the next reader why. Here, with no cdktf
import, so the policy runner reads the same number without starting node."""

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
# An AWS service principal such as `events.amazonaws.com` or `logs.<region>.amazonaws.com`.
SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$")

# The values CloudWatch Logs accepts for retention_in_days (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
    2192, 2557, 2922, 3288, 3653,
)

# cdktf encodes unresolved values (references, functions) as marker strings
# (`${TfToken[..]}`, and `#{TfToken[..]}` inside encoded lists);
# matching the marker keeps this module free of the slow cdktf import.
TOKEN_MARKER = re.compile(r"[$#]\{(TfToken|Token)\[")


def is_unresolved(value: object) -> bool:
    """True for a cdktf token: its value is only known to Terraform."""
    return isinstance(value, str) and bool(TOKEN_MARKER.search(value))


KMS_DELETION_WINDOW_DAYS = 30
"""The governance rule: every customer-managed key waits 30 days before deletion."""


def is_kebab(value: str) -> bool:
    return is_unresolved(value) or bool(KEBAB.match(value))


def is_email(value: str) -> bool:
    return bool(EMAIL.match(value))


def parse_cidr(value: str) -> ipaddress.IPv4Network | None:
    """The network for `value`, or None when it is not a valid IPv4 CIDR block."""
    try:
        return ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return None

ACCOUNT_ID = re.compile(r"^\d{12}$")
"""An AWS account id."""
PARTITION = re.compile(r"^aws(-[a-z]+)*$")
"""An AWS partition: `aws`, `aws-cn`, `aws-us-gov`, ..."""
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
"""An AWS Region name such as `ap-northeast-2`."""
