"""Customer-managed KMS key with rotation, a 30-day deletion window, an alias and
an explicit key policy that names every principal allowed to use it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf import TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as KmsKeyResource
from constructs import Construct

from constructs_lib import waivers
from constructs_lib.errors import Problems
from constructs_lib.formats import KMS_DELETION_WINDOW_DAYS, SERVICE_PRINCIPAL, is_unresolved
from constructs_lib.policy_document import (
    Condition,
    PolicyStatement,
    Principal,
    check_statements,
    policy_document,
)
from constructs_lib.prop_checks import check_name, check_reason
from constructs_lib.refs import KeyRef, RoleRef
from constructs_lib.tags import RequiredTags

# kms:ViaService names a service in one Region, e.g. `s3.ap-northeast-2.amazonaws.com`.
VIA_SERVICE = re.compile(r"^[a-z0-9-]+\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com$")

# What a consumer needs to encrypt and decrypt with the key; administration
# stays with the account (root statement, i.e. IAM policies).
USE_ACTIONS = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)

# The KMS actions whose requests carry an encryption context, i.e. the only ones
# a kms:EncryptionContext:<key> or kms:EncryptionContextKeys condition can match
# (on any other action, such as DescribeKey, the condition never holds). From the
# "API operations" column of both keys in "AWS KMS condition keys",
# https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context
# (the ReEncrypt operation is authorized as ReEncryptFrom and ReEncryptTo).
ENCRYPTION_CONTEXT_ACTIONS = frozenset({
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    # Wildcards that expand to actions above only. Any other wildcard (`kms:*`,
    # `kms:Describe*`) also covers actions without an encryption context.
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
})
# Condition keys and action names are case-insensitive: compared in lower case.
_ENCRYPTION_CONTEXT_KEYS = ("kms:encryptioncontext:", "kms:encryptioncontextkeys")
_ENCRYPTION_CONTEXT_ACTIONS = frozenset(a.lower() for a in ENCRYPTION_CONTEXT_ACTIONS)


@dataclass(frozen=True, kw_only=True)
class KmsKeyProps:
    name: str
    """Kebab-case, starting with `<environment>-` (e.g. `prod-s3`); the alias is `alias/<name>`."""
    description: str
    """What the key protects; shown in the console and the plan."""
    tags: RequiredTags
    """The 8 required tags (values validated); set on every taggable resource
    of the construct, with `Name` added."""
    service_principals: tuple[str, ...] = ()
    """AWS service principals (e.g. `logs.ap-northeast-2.amazonaws.com`) allowed
    Encrypt/Decrypt/ReEncrypt*/GenerateDataKey*/DescribeKey. Left empty: no
    service may use the key on its own behalf; account principals still can
    through IAM policies."""
    service_conditions: tuple[Condition, ...] = ()
    """Conditions on the service statement (e.g. `aws:SourceAccount`,
    `kms:EncryptionContext:aws:logs:arn`). Left empty: the services may use the
    key unconditionally."""
    via_services: tuple[str, ...] = ()
    """Regional service endpoints (e.g. `s3.ap-northeast-2.amazonaws.com`)
    through which principals of the account may use the key (kms:ViaService,
    kms:CallerAccount), and through which they may create grants for AWS
    resources (how RDS, EFS or DynamoDB hold the key). Left empty: account
    principals use the key only as IAM policies allow, with no ViaService limit
    stated in the key policy."""
    grant_roles: tuple[RoleRef, ...] = ()
    """Roles allowed the same use actions through the key policy itself. Left
    empty: roles need an IAM policy that grants the key use."""
    extra_statements: tuple[PolicyStatement, ...] = ()
    """Further key policy statements (e.g. CloudTrail's per-action conditions);
    an Allow may not name the `*` principal. Left empty: none."""
    multi_region: bool = False
    """Left out: a single-Region key."""
    enable_key_rotation: bool = True
    """Must stay True (rule ENC002); present so that a port of a module that sets
    it gets an error instead of a silent override."""
    deletion_window_in_days: int = KMS_DELETION_WINDOW_DAYS
    """Must be 30 (rule ENC002); present for the same reason."""
    allow_destroy_reason: str | None = None
    """Left out: the key carries `prevent_destroy`. A reason (≥ 10 characters)
    lifts it and is recorded as waiver PRO001."""
    provider: TerraformProvider | None = None
    """The AWS provider (Region) the key and its alias live in, e.g. the second
    Region of the backup copies; `via_services` and `service_principals` then name
    that Region's endpoints. Left out: the stack's default provider."""


class KmsKey(Construct):
    """A customer-managed key, its alias and an explicit key policy.

    The policy lets the account administer the key (so IAM policies of the
    account work), lets exactly `service_principals` and `grant_roles` use it,
    and account principals through `via_services`, and nothing else; there is
    no way to add principals after creation.
    """

    def __init__(self, scope: Construct, id: str, props: KmsKeyProps):
        super().__init__(scope, id)
        _validate(props, self.node.path)
        self.props = props

        account = DataAwsCallerIdentity(self, "account", provider=props.provider)
        partition = DataAwsPartition(self, "partition", provider=props.provider)
        root = f"arn:{partition.partition}:iam::{account.account_id}:root"
        self.policy_document = policy_document(
            self, "policy", _statements(props, root, account.account_id))

        self.key = KmsKeyResource(
            self,
            "key",
            description=props.description,
            enable_key_rotation=True,
            deletion_window_in_days=KMS_DELETION_WINDOW_DAYS,
            multi_region=props.multi_region,
            policy=self.policy_document.json,
            tags=props.tags.resource_tags(props.name),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=props.allow_destroy_reason is None),
            provider=props.provider,
        )
        if props.allow_destroy_reason is not None:
            waivers.record(self.key, "PRO001", props.allow_destroy_reason, where=self.node.path)
        self.alias_name = f"alias/{props.name}"
        self.alias = KmsAlias(self, "alias", name=self.alias_name, target_key_id=self.key.key_id,
                              provider=props.provider)

    @property
    def arn(self) -> str:
        return self.key.arn

    @property
    def key_id(self) -> str:
        return self.key.key_id

    @property
    def ref(self) -> KeyRef:
        return KeyRef(arn=self.key.arn, alias=self.alias_name)


def _statements(props: KmsKeyProps, root_arn: str, account_id: str) -> list[PolicyStatement]:
    statements = [
        PolicyStatement(
            sid="AccountAdministration",
            principals=(Principal(type="AWS", identifiers=(root_arn,)),),
            actions=("kms:*",),
            resources=("*",),
        )
    ]
    if props.service_principals:
        statements.extend(service_use_statements(
            "ServiceUse", props.service_principals, props.service_conditions))
    if props.grant_roles:
        statements.append(PolicyStatement(
            sid="RoleUse",
            principals=(Principal(type="AWS", identifiers=tuple(r.arn for r in props.grant_roles)),),
            actions=USE_ACTIONS,
            resources=("*",),
        ))
    statements.extend(props.extra_statements)
    if props.via_services:
        statements.extend(_via_service_statements(props.via_services, root_arn, account_id))
    return statements


def condition_applies(variable: str, action: str) -> bool:
    """Whether a request for `action` can carry condition key `variable`: False
    for an encryption-context key on an action without an encryption context."""
    if variable.lower().startswith(_ENCRYPTION_CONTEXT_KEYS):
        return action.lower() in _ENCRYPTION_CONTEXT_ACTIONS
    return True


def service_use_statements(
    sid: str, services: Sequence[str], conditions: Sequence[Condition]
) -> tuple[PolicyStatement, ...]:
    """Key policy statements letting `services` use the key (USE_ACTIONS), each
    action under exactly those of `conditions` that apply to it.

    An action under a condition key its requests never carry could never be
    allowed (e.g. DescribeKey under kms:EncryptionContext:aws:logs:arn), so such
    actions get a statement of their own, `<sid><Action>`, with the remaining
    conditions (aws:SourceAccount and other global keys apply to every action).
    """
    principals = (Principal(type="Service", identifiers=tuple(services)),)
    # Indices of the applying conditions -> the actions they apply to, in order.
    groups: dict[tuple[int, ...], list[str]] = {}
    for action in USE_ACTIONS:
        applying = tuple(i for i, c in enumerate(conditions)
                         if condition_applies(c.variable, action))
        groups.setdefault(applying, []).append(action)
    # The actions under all the conditions come first and keep the plain sid.
    ordered = sorted(groups.items(), key=lambda group: len(group[0]) != len(conditions))
    return tuple(
        PolicyStatement(
            sid=sid if n == 0 else sid + "".join(a.split(":")[1].rstrip("*") for a in actions),
            principals=principals,
            actions=tuple(actions),
            resources=("*",),
            conditions=tuple(conditions[i] for i in applying),
        )
        for n, (applying, actions) in enumerate(ordered)
    )


def _via_service_statements(
    services: tuple[str, ...], root_arn: str, account_id: str
) -> tuple[PolicyStatement, ...]:
    """Principals of the account may use the key, but only through `services`
    (the documented pattern for services that act with the caller's rights)."""
    principal = (Principal(type="AWS", identifiers=(root_arn,)),)
    in_account = Condition(test="StringEquals", variable="kms:CallerAccount", values=(account_id,))
    through = Condition(test="StringEquals", variable="kms:ViaService", values=tuple(services))
    return (
        PolicyStatement(sid="UseThroughService", principals=principal, actions=USE_ACTIONS,
                        resources=("*",), conditions=(in_account, through)),
        # Services that keep data encrypted at rest (RDS, EFS, ECR, DynamoDB)
        # hold the key through grants; only grants for AWS resources are allowed.
        PolicyStatement(
            sid="GrantThroughService", principals=principal, actions=("kms:CreateGrant",),
            resources=("*",),
            conditions=(in_account, through, Condition(
                test="Bool", variable="kms:GrantIsForAWSResource", values=("true",))),
        ),
    )


def _validate(props: KmsKeyProps, where: str) -> None:
    problems = Problems(where)
    props.tags.check(problems)
    check_name(problems, "name", props.name, props.tags.environment, max_length=250)
    if not isinstance(props.description, str) or not props.description.strip():
        problems.add("description", props.description, "a key needs a non-empty description")
    for service in props.service_principals:
        if not is_unresolved(service) and not SERVICE_PRINCIPAL.match(service):
            problems.add("service_principals", service,
                         "allowed are service principals like 'logs.<region>.amazonaws.com'")
    if props.service_conditions and not props.service_principals:
        problems.add("service_conditions", props.service_conditions,
                     "conditions need service_principals to apply to")
    for service in props.via_services:
        if not is_unresolved(service) and not VIA_SERVICE.match(service):
            problems.add("via_services", service,
                         "allowed are regional endpoints like 's3.<region>.amazonaws.com'")
    if len(set(props.via_services)) != len(props.via_services):
        problems.add("via_services", props.via_services, "each service may be listed once")
    for role in props.grant_roles:
        if not isinstance(role, RoleRef):
            problems.add("grant_roles", role, "allowed are RoleRef values")
        elif "*" in role.arn:
            problems.add("grant_roles", role.arn, "wildcard principals are not allowed")
    check_statements(problems, "extra_statements", props.extra_statements, resource_policy=True)
    for i, stmt in enumerate(props.extra_statements):
        if not isinstance(stmt, PolicyStatement):
            continue
        if stmt.has_wildcard_principal:
            problems.add(f"extra_statements[{i}].principals", stmt.principals,
                         "a key policy never names the '*' principal")
        # Splitting a caller's statement would change what it allows or denies:
        # refuse it instead and let the caller write one statement per action group.
        for cond in stmt.conditions:
            unsupported = [a for a in stmt.actions
                           if not is_unresolved(a) and not condition_applies(cond.variable, a)]
            if unsupported:
                problems.add(f"extra_statements[{i}].conditions", cond.variable,
                             f"requests for {', '.join(unsupported)} never carry this "
                             "condition key, so the statement could never match them; "
                             "give them a statement without it")
    if props.enable_key_rotation is not True:
        problems.add("enable_key_rotation", props.enable_key_rotation,
                     "rotation must stay enabled (rule ENC002)")
    if props.deletion_window_in_days != KMS_DELETION_WINDOW_DAYS:
        problems.add("deletion_window_in_days", props.deletion_window_in_days,
                     f"allowed is {KMS_DELETION_WINDOW_DAYS} (rule ENC002)")
    check_reason(problems, "allow_destroy_reason", props.allow_destroy_reason)
    if props.provider is not None and not isinstance(props.provider, TerraformProvider):
        problems.add("provider", props.provider, "allowed is a TerraformProvider or None")
    problems.raise_if_any()

