"""The one shape of every `grant_*` method in constructs_lib, and the inline
role policy that the grants to a role attach.

`construct.grant_<verb>(grantee, *, id)`:

- `grantee` is typed: a `RoleRef` for a grant to a role (an inline
  `aws_iam_role_policy` named `<resource name>-<verb>-<id>` on that role), a
  `ServicePrincipalRef` for a grant to an AWS service in the resource's own
  policy (e.g. an `aws_lambda_permission`).
- `id` is required and kebab-case, and names the grant among the construct's
  grants of that verb. The grant's construct id is `<verb>-<id>`, so its
  Terraform address depends on nothing else: not on the order of the calls
  (numbering them would re-address every later grant when one is removed), and
  not on the grantee, whose ARN or name is often a token read from SSM. Name it
  after the grantee's job (`id="atlantis-task"`) and keep it: a new id replaces
  the grant. Reusing an id for the same verb is an error.
- It returns the one resource that holds the permission, for `depends_on`.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from constructs_lib.errors import Problems
from constructs_lib.formats import KEBAB
from constructs_lib.policy_document import PolicyStatement, check_statements, policy_document
from constructs_lib.refs import RoleRef


def check_grant_id(problems: Problems, scope: Construct, method: str, verb: str,
                   id: str) -> str:
    """The construct id `<verb>-<id>` of a new grant on `scope`; adds a problem
    when `id` is not kebab-case or another `method` call already used it."""
    construct_id = f"{verb}-{id}"
    if not isinstance(id, str) or not KEBAB.match(id) \
            or scope.node.try_find_child(construct_id) is not None:
        problems.add(f"{method} id", id,
                     f"allowed is a kebab-case id not used by another {method} on this construct")
    return construct_id


def attach_role_policy(
    scope: Construct, *, method: str, verb: str, id: str, role: RoleRef, name_prefix: str,
    statements: Sequence[PolicyStatement],
) -> IamRolePolicy:
    """The inline policy `<name_prefix>-<verb>-<id>` on `role` holding
    `statements` (validated as identity statements), with its policy document."""
    problems = Problems(scope.node.path)
    construct_id = check_grant_id(problems, scope, method, verb, id)
    if not isinstance(role, RoleRef):
        problems.add(f"{method} grantee", role, "allowed is a RoleRef")
    check_statements(problems, f"{method} statements", statements, resource_policy=False)
    problems.raise_if_any()
    document = policy_document(scope, f"{construct_id}-document", statements)
    return IamRolePolicy(
        scope, construct_id, name=f"{name_prefix}-{verb}-{id}", role=role.name,
        policy=document.json,
    )
