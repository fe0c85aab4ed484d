"""SEC007: every Secrets Manager secret has a resource policy that limits who reads its
value: a Deny of GetSecretValue to every principal but the ones it names."""

from __future__ import annotations

from collections.abc import Iterable

from policies.model import (
    COMPLIANT,
    NON_COMPLIANT,
    ResourceView,
    Result,
    Rule,
    StackView,
    is_token,
)
from policies.policy_documents import Statement, policy_statements

READ = "secretsmanager:getsecretvalue"
# Actions (lowercase: IAM compares them case-insensitively) whose Deny covers reading.
READ_DENIALS = frozenset({READ, "secretsmanager:*", "secretsmanager:get*", "*"})
# The one condition a reader deny may carry: "unless the caller is one of these".
EXCEPT_PRINCIPALS = frozenset({"arnnotequals", "arnnotlike", "stringnotequals",
                               "stringnotlike"})
PRINCIPAL_ARN = "aws:principalarn"


def _names_secret(value: object, secret: ResourceView) -> bool:
    """`secret_arn` pointing at `secret`: a reference to it, or its literal name."""
    if any(r.address == secret.address for r in secret.stack.resolve(value)):
        return True
    name = secret.get("name")
    return isinstance(name, str) and not is_token(name) and value == name


def _limits_readers(st: Statement) -> bool:
    """A Deny of reading the value to every principal, at most excepting named callers,
    on every resource of the policy (a resource policy's `*` is the secret itself)."""
    return (st.effect == "Deny"
            and any(str(a).lower() in READ_DENIALS for a in st.actions)
            and (not st.resources or "*" in st.resources)
            and any(ident == "*" and kind in ("*", "AWS") for kind, ident in st.principals)
            and all(str(op).lower() in EXCEPT_PRINCIPALS and str(key).lower() == PRINCIPAL_ARN
                    for op, key, _ in st.conditions))


def problems(policy: ResourceView | None, statements: list[Statement] | None) -> list[str]:
    """Empty when the policy is readable, denies reading to all but named principals,
    and (a separate policy resource) blocks public policies."""
    found = []
    if statements is None:
        found.append("its policy is neither literal JSON nor an aws_iam_policy_document")
    elif not any(_limits_readers(st) for st in statements):
        found.append("its policy has no Deny of secretsmanager:GetSecretValue to every "
                     "principal (*) but those an aws:PrincipalArn condition names, so any "
                     "principal whose identity policy allows it reads the value")
    if policy is not None and policy.get("block_public_policy") is not True:
        found.append(f"{policy.address} does not set block_public_policy = true")
    return found


class SecretResourcePolicies(Rule):
    id = "SEC007"
    family = "security"
    title = "every Secrets Manager secret has a resource policy that limits who reads it"
    rationale = ("Without a resource policy a secret's value is read by every principal an "
                 "identity policy happens to allow (an administrator, a role with "
                 "AdministratorAccess); a Deny of GetSecretValue to all but the named roles "
                 "keeps it to the workloads that need it, whatever identity policies say.")
    fix = ("add an aws_secretsmanager_secret_policy (block_public_policy = true) pointing at "
           "the secret, built from constructs_lib.policy_document: Effect Deny, Action "
           "secretsmanager:GetSecretValue, Principal *, Resource *, condition ArnNotEquals "
           "aws:PrincipalArn = the roles that read it (stacks/secrets.py's _secret does this)")
    resource_types = frozenset({"aws_secretsmanager_secret"})

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        policies = stack.of_type("aws_secretsmanager_secret_policy")
        for secret in stack.of_type("aws_secretsmanager_secret"):
            attached = [p for p in policies if _names_secret(p.get("secret_arn"), secret)]
            found: list[str] = []
            if attached:
                for policy in attached:
                    found += [f"{policy.address}: {text}" for text in problems(
                        policy, policy_statements(policy.get("policy"), stack))]
            elif secret.get("policy") is not None:
                # The secret's own (older) `policy` argument; it has no block_public_policy.
                found += problems(None, policy_statements(secret.get("policy"), stack))
            else:
                found.append("no aws_secretsmanager_secret_policy points at the secret")
            yield secret.address, NON_COMPLIANT("; ".join(found)) if found else COMPLIANT


RULE = SecretResourcePolicies()
