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
    """The infrastructure repository: who may assume the drift workflow's role through
    OIDC, and where Atlantis' webhooks come from."""

    repository: str
    """`owner/name` of the infrastructure repository."""
    default_branch: str = "main"
    """The repository's default branch: the scheduled drift workflow runs on it (GitHub
    runs schedules only there), and its role trusts only runs on it. Left out: `main`."""
    immutable_ids: tuple[int, int] | None = None
    """(owner id, repository id) when the repository's OIDC subjects carry them (created
    after 15 July 2026, or opted in to immutable subject claims): the role's trust then
    names `owner@<id>/name@<id>`. Left out: subjects name `owner/name` only."""
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
    stacks: dict[str, StackSettings] = field(default_factory=dict)
    source_file: str = "environments/<unknown>.py"
    """The module that defines these settings, named in every error message."""

    def stack(self, name: str) -> StackSettings:
        return self.stacks.get(name, StackSettings())
