"""Props checks shared by the constructs: the name rule (kebab-case,
`<environment>-` prefix) and the minimum length of a waiver reason."""

from __future__ import annotations

from constructs_lib.errors import Problems
from constructs_lib.formats import MIN_REASON, is_kebab, is_unresolved


def check_name(problems: Problems, field: str, value: object, environment: str,
               max_length: int) -> None:
    """Add a problem unless `value` is a kebab-case `<environment>-...` name of
    at most `max_length` characters (tokens are left to Terraform)."""
    if is_unresolved(value):
        return
    prefix = f"{environment}-"
    if not isinstance(value, str) or not is_kebab(value) or not value.startswith(prefix):
        problems.add(field, value, f"allowed is a kebab-case name starting with {prefix!r}")
    elif len(value) > max_length:
        problems.add(field, value, f"allowed are at most {max_length} characters")


def check_reason(problems: Problems, field: str, reason: str | None, *,
                 required_for: str | None = None) -> None:
    """Add a problem when a given waiver reason is too short to be reviewed.

    `required_for` names the weakening that needs the reason (e.g. "turning
    deletion protection off"): then a missing reason is a problem too, and the
    sentence says what needs it. Left out: a missing reason is fine.
    """
    if reason is None and required_for is None:
        return
    if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
        if required_for:
            problems.add(field, reason,
                         f"{required_for} needs a reason of at least {MIN_REASON} characters")
        else:
            problems.add(field, reason, f"a reason needs at least {MIN_REASON} characters")
