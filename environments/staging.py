"""The staging environment: where every change is planned and applied before prod.

Prod's shape at a smaller size, in an account of its own. What differs from prod,
and why:
- its own account and VPC range (10.1.0.0/16), so nothing of staging can reach or
  be mistaken for prod, and the ranges stay apart should the VPCs ever be peered;
- one NAT gateway (as prod: the reference's default) and a single-AZ, smaller
  database: staging holds no customer data, and a failover standby would double
  its cost for no one;
- no Atlantis server of its own: prod's server plans and applies staging through
  staging's own plan and apply roles (one server per repository: two servers on one
  repository would both answer every pull request), so staging has no `atlantis`
  and no `secrets` stack (the secrets are Atlantis' own);
- DataClass `internal` (no customer data); the same log retention as prod: audit
  logs keep at least 365 days everywhere, and the one operational group that keeps
  less (central application logs, 90 days) does so in prod too.
"""

from environments.settings import (
    DatabaseSettings,
    GithubSettings,
    NetworkSettings,
    Settings,
    StateSettings,
    SubnetSettings,
    TagSettings,
)

SETTINGS = Settings(
    name="staging",
    # A placeholder: put the staging account's id here (never prod's: one
    # environment per account, and validation refuses a shared one).
    account_id="222222222222",
    region="ap-northeast-2",
    availability_zones=("ap-northeast-2a", "ap-northeast-2c"),
    # Delegated from prod's zone set-of.com by NS records (see the README's
    # "Environments" section: the first apply of a new environment).
    domain="staging.set-of.com",
    state=StateSettings(
        bucket="staging-connectly-tfstate",
        lock_table="staging-connectly-tfstate-lock",
        kms_alias="alias/staging-tfstate",
    ),
    tags=TagSettings(
        environment="staging",
        team="platform-team",
        owner="platform@example.com",
        cost_center="engineering",
        project="infrastructure",
        data_class="internal",
        managed_by="terraform",
    ),
    network=NetworkSettings(
        vpc_cidr="10.1.0.0/16",
        public_subnets=(
            SubnetSettings(cidr="10.1.0.0/20", availability_zone="ap-northeast-2a"),
            SubnetSettings(cidr="10.1.16.0/20", availability_zone="ap-northeast-2c"),
        ),
        private_subnets=(
            SubnetSettings(cidr="10.1.32.0/19", availability_zone="ap-northeast-2a"),
            SubnetSettings(cidr="10.1.64.0/19", availability_zone="ap-northeast-2c"),
        ),
        multi_az_nat=False,
        create_transit_gateway=False,
    ),
    github=GithubSettings(repository="connectly/infrastructure"),
    planned_by="prod",
    database=DatabaseSettings(
        instance_class="db.t3.small",
        allocated_storage_gib=20,
        max_allocated_storage_gib=100,
        multi_az=False,
        single_az_reason=(
            "staging holds no customer data and is rebuilt from snapshots or seed data; "
            "a standby would double its cost to shorten an outage nobody is paged for"),
    ),
    alarm_email="platform@example.com",
)
