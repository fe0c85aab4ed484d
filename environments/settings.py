"""The typed settings of one environment: every fact the stacks are built from.

A new environment is a new `Settings` object in a module of its own
(`environments/<name>.py` defining `SETTINGS`), never a change to a stack or to
any other file: environments/__init__.py finds the module by itself.
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
    """The Atlantis server an environment runs: who may drive it, who reaches its
    web UI, and its size."""

    team_allowlist: tuple[tuple[str, str], ...]
    """(GitHub team slug, command) pairs Atlantis accepts comment commands from
    (`--gh-team-allowlist`); commands are version, plan, apply, cancel, unlock,
    approve_policies, import, state or `*`. A team missing here can run nothing."""
    operator_cidrs: tuple[str, ...] = ()
    """IPv4 ranges that may open the web UI and API (behind basic auth). Left
    out: nobody; the UI is reached only after adding the operators' egress range."""
    task_cpu: int = 2048
    """Fargate CPU units of the task. Left out: 2 vCPU, sized from a measurement:
    the phase-4 group applies logging, monitoring and cloudtrail at once (five
    provider processes with the us-east-1 aliases) and is CPU-bound; with 1 vCPU
    a group takes about twice its local time."""
    task_memory_mib: int = 6144
    """Fargate memory of the task, MiB. Left out: 6 GiB. In `make pr-flow` the
    phase-4 apply of saved plans peaked at 2.4 GiB of terraform plus providers
    (`peak memory of an apply wave` in its summary), `apply -auto-approve` (which
    refreshes too) at 3.2 GiB; 6 GiB holds that, Atlantis, git and the log
    buffers with room. Must be a Fargate combination with `task_cpu`."""


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    """Size and availability of the MySQL instance (rds stack)."""

    instance_class: str = "db.t3.medium"
    """Left out: the reference's db.t3.medium (2 vCPU, 4 GiB)."""
    allocated_storage_gib: int = 50
    """gp3 storage at creation, GiB (20 to 65536). Left out: 50."""
    max_allocated_storage_gib: int = 200
    """Ceiling of storage autoscaling, GiB (at least `allocated_storage_gib`).
    Left out: 200."""
    multi_az: bool = True
    """A synchronous standby in a second AZ (failover in 1-2 minutes). Left out:
    on. Turning it off needs `single_az_reason`, recorded as waiver CKV_AWS_157."""
    single_az_reason: str | None = None
    """Why one AZ is enough here (at least 10 characters); only with `multi_az`
    False."""


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
class CostAssumptions:
    """Usage the monthly cost estimate (`python -m cost`, cost/) cannot read from the
    synthesized resources: traffic, requests, stored and ingested volumes, seats.

    The defaults describe a small production environment with one Atlantis
    service and one database; the report prints every value it used. A field
    left out keeps the default shown here.
    """

    hours_per_month: int = 730
    """Hours an always-on resource runs in a month (AWS's price pages use 730)."""
    nat_gb_processed: float = 100.0
    """GB a month through all NAT gateways together, split evenly between them."""
    transit_gateway_gb: float = 50.0
    """GB a month through each Transit Gateway attachment."""
    alb_lcus: float = 1.0
    """Average load balancer capacity units (LCU) an ALB uses in an hour."""
    interface_endpoint_gb: float = 10.0
    """GB a month through each interface VPC endpoint."""
    efs_storage_gb: float = 5.0
    """GB stored on each EFS file system (Standard class; lifecycle moves are not counted)."""
    efs_read_gb: float = 20.0
    """GB read a month from each EFS file system in Elastic Throughput mode."""
    efs_write_gb: float = 5.0
    """GB written a month to each EFS file system in Elastic Throughput mode."""
    efs_backup_gb: float = 5.0
    """GB of AWS Backup warm storage held for each file system whose backup policy is on,
    and for each file system in the vault of each rule (and copy) of a backup plan."""
    backup_rds_gb: float = 10.0
    """GB of RDS snapshot storage a backup plan's recovery points of the database hold
    (incremental snapshots of a small database over 35 days), per vault."""
    backup_dynamodb_gb: float = 0.1
    """GB of DynamoDB backups a backup plan holds per vault (the lock table: a few items)."""
    backup_copy_gb: float = 5.0
    """GB a backup plan's copy actions send to another Region a month (the daily
    incremental changes of the recovery points)."""
    flow_log_gb: float = 20.0
    """GB of VPC flow log records a month delivered to each flow-log log group."""
    trail_log_gb: float = 2.0
    """GB of CloudTrail events a month delivered to the trail's log group."""
    dns_query_log_gb: float = 1.0
    """GB of Route 53 query logs a month delivered to each query-log log group."""
    other_log_gb: float = 0.5
    """GB a month ingested by every other log group (applications, Lambda, AMP, central)."""
    rds_log_gb: float = 5.0
    """GB a month each DB instance sends to CloudWatch Logs: its log exports and
    Enhanced Monitoring. RDS creates these log groups itself, outside Terraform."""
    log_storage_ratio: float = 1.0
    """Stored bytes per ingested byte. CloudWatch Logs bills storage on compressed
    bytes, so 1.0 is an upper bound; set the ratio you measure."""
    unretained_log_months: int = 12
    """Months of logs priced for a log group that never expires them (the bill keeps
    growing after that)."""
    container_insights_metrics: int = 40
    """Custom metrics Container Insights publishes for each ECS cluster with its
    services and task families (billed as custom metrics)."""
    container_insights_log_gb: float = 1.0
    """GB of Container Insights performance log events a month for each cluster."""
    lambda_invocations: int = 100
    """Invocations a month of each Lambda function."""
    lambda_duration_seconds: float = 2.0
    """Average duration of one Lambda invocation."""
    ecr_storage_gb: float = 2.0
    """GB of images kept in each ECR repository (after its lifecycle policy)."""
    s3_storage_gb: float = 10.0
    """GB stored in each S3 bucket, noncurrent versions included."""
    s3_put_requests: int = 50_000
    """PUT, COPY, POST and LIST requests a month to each bucket."""
    s3_get_requests: int = 200_000
    """GET and other requests a month to each bucket."""
    athena_tb_scanned: float = 0.05
    """TB scanned a month by each Athena workgroup's queries."""
    cloudtrail_data_events: int = 500_000
    """Data events a month delivered by each trail that selects data events."""
    kms_requests_per_key: int = 20_000
    """Cryptographic requests a month to each KMS key."""
    secrets_api_calls: int = 10_000
    """Secrets Manager API calls a month for each secret."""
    dns_queries: int = 1_000_000
    """Standard DNS queries a month answered by each hosted zone."""
    health_checks_target_aws: bool = True
    """Route 53 health checks watch endpoints inside AWS (the cheaper rate)."""
    prometheus_samples: int = 100_000_000
    """Metric samples ingested a month by each AMP workspace."""
    prometheus_storage_gb: float = 2.0
    """GB of metrics stored by each AMP workspace."""
    prometheus_query_samples: int = 1_000_000_000
    """Query samples processed a month by each AMP workspace."""
    grafana_editors: int = 2
    """Active editor or admin users a month of each Grafana workspace (at least 1 is billed)."""
    grafana_viewers: int = 5
    """Active viewer users a month of each Grafana workspace."""
    sns_publishes: int = 10_000
    """Messages published a month to each SNS topic."""
    sns_email_deliveries: int = 1_000
    """E-mail notifications a month delivered to each e-mail subscription."""
    dynamodb_writes: int = 100_000
    """Write request units a month of each on-demand DynamoDB table."""
    dynamodb_reads: int = 200_000
    """Read request units a month of each on-demand DynamoDB table."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything one environment is built from."""

    name: str
    account_id: str
    """The AWS account the environment lives in (12 digits). Every stack's provider
    carries it as `allowed_account_ids`, so Terraform refuses to plan or apply a
    stack with credentials of another account before any call. One environment
    per account: the account-wide singletons (the GitHub OIDC provider, the
    password policy, the support role, ECR registry scanning, the multi-Region
    trail) are built by that environment's stacks, once."""
    region: str
    availability_zones: tuple[str, ...]
    domain: str
    state: StateSettings
    tags: TagSettings
    network: NetworkSettings
    github: GithubSettings
    atlantis: AtlantisSettings | None = None
    """The Atlantis server this environment runs (its `atlantis` and `secrets`
    stacks). Left out: it runs none, and `planned_by` names the environment whose
    server plans and applies it."""
    planned_by: str | None = None
    """The environment whose Atlantis server plans and applies this one, through
    this environment's own plan and apply roles (bootstrap), which trust that
    server's task role across accounts. Left out: its own server (`atlantis` set)."""
    promotes_from: str | None = None
    """The environment a change is applied to first (prod: `staging`). Atlantis plans
    that environment's projects before this one's, and applies a project of this
    environment only after the same project of that one was applied in the PR (or
    planned no changes). Left out: nothing comes before it."""
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    """Left out: the reference's size (db.t3.medium, Multi-AZ, 50-200 GiB)."""
    log_retention_days: int = 365
    alarm_email: str | None = None
    """Address subscribed to the critical SNS topic; no subscription when left out."""
    backup: BackupSettings = field(default_factory=BackupSettings)
    """AWS Backup plan, vaults and copy Region. Left out: the defaults of
    `BackupSettings` (daily, 35 days, copied to Tokyo, compliance locks)."""
    stacks: dict[str, StackSettings] = field(default_factory=dict)
    cost: CostAssumptions = field(default_factory=CostAssumptions)
    """Usage assumptions of the monthly cost estimate (`make cost`); the defaults
    above when left out."""
    source_file: str = "environments/<unknown>.py"
    """The module that defines these settings, named in every error message."""

    def stack(self, name: str) -> StackSettings:
        return self.stacks.get(name, StackSettings())
