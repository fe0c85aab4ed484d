"""SEC006: every VPC endpoint that takes a policy has one, and it is not the full-access
policy AWS gives an endpoint without one (Allow everything to everyone, unconditioned)."""

from __future__ import annotations

from collections.abc import Iterable

from policies.model import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    ResourceView,
    Result,
    Rule,
    StackView,
    is_token,
)
from policies.policy_documents import Statement, policy_statements

# Gateway (the default) and Interface endpoints take a policy; Gateway Load
# Balancer, Resource and Service Network endpoints do not.
WITH_POLICY = frozenset({"Gateway", "Interface"})
EVERYONE = frozenset({("*", "*"), ("AWS", "*")})


def grants_full_access(st: Statement) -> bool:
    """Allow of every action of the service (`*` or `<service>:*`) on every resource to
    every principal, with no condition: what the endpoint allows without a policy."""
    every_action = any(a == "*" or (isinstance(a, str) and a.endswith(":*")) for a in st.actions)
    everyone = not st.principals or any(p in EVERYONE for p in st.principals)
    return (st.effect == "Allow" and every_action and everyone and not st.conditions
            and (not st.resources or "*" in st.resources))


def _policies_of(endpoint: ResourceView, stack: StackView) -> list[tuple[str, object]]:
    """(where, policy) for the endpoint's own `policy` and each aws_vpc_endpoint_policy
    whose vpc_endpoint_id refers to it."""
    found = []
    if endpoint.get("policy") is not None:
        found.append((endpoint.address, endpoint.get("policy")))
    for separate in stack.of_type("aws_vpc_endpoint_policy"):
        if any(r.address == endpoint.address
               for r in stack.resolve(separate.get("vpc_endpoint_id"))):
            found.append((separate.address, separate.get("policy")))
    return found


class VpcEndpointPolicies(Rule):
    id = "SEC006"
    family = "security"
    title = "every VPC endpoint has a policy narrower than full access"
    rationale = ("An endpoint without a policy lets every principal call every action on "
                 "every resource of the service through it: credentials of another account, "
                 "or a bucket of another account, work from inside the VPC as well, which "
                 "opens a way to move data out that bypasses the NAT and its egress controls.")
    fix = ("set the endpoint's policy from constructs_lib.policy_document: Allow the service's "
           "actions to principal * only with conditions aws:PrincipalAccount (and, for S3, "
           "aws:ResourceAccount) = this account, plus the AWS-owned resources the workloads "
           "need (stacks/network.py's S3 endpoint: ECR's layer bucket)")
    resource_types = frozenset({"aws_vpc_endpoint"})

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        for endpoint in stack.of_type("aws_vpc_endpoint"):
            kind = endpoint.get("vpc_endpoint_type", "Gateway")
            if not is_token(kind) and kind not in WITH_POLICY:
                yield endpoint.address, NOT_APPLICABLE
                continue
            policies = _policies_of(endpoint, stack)
            if not policies:
                yield endpoint.address, NON_COMPLIANT(
                    "no policy: the endpoint allows every principal every action on every "
                    "resource of the service")
                continue
            found = []
            for where, policy in policies:
                statements = policy_statements(policy, stack)
                # An expression we cannot read is still a policy: it is set.
                for st in statements or []:
                    if grants_full_access(st):
                        found.append(f"{where}: {st.label} allows every action on every "
                                     "resource to every principal without a condition")
            yield endpoint.address, NON_COMPLIANT("; ".join(found)) if found else COMPLIANT


RULE = VpcEndpointPolicies()
