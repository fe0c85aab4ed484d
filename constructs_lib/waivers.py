"""Record a deliberate weakening on the resource itself, so the policy report shows it.

A waiver lives in the resource's `//` comment block of the synthesized JSON
(Terraform ignores it), as `"//": {"waivers": {"<rule id>": "<reason>"}}`.
The policy runner reads it: a finding of that rule on that resource is
reported as waived with the reason instead of failing.
"""

from __future__ import annotations

from cdktf import TerraformResource

from constructs_lib.errors import ConfigError
from constructs_lib.formats import MIN_REASON


def record(resource: TerraformResource, rule_id: str, reason: str | None, *, where: str) -> None:
    """Mark `resource` as deliberately not meeting `rule_id` for `reason`."""
    if not reason or len(reason.strip()) < MIN_REASON:
        raise ConfigError([
            f"{where}: weakening {rule_id} needs a reason of at least {MIN_REASON} "
            f"characters, got {reason!r}."])
    resource.add_override(f"//.waivers.{rule_id}", reason.strip())
