"""Bad settings are refused before any construct exists, all problems at once."""

from __future__ import annotations

import dataclasses

import pytest

from constructs_lib.errors import ConfigError
from environments import load_environment
from environments.prod import SETTINGS
from environments.settings import SubnetSettings
from environments.validation import validate_settings


def with_network(**changes):
    return dataclasses.replace(SETTINGS, network=dataclasses.replace(SETTINGS.network, **changes))


def with_tags(**changes):
    return dataclasses.replace(SETTINGS, tags=dataclasses.replace(SETTINGS.tags, **changes))


def with_atlantis(**changes):
    return dataclasses.replace(SETTINGS, atlantis=dataclasses.replace(SETTINGS.atlantis, **changes))


def with_backup(**changes):
    return dataclasses.replace(SETTINGS, backup=dataclasses.replace(SETTINGS.backup, **changes))


def with_hooks(cidrs):
    return dataclasses.replace(SETTINGS, github=dataclasses.replace(SETTINGS.github,
                                                                    hook_cidrs=cidrs))


def problems_of(settings) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_settings(settings)
    return caught.value.problems


def test_prod_settings_are_valid():
    assert load_environment("prod") is SETTINGS


def test_prod_holds_the_reference_facts():
    assert SETTINGS.region == "ap-northeast-2"
    assert SETTINGS.availability_zones == ("ap-northeast-2a", "ap-northeast-2c")
    assert SETTINGS.network.vpc_cidr == "10.0.0.0/16"
    assert [(s.cidr, s.availability_zone) for s in SETTINGS.network.public_subnets] == [
        ("10.0.0.0/20", "ap-northeast-2a"), ("10.0.16.0/20", "ap-northeast-2c")]
    assert [(s.cidr, s.availability_zone) for s in SETTINGS.network.private_subnets] == [
        ("10.0.32.0/19", "ap-northeast-2a"), ("10.0.64.0/19", "ap-northeast-2c")]
    assert SETTINGS.state.bucket == "prod-connectly-tfstate"
    assert SETTINGS.domain == "set-of.com"


def test_unknown_environment_names_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"environment 'stagin' is unknown: allowed are prod"):
        load_environment("stagin")


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param(with_network(vpc_cidr="10.0.0.0/33"),
                     "network.vpc_cidr is '10.0.0.0/33'; allowed is an IPv4 CIDR block",
                     id="malformed-vpc-cidr"),
        pytest.param(with_network(public_subnets=(
            SubnetSettings(cidr="10.0.0.300/20", availability_zone="ap-northeast-2a"),
            SETTINGS.network.public_subnets[1])),
            "network.public_subnets[0].cidr is '10.0.0.300/20'; allowed is an IPv4 CIDR block",
            id="malformed-subnet-cidr"),
        pytest.param(with_network(private_subnets=(
            SubnetSettings(cidr="10.1.0.0/19", availability_zone="ap-northeast-2a"),
            SETTINGS.network.private_subnets[1])),
            "network.private_subnets[0].cidr is '10.1.0.0/19'; allowed is a block inside the VPC "
            "range 10.0.0.0/16", id="subnet-outside-vpc"),
        pytest.param(with_network(private_subnets=(
            SubnetSettings(cidr="10.0.0.0/19", availability_zone="ap-northeast-2a"),
            SETTINGS.network.private_subnets[1])),
            "network.private_subnets[0].cidr is '10.0.0.0/19'; it overlaps "
            "network.public_subnets[0] (10.0.0.0/20)", id="overlapping-subnets"),
        pytest.param(with_network(private_subnets=(
            SubnetSettings(cidr="10.0.32.0/19", availability_zone="us-east-1a"),
            SETTINGS.network.private_subnets[1])),
            "network.private_subnets[0].availability_zone is 'us-east-1a'; allowed are the "
            "environment's zones", id="az-not-in-environment"),
        pytest.param(dataclasses.replace(SETTINGS, availability_zones=("ap-northeast-2a", "eu-west-1c")),
                     "availability_zones[1] is 'eu-west-1c'; allowed is a zone of region "
                     "'ap-northeast-2'", id="az-not-in-region"),
        pytest.param(with_tags(team="Platform_Team"),
                     "tags.team is 'Platform_Team'; tag values must be kebab-case",
                     id="tag-not-kebab"),
        pytest.param(with_tags(cost_center=""),
                     "tags.cost_center is ''; every required tag needs a non-empty value",
                     id="empty-tag"),
        pytest.param(with_tags(owner="platform-team"),
                     "tags.owner is 'platform-team'; allowed is an e-mail address",
                     id="owner-not-email"),
        pytest.param(dataclasses.replace(SETTINGS, log_retention_days=100),
                     "log_retention_days is 100; allowed are the values CloudWatch Logs accepts",
                     id="log-retention"),
        pytest.param(with_hooks(()), "github.hook_cidrs is (); at least one range is required",
                     id="no-hook-ranges"),
        pytest.param(with_hooks(("192.30.252.0/33",)),
                     "github.hook_cidrs[0] is '192.30.252.0/33'; allowed is an IPv4 CIDR block",
                     id="bad-hook-range"),
        pytest.param(with_atlantis(operator_cidrs=("0.0.0.0/0",)),
                     "atlantis.operator_cidrs[0] is '0.0.0.0/0'; the whole internet is not a "
                     "source range", id="ui-open-to-all"),
        pytest.param(with_atlantis(team_allowlist=()),
                     "atlantis.team_allowlist is (); at least one (team, command) pair",
                     id="no-team"),
        pytest.param(with_atlantis(team_allowlist=(("platform-team", "destroy"),)),
                     "atlantis.team_allowlist[0] is ('platform-team', 'destroy'); allowed commands "
                     "are version, plan, apply", id="unknown-command"),
        pytest.param(with_backup(copy_region="tokyo"),
                     "backup.copy_region is 'tokyo'; allowed is a Region name",
                     id="backup-copy-region-malformed"),
        pytest.param(with_backup(copy_region="ap-northeast-2"),
                     "backup.copy_region is 'ap-northeast-2'; allowed is a Region other than "
                     "the environment's own (ap-northeast-2)", id="backup-copy-in-home-region"),
        pytest.param(with_backup(schedule="0 17 * * ? *"),
                     "backup.schedule is '0 17 * * ? *'; allowed is an AWS Backup schedule "
                     "expression", id="backup-schedule-not-cron"),
        pytest.param(with_backup(schedule="cron(0 17 * * ?)"),
                     "backup.schedule is 'cron(0 17 * * ?)'; allowed is an AWS Backup schedule",
                     id="backup-cron-five-fields"),
        pytest.param(with_backup(retention_days=30),
                     "backup.retention_days is 30; allowed is a whole number of days from 35 "
                     "(the vault locks' minimum, backup.vault_lock_min_days) to 36500",
                     id="backup-retention-below-the-lock"),
        pytest.param(with_backup(copy_retention_days=36501),
                     "backup.copy_retention_days is 36501; allowed is a whole number of days "
                     "from 35", id="backup-copy-retention-too-long"),
        pytest.param(with_backup(vault_lock_min_days=6, retention_days=6),
                     "backup.vault_lock_min_days is 6; allowed is a whole number of days from "
                     "7 to 36500", id="backup-lock-minimum-too-short"),
        pytest.param(with_backup(vault_lock_min_days=6, retention_days=6),
                     "backup.retention_days is 6; allowed is a whole number of days from 7 ",
                     id="backup-retention-below-the-floor"),
        pytest.param(with_backup(retention_days=True),
                     "backup.retention_days is True; allowed is a whole number of days",
                     id="backup-retention-bool"),
        pytest.param(with_backup(vault_lock_grace_days=2),
                     "backup.vault_lock_grace_days is 2; allowed is a whole number of days, at "
                     "least 3", id="backup-grace-below-aws-minimum"),
    ],
)
def test_bad_settings_are_refused_with_a_sentence(settings, expected):
    problems = problems_of(settings)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("environments/prod.py: ") for p in problems)


def test_backup_defaults_need_no_setting_in_the_environment_module():
    """prod.py sets no BackupSettings: the defaults are valid for it."""
    assert SETTINGS.backup.copy_region != SETTINGS.region
    assert SETTINGS.backup.retention_days >= 7
    validate_settings(with_backup(schedule="rate(1 day)"))
    # A longer retention needs no new lock.
    validate_settings(with_backup(retention_days=90, copy_retention_days=365))


def test_all_problems_are_reported_at_once():
    bad = dataclasses.replace(
        with_tags(team="Platform Team", owner="nobody"),
        log_retention_days=100,
    )
    problems = problems_of(bad)
    assert len(problems) == 3
    assert "3 problems" in str(ConfigError(problems))
