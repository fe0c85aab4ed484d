"""NAM003: SSM parameter names are `/<env>/<stack>/<kebab>`."""

from __future__ import annotations

from policies.model import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    ResourceView,
    Result,
    Rule,
    is_kebab,
    is_token,
)


class SsmParameterPaths(Rule):
    id = "NAM003"
    family = "naming"
    title = "SSM parameter paths /<env>/<stack>/<kebab>"
    rationale = ("Stacks hand values to later stacks through SSM parameters; the path names the "
                 "environment and the producing stack, so the contract graph (and IAM "
                 "policies scoped to `/<env>/<stack>/*`) can be derived from it.")
    fix = "publish through GovernedStack.publish(name, ...), which builds the path"
    resource_types = frozenset({"aws_ssm_parameter"})

    def check(self, resource: ResourceView) -> Result:
        name = resource.get("name")
        if not isinstance(name, str):
            return NON_COMPLIANT("name is not set")
        if is_token(name):
            return NOT_APPLICABLE
        env = resource.stack.environment or "<env>"
        parts = name.split("/")
        expected = f"/{env}/{resource.stack.name}/<kebab-case>"
        if (len(parts) != 4 or parts[0] != "" or parts[1] != env
                or parts[2] != resource.stack.name or not is_kebab(parts[3])):
            return NON_COMPLIANT(f"name {name!r} is not {expected}")
        return COMPLIANT


RULE = SsmParameterPaths()
