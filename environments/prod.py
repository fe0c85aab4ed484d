"""The production environment: the facts of the reference README, and only here."""

from environments.settings import (
    AtlantisSettings,
    GithubSettings,
    NetworkSettings,
    Settings,
    StackSettings,
    StateSettings,
    SubnetSettings,
    TagSettings,
)

SETTINGS = Settings(
    name="prod",
    # A placeholder: put the production account's id here. Every provider refuses
    # credentials of any other account (allowed_account_ids).
    account_id="111111111111",
    region="ap-northeast-2",
    availability_zones=("ap-northeast-2a", "ap-northeast-2c"),
    domain="set-of.com",
    state=StateSettings(
        bucket="prod-connectly-tfstate",
        lock_table="prod-connectly-tfstate-lock",
        kms_alias="alias/prod-tfstate",
    ),
    tags=TagSettings(
        environment="prod",
        team="platform-team",
        owner="platform@example.com",
        cost_center="engineering",
        project="infrastructure",
        data_class="confidential",
        managed_by="terraform",
    ),
    network=NetworkSettings(
        vpc_cidr="10.0.0.0/16",
        public_subnets=(
            SubnetSettings(cidr="10.0.0.0/20", availability_zone="ap-northeast-2a"),
            SubnetSettings(cidr="10.0.16.0/20", availability_zone="ap-northeast-2c"),
        ),
        private_subnets=(
            SubnetSettings(cidr="10.0.32.0/19", availability_zone="ap-northeast-2a"),
            SubnetSettings(cidr="10.0.64.0/19", availability_zone="ap-northeast-2c"),
        ),
        multi_az_nat=False,
        create_transit_gateway=False,
    ),
    github=GithubSettings(
        repository="connectly/infrastructure",
        default_branch="main",
    ),
    # Changes reach prod only after staging: Atlantis plans staging's projects first
    # and applies a prod project only once its staging twin is applied.
    promotes_from="staging",
    atlantis=AtlantisSettings(
        # Everyone on the platform team plans; apply (and unlock) stays with
        # the same team: review happens through the PR's required approval.
        team_allowlist=(("platform-team", "plan"), ("platform-team", "apply"),
                        ("platform-team", "unlock")),
    ),
    alarm_email="platform@example.com",
    stacks={
        # Central log groups and metrics are operational data, not customer data.
        "logging": StackSettings(data_class="internal"),
        "monitoring": StackSettings(data_class="internal"),
    },
    source_file="environments/prod.py",
)
