"""The typed settings of one environment: every fact the stacks are built from.

A new environment (staging, dev) is a new `Settings` object in a module of its
own, never a change to a stack.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from environments.github_hooks import GITHUB_HOOK_RANGES
from environments.tag_keys import EnvironmentTags


@dataclass(frozen=True, kw_only=True)
class TagSettings(EnvironmentTags):
    """Values of the required tags that do not depend on the stack: one field
    per key of `ENVIRONMENT_TAG_KEYS` (environments/tag_keys.py), named by
    `tag_field`.

    `Service` comes from the stack's own name; `DataClass` may be overridden by
    a stack (see `StackSettings.data_class`).
    """


@dataclass(frozen=True, kw_only=True)
class SubnetSettings:
    """One subnet: its CIDR and the availability zone it lives in."""

    cidr: str
    availability_zone: str


@dataclass(frozen=True, kw_only=True)
class NetworkSettings:
    """The VPC topology of the environment."""

    vpc_cidr: str
    public_subnets: tuple[SubnetSettings, ...]
    private_subnets: tuple[SubnetSettings, ...]
    multi_az_nat: bool = False
    """One NAT gateway per AZ when True; when False (the default) one NAT gateway
    in the first public subnet serves every private subnet (the reference's
    cost trade-off)."""
    create_transit_gateway: bool = False
    """When True a Transit Gateway and a VPC attachment on the private subnets
    are created; off by default as in the reference."""
    flow_log_retention_days: int = 365


@dataclass(frozen=True, kw_only=True)
class GithubSettings:
    """Who may assume the GitHub Actions deploy role through OIDC."""

    repository: str
    """`owner/name` of the infrastructure repository."""
    branches: tuple[str, ...]
    """Branches whose workflows may assume the role (refs/heads/<branch>)."""
    hook_cidrs: tuple[str, ...] = GITHUB_HOOK_RANGES.ipv4
    """IPv4 ranges GitHub delivers webhooks from; only these reach Atlantis'
    `/events`. Left out: the dated list in environments/github_hooks.py."""


@dataclass(frozen=True, kw_only=True)
class AtlantisSettings:
    """Who may drive Atlantis and reach its web UI."""

    team_allowlist: tuple[tuple[str, str], ...]
    """(GitHub team slug, command) pairs Atlantis accepts comment commands from
    (`--gh-team-allowlist`); commands are version, plan, apply, cancel, unlock,
    approve_policies, import, state or `*`. A team missing here can run nothing."""
    operator_cidrs: tuple[str, ...] = ()
    """IPv4 ranges that may open the web UI and API (behind basic auth). Left
    out: nobody; the UI is reached only after adding the operators' egress range."""


@dataclass(frozen=True, kw_only=True)
class StateSettings:
    """Where every stack keeps its Terraform state."""

    bucket: str
    lock_table: str
    kms_alias: str
    """Alias of the bootstrap state key; the S3 backend encrypts with it."""


@dataclass(frozen=True, kw_only=True)
class BackupSettings:
    """AWS Backup of the environment's data (its RDS instances, EFS file systems
    and the state lock table): a daily plan into a locked vault of the
    environment's Region, each recovery point copied to a locked vault in a
    second Region. Every field has a default, so an environment sets only what
    differs."""

    copy_region: str = "ap-northeast-1"
    """Region the copies live in; must differ from the environment's Region. Left
    out: Tokyo, a full-size Region about 1,150 km from Seoul (another grid and
    seismic zone) where AWS Backup offers every feature the plan uses; Osaka
    (ap-northeast-3) is nearer but smaller, without AWS Backup for Storage
    Gateway, so a later resource type might not follow there."""
    schedule: str = "cron(0 17 * * ? *)"
    """AWS Backup schedule expression, evaluated in UTC. Left out: daily at 17:00
    UTC (02:00 in Seoul), away from office hours."""
    retention_days: int = 35
    """Days a recovery point is kept in the home vault; at least
    `vault_lock_min_days`. Left out: 35, the retention AWS Backup Audit Manager's
    "backup plan minimum frequency and minimum retention" control asks for by
    default."""
    copy_retention_days: int = 35
    """Days a copy is kept in the second Region; at least `vault_lock_min_days`.
    Left out: 35, the same as at home."""
    vault_lock_min_days: int = 35
    """The vault locks' minimum retention: no recovery point of either vault is
    deleted younger, by anyone. Kept apart from the retentions so that they can
    be lengthened later: every argument of a lock forces a new one, which
    `prevent_destroy` refuses and, after the grace time, AWS too. Left out: 35."""
    vault_lock_grace_days: int = 3
    """Days after the first apply during which the compliance-mode vault locks can
    still be changed or removed (`changeable_for_days`); afterwards nobody, the
    root user and AWS included, shortens a recovery point's life or removes the
    lock. Left out: 3, the shortest AWS allows (its 72-hour cooling-off)."""


@dataclass(frozen=True, kw_only=True)
class StackSettings:
    """Per-stack overrides of the common settings."""

    data_class: str | None = None
    """DataClass tag for this stack; the environment's default when left out."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything one environment is built from."""

    name: str
    region: str
    availability_zones: tuple[str, ...]
    domain: str
    state: StateSettings
    tags: TagSettings
    network: NetworkSettings
    github: GithubSettings
    atlantis: AtlantisSettings
    log_retention_days: int = 365
    alarm_email: str | None = None
    """Address subscribed to the critical SNS topic; no subscription when left out."""
    backup: BackupSettings = field(default_factory=BackupSettings)
    """AWS Backup plan, vaults and copy Region. Left out: the defaults of
    `BackupSettings` (daily, 35 days, copied to Tokyo, compliance locks)."""
    stacks: dict[str, StackSettings] = field(default_factory=dict)
    source_file: str = "environments/<unknown>.py"
    """The module that defines these settings, named in every error message."""

    def stack(self, name: str) -> StackSettings:
        return self.stacks.get(name, StackSettings())
