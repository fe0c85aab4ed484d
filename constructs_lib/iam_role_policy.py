"""IAM role with a typed trust policy, inline policies rendered from typed
statements, and managed policy attachments; admin-on-everything needs a reason."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from constructs_lib import waivers
from constructs_lib.errors import Problems
from constructs_lib.formats import KEBAB, SERVICE_PRINCIPAL, is_unresolved
from constructs_lib.policy_document import (
    Condition,
    PolicyStatement,
    Principal,
    check_statements,
    policy_document,
    render_statements,
)
from constructs_lib.prop_checks import check_name, check_reason
from constructs_lib.refs import RoleRef
from constructs_lib.tags import RequiredTags

__all__ = ["AccountTrust", "Condition", "FederatedTrust", "IamRoleWithPolicies",
           "IamRoleWithPoliciesProps", "PolicyStatement", "Principal"]

MANAGED_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$")
# Managed policies that grant every action on every resource (rule SEC002).
ADMIN_POLICY_SUFFIXES = (":policy/AdministratorAccess",)
CHECKOV_ADMIN_POLICY = "CKV_AWS_274"


@dataclass(frozen=True, kw_only=True)
class FederatedTrust:
    """Trust for web identities, e.g. GitHub Actions through an OIDC provider."""

    provider_arn: str
    """ARN of the `aws_iam_openid_connect_provider`."""
    conditions: tuple[Condition, ...]
    """Required: without conditions every identity of the provider (every
    GitHub repository) could assume the role. For GitHub use `StringEquals`
    on `token.actions.githubusercontent.com:aud` and `StringLike` on `...:sub`."""


@dataclass(frozen=True, kw_only=True)
class AccountTrust:
    """Trust for named principals of one account, e.g. the Atlantis task role
    (of this account, or of the account whose Atlantis server plans this one).

    The trust names the account root and narrows it to `principal_arns` with
    `aws:PrincipalArn`, so the principals need not exist when the role is
    created (IAM refuses a trust that names a role ARN that does not exist yet)."""

    account_root: str
    """`arn:<partition>:iam::<account id>:root` of the principals' account."""
    principal_arns: tuple[str, ...]
    """Required: the roles (or users) that may assume the role; without them every
    principal of the account with sts:AssumeRole permission could. `ArnEquals`
    matches wildcards per ARN part, e.g. `arn:aws:iam::<account id>:user/*`."""
    require_mfa: bool = False
    """Also require `aws:MultiFactorAuthPresent` (Bool true): only sessions that
    signed in with MFA may assume the role (right for roles people assume).
    Left out: no MFA is asked for (right for roles tasks and services assume,
    whose sessions never carry MFA)."""


@dataclass(frozen=True, kw_only=True)
class IamRoleWithPoliciesProps:
    name: str
    """Role name: kebab-case, starting with `<environment>-`, at most 64 characters."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    service_principals: tuple[str, ...] = ()
    """Services that may assume the role (sts:AssumeRole), e.g.
    `ecs-tasks.amazonaws.com`. Exactly one of this, `federated` and `account` is given."""
    trust_conditions: tuple[Condition, ...] = ()
    """Conditions on the service trust (e.g. `aws:SourceAccount`). Left empty:
    the services may assume the role unconditionally."""
    federated: FederatedTrust | None = None
    """Web-identity trust (sts:AssumeRoleWithWebIdentity). Left out: service trust."""
    account: AccountTrust | None = None
    """Trust for named principals of this account. Left out: service trust."""
    description: str | None = None
    """Left out: the role has no description."""
    inline_policies: Mapping[str, Sequence[PolicyStatement]] = field(default_factory=dict)
    """Policy key (kebab-case) -> identity statements; each becomes an
    aws_iam_role_policy named `<role name>-<key>`. Left empty: none."""
    managed_policy_arns: tuple[str, ...] = ()
    """Managed policies to attach. Left empty: none."""
    max_session_duration: int = 3600
    """Seconds, 3600..43200. Left out: one hour."""
    allow_admin_reason: str | None = None
    """Needed for a statement allowing `*` on `*` or for AdministratorAccess;
    recorded as waiver SEC002. Left out: such grants are rejected."""


class IamRoleWithPolicies(Construct):
    """An IAM role and its permissions; `.ref` is what other constructs take.

    Not named `IamRolePolicy`: that is the provider's inline policy resource,
    which this construct creates per policy key and `grant_*` methods return.
    """

    def __init__(self, scope: Construct, id: str, props: IamRoleWithPoliciesProps):
        super().__init__(scope, id)
        _validate(props, self.node.path)
        self.props = props
        self.trust_document = policy_document(self, "trust-policy", [_trust_statement(props)])
        self.role = IamRole(
            self,
            "role",
            name=props.name,
            description=props.description,
            assume_role_policy=self.trust_document.json,
            max_session_duration=props.max_session_duration,
            tags=props.tags.resource_tags(props.name),
        )
        self.policies: dict[str, IamRolePolicy] = {}
        self._statements: dict[str, list[PolicyStatement]] = {}
        for key, statements in props.inline_policies.items():
            self._put(key, list(statements))
        self.attachments = []
        for i, arn in enumerate(props.managed_policy_arns, start=1):
            attachment = IamRolePolicyAttachment(
                self, f"managed-policy-{i}", role=self.role.name, policy_arn=arn)
            if arn.endswith(ADMIN_POLICY_SUFFIXES):
                # Our rule and checkov's check for AdministratorAccess: one reason.
                for rule in ("SEC002", CHECKOV_ADMIN_POLICY):
                    waivers.record(attachment, rule, props.allow_admin_reason,
                                   where=self.node.path)
            self.attachments.append(attachment)

    @property
    def arn(self) -> str:
        return self.role.arn

    @property
    def name(self) -> str:
        return self.role.name

    @property
    def ref(self) -> RoleRef:
        return RoleRef(arn=self.role.arn, name=self.role.name)

    def add_statements(self, key: str, statements: Sequence[PolicyStatement]) -> None:
        """Append identity statements to inline policy `key` (created when new),
        e.g. `role.add_statements("state-read", bucket.read_statements())`."""
        problems = Problems(self.node.path)
        _check_policy(problems, f"add_statements[{key!r}]", key, statements,
                      self.props.allow_admin_reason)
        problems.raise_if_any()
        self._put(key, list(statements))

    def _put(self, key: str, statements: list[PolicyStatement]) -> None:
        if key in self._statements:
            self._statements[key].extend(statements)
            document = self.node.find_child(f"policy-{key}-document")
            document.put_statement(render_statements(self._statements[key]))  # type: ignore[attr-defined]
        else:
            self._statements[key] = statements
            document = policy_document(self, f"policy-{key}-document", statements)
            self.policies[key] = IamRolePolicy(
                self, f"policy-{key}", name=f"{self.props.name}-{key}", role=self.role.id,
                policy=document.json,
            )
        if any(s.allows_everything for s in statements):
            waivers.record(self.policies[key], "SEC002", self.props.allow_admin_reason,
                           where=self.node.path)
            waivers.record(document, "SEC002", self.props.allow_admin_reason,  # type: ignore[arg-type]
                           where=self.node.path)


def _trust_statement(props: IamRoleWithPoliciesProps) -> PolicyStatement:
    if props.account is not None:
        return PolicyStatement(
            effect="Allow",
            actions=("sts:AssumeRole",),
            principals=(Principal(type="AWS", identifiers=(props.account.account_root,)),),
            conditions=(Condition(test="ArnEquals", variable="aws:PrincipalArn",
                                  values=tuple(props.account.principal_arns)),
                        *((Condition(test="Bool", variable="aws:MultiFactorAuthPresent",
                                     values=("true",)),) if props.account.require_mfa else ())),
        )
    if props.federated is not None:
        return PolicyStatement(
            effect="Allow",
            actions=("sts:AssumeRoleWithWebIdentity",),
            principals=(Principal(type="Federated", identifiers=(props.federated.provider_arn,)),),
            conditions=tuple(props.federated.conditions),
        )
    return PolicyStatement(
        effect="Allow",
        actions=("sts:AssumeRole",),
        principals=(Principal(type="Service", identifiers=tuple(props.service_principals)),),
        conditions=tuple(props.trust_conditions),
    )


def _check_policy(problems: Problems, where: str, key: str,
                  statements: Sequence[PolicyStatement], admin_reason: str | None) -> None:
    if not isinstance(key, str) or not KEBAB.match(key):
        problems.add(where, key, "policy keys are kebab-case")
    if not statements:
        problems.add(where, statements, "a policy needs at least one statement")
    check_statements(problems, where, statements, resource_policy=False)
    for i, stmt in enumerate(statements):
        if isinstance(stmt, PolicyStatement) and stmt.allows_everything and not admin_reason:
            problems.add(f"{where}[{i}]", stmt.actions,
                         "allowing '*' on '*' needs allow_admin_reason (rule SEC002)")


def _validate(props: IamRoleWithPoliciesProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=64)
    trusts = [bool(props.service_principals), props.federated is not None,
              props.account is not None]
    if sum(trusts) != 1:
        problems.add("service_principals", props.service_principals,
                     "give exactly one of service_principals, federated and account")
    if props.account is not None and not isinstance(props.account.require_mfa, bool):
        problems.add("account.require_mfa", props.account.require_mfa, "allowed is True or False")
    if props.account is not None and not props.account.principal_arns:
        problems.add("account.principal_arns", props.account.principal_arns,
                     "name the principals that may assume the role")
    if props.trust_conditions and props.account is not None:
        problems.add("trust_conditions", props.trust_conditions,
                     "an account trust is narrowed by account.principal_arns")
    for service in props.service_principals:
        if not is_unresolved(service) and not SERVICE_PRINCIPAL.match(service):
            problems.add("service_principals", service,
                         "allowed are service principals like 'ecs-tasks.amazonaws.com'")
    if props.trust_conditions and props.federated is not None:
        problems.add("trust_conditions", props.trust_conditions,
                     "federated trust takes its conditions in federated.conditions")
    if props.federated is not None and not props.federated.conditions:
        problems.add("federated.conditions", props.federated.conditions,
                     "a federated trust must be narrowed by conditions (e.g. the GitHub repository)")
    if props.description is not None and not props.description.strip():
        problems.add("description", props.description, "leave it out or say what the role is for")
    for key, statements in props.inline_policies.items():
        _check_policy(problems, f"inline_policies[{key!r}]", key, statements,
                      props.allow_admin_reason)
    for arn in props.managed_policy_arns:
        if is_unresolved(arn):
            continue
        if not MANAGED_POLICY_ARN.match(arn):
            problems.add("managed_policy_arns", arn, "allowed is an IAM policy ARN")
        elif arn.endswith(ADMIN_POLICY_SUFFIXES) and not props.allow_admin_reason:
            problems.add("managed_policy_arns", arn,
                         "administrator access needs allow_admin_reason (rule SEC002)")
    duration = props.max_session_duration
    if not isinstance(duration, int) or not 3600 <= duration <= 43200:
        problems.add("max_session_duration", duration, "allowed is 3600..43200 seconds")
    check_reason(problems, "allow_admin_reason", props.allow_admin_reason)
    problems.raise_if_any()
