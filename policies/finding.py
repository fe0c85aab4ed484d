"""A finding: one check (a rule of ours or a checkov check) failing at one resource of one stack."""

from __future__ import annotations

from dataclasses import dataclass, replace

from policies.model import Severity

# A finding is open until an excuse (policies/excuses.py) waives or suppresses it.
OPEN, WAIVED, SUPPRESSED = "open", "waived", "suppressed"


@dataclass(frozen=True)
class Finding:
    rule: str
    """Our rule id (TAG001) or a checkov check id (CKV_AWS_18)."""
    stack: str
    address: str
    """`type.name`, `data.type.name`, `output.name`, `provider.aws`..."""
    message: str
    """What is wrong; for checkov, the check's name."""
    fix: str = ""
    severity: Severity = Severity.ERROR
    status: str = OPEN
    reason: str = ""
    """Why the finding is excused (empty while open)."""

    @property
    def resource(self) -> str:
        """`<stack>/<address>`, the form suppression entries match."""
        return f"{self.stack}/{self.address}"

    def line(self) -> str:
        return f"{self.rule} {self.resource}: {self.message}" + (f" — {self.fix}" if self.fix else "")

    def excused(self, status: str, reason: str) -> Finding:
        return replace(self, status=status, reason=reason)
