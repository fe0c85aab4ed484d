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
    """GB of AWS Backup warm storage held for each file system whose backup policy is on."""
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
    cost: CostAssumptions = field(default_factory=CostAssumptions)
    """Usage assumptions of the monthly cost estimate (`make cost`); the defaults
    above when left out."""
    source_file: str = "environments/<unknown>.py"
    """The module that defines these settings, named in every error message."""

    def stack(self, name: str) -> StackSettings:
        return self.stacks.get(name, StackSettings())
