"""NAM002: Terraform outputs and variables are snake_case."""

from __future__ import annotations

from collections.abc import Iterable

from policies.model import COMPLIANT, NON_COMPLIANT, Result, Rule, StackView, is_snake


class OutputVariableNames(Rule):
    id = "NAM002"
    family = "naming"
    title = "outputs and variables snake_case"
    rationale = ("The reference names outputs and variables in snake_case (`vpc_id`, "
                 "`subnet_ids`); consistent names keep `terraform output` and remote-state "
                 "readers predictable.")
    fix = "give the TerraformOutput / TerraformVariable a snake_case construct id"

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        for kind in ("output", "variable"):
            for name in sorted(stack.doc.get(kind) or {}):
                yield f"{kind}.{name}", (COMPLIANT if is_snake(name) else NON_COMPLIANT(
                    f"{kind} name {name!r} is not snake_case"))


RULE = OutputVariableNames()
