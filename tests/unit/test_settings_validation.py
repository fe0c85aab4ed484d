"""Bad settings are refused before any construct exists, all problems at once, for
every environment module; and the environments are checked against each other."""

from __future__ import annotations

import dataclasses

import pytest

from constructs_lib.errors import ConfigError
from environments import environment_names, load_environment, load_environments
from environments.prod import SETTINGS
from environments.settings import DatabaseSettings, SubnetSettings
from environments.validation import validate_environments, validate_settings

ENVIRONMENTS = {s.name: s for s in load_environments()}


def with_network(s, **changes):
    return dataclasses.replace(s, network=dataclasses.replace(s.network, **changes))


def with_tags(s, **changes):
    return dataclasses.replace(s, tags=dataclasses.replace(s.tags, **changes))


def with_atlantis(s, **changes):
    """`s` running an Atlantis server (its own, or a copy of its host's) with `changes`."""
    host = s if s.atlantis is not None else ENVIRONMENTS[s.planned_by]
    return dataclasses.replace(s, atlantis=dataclasses.replace(host.atlantis, **changes),
                               planned_by=None)


def with_backup(s, **changes):
    return dataclasses.replace(s, backup=dataclasses.replace(s.backup, **changes))


def with_github(s, **changes):
    return dataclasses.replace(s, github=dataclasses.replace(s.github, **changes))


def with_hooks(s, cidrs):
    # The hook ranges matter where an Atlantis server runs: make it one.
    server = with_atlantis(s)
    return dataclasses.replace(server, github=dataclasses.replace(s.github, hook_cidrs=cidrs))


def with_database(s, **changes):
    return dataclasses.replace(s, database=dataclasses.replace(s.database, **changes))


def _vpc(s) -> str:
    return s.network.vpc_cidr


def _second_octet(s) -> str:
    return s.network.vpc_cidr.split(".")[1]


# name -> (settings -> (bad settings, the sentence's text)); written for any environment.
CASES = {
    "malformed-vpc-cidr": lambda s: (
        with_network(s, vpc_cidr=_vpc(s).replace("/16", "/33")),
        f"network.vpc_cidr is '{_vpc(s).replace('/16', '/33')}'; allowed is an IPv4 CIDR block"),
    "malformed-subnet-cidr": lambda s: (
        with_network(s, public_subnets=(
            SubnetSettings(cidr="10.0.0.300/20", availability_zone=s.availability_zones[0]),
            *s.network.public_subnets[1:])),
        "network.public_subnets[0].cidr is '10.0.0.300/20'; allowed is an IPv4 CIDR block"),
    "subnet-outside-vpc": lambda s: (
        with_network(s, private_subnets=(
            SubnetSettings(cidr="172.16.0.0/19", availability_zone=s.availability_zones[0]),
            *s.network.private_subnets[1:])),
        "network.private_subnets[0].cidr is '172.16.0.0/19'; allowed is a block inside the VPC "
        f"range {_vpc(s)}"),
    "overlapping-subnets": lambda s: (
        with_network(s, private_subnets=(
            SubnetSettings(cidr=s.network.public_subnets[0].cidr.replace("/20", "/19"),
                           availability_zone=s.availability_zones[0]),
            *s.network.private_subnets[1:])),
        f"network.private_subnets[0].cidr is '10.{_second_octet(s)}.0.0/19'; it overlaps "
        f"network.public_subnets[0] ({s.network.public_subnets[0].cidr})"),
    "az-not-in-environment": lambda s: (
        with_network(s, private_subnets=(
            SubnetSettings(cidr=s.network.private_subnets[0].cidr,
                           availability_zone="us-east-1a"), *s.network.private_subnets[1:])),
        "network.private_subnets[0].availability_zone is 'us-east-1a'; allowed are the "
        "environment's zones"),
    "az-not-in-region": lambda s: (
        dataclasses.replace(s, availability_zones=(s.availability_zones[0], "eu-west-1c")),
        f"availability_zones[1] is 'eu-west-1c'; allowed is a zone of region '{s.region}'"),
    "tag-not-kebab": lambda s: (
        with_tags(s, team="Platform_Team"),
        "tags.team is 'Platform_Team'; tag values must be kebab-case"),
    "empty-tag": lambda s: (
        with_tags(s, cost_center=""),
        "tags.cost_center is ''; every required tag needs a non-empty value"),
    "owner-not-email": lambda s: (
        with_tags(s, owner="platform-team"),
        "tags.owner is 'platform-team'; allowed is an e-mail address"),
    "log-retention": lambda s: (
        dataclasses.replace(s, log_retention_days=100),
        "log_retention_days is 100; allowed are the values CloudWatch Logs accepts"),
    "no-hook-ranges": lambda s: (
        with_hooks(s, ()), "github.hook_cidrs is (); at least one range is required"),
    "bad-hook-range": lambda s: (
        with_hooks(s, ("192.30.252.0/33",)),
        "github.hook_cidrs[0] is '192.30.252.0/33'; allowed is an IPv4 CIDR block"),
    "ui-open-to-all": lambda s: (
        with_atlantis(s, operator_cidrs=("0.0.0.0/0",)),
        "atlantis.operator_cidrs[0] is '0.0.0.0/0'; the whole internet is not a source range"),
    "no-team": lambda s: (
        with_atlantis(s, team_allowlist=()),
        "atlantis.team_allowlist is (); at least one (team, command) pair"),
    "unknown-command": lambda s: (
        with_atlantis(s, team_allowlist=(("platform-team", "destroy"),)),
        "atlantis.team_allowlist[0] is ('platform-team', 'destroy'); allowed commands are "
        "version, plan, apply"),
    "fargate-size": lambda s: (
        with_atlantis(s, task_cpu=2048, task_memory_mib=2048),
        "atlantis.task_memory_mib is 2048; allowed with task_cpu 2048 are 4096 to 16384 MiB"),
    "account-id": lambda s: (
        dataclasses.replace(s, account_id="1234"),
        "account_id is '1234'; allowed is a 12-digit AWS account id"),
    "database-class": lambda s: (
        with_database(s, instance_class="t3.medium"),
        "database.instance_class is 't3.medium'; allowed is an RDS instance class"),
    "single-az-without-reason": lambda s: (
        with_database(s, multi_az=False, single_az_reason=None),
        "database.single_az_reason is None; multi_az=False needs a reason"),
    "storage-ceiling": lambda s: (
        with_database(s, allocated_storage_gib=100, max_allocated_storage_gib=50),
        "database.max_allocated_storage_gib is 50; allowed is at least allocated_storage_gib"),
    "backup-copy-region-malformed": lambda s: (
        with_backup(s, copy_region="tokyo"),
        "backup.copy_region is 'tokyo'; allowed is a Region name"),
    "backup-copy-in-home-region": lambda s: (
        with_backup(s, copy_region=s.region),
        f"backup.copy_region is '{s.region}'; allowed is a Region other than the "
        f"environment's own ({s.region})"),
    "backup-schedule-not-cron": lambda s: (
        with_backup(s, schedule="0 17 * * ? *"),
        "backup.schedule is '0 17 * * ? *'; allowed is an AWS Backup schedule expression"),
    "backup-cron-five-fields": lambda s: (
        with_backup(s, schedule="cron(0 17 * * ?)"),
        "backup.schedule is 'cron(0 17 * * ?)'; allowed is an AWS Backup schedule"),
    "backup-retention-below-the-lock": lambda s: (
        with_backup(s, retention_days=30),
        "backup.retention_days is 30; allowed is a whole number of days from 35 "
        "(the vault locks' minimum, backup.vault_lock_min_days) to 36500"),
    "backup-copy-retention-too-long": lambda s: (
        with_backup(s, copy_retention_days=36501),
        "backup.copy_retention_days is 36501; allowed is a whole number of days from 35"),
    "backup-lock-minimum-too-short": lambda s: (
        with_backup(s, vault_lock_min_days=6, retention_days=6),
        "backup.vault_lock_min_days is 6; allowed is a whole number of days from 7 to 36500"),
    "backup-retention-below-the-floor": lambda s: (
        with_backup(s, vault_lock_min_days=6, retention_days=6),
        "backup.retention_days is 6; allowed is a whole number of days from 7 "),
    "backup-retention-bool": lambda s: (
        with_backup(s, retention_days=True),
        "backup.retention_days is True; allowed is a whole number of days"),
    "backup-grace-below-aws-minimum": lambda s: (
        with_backup(s, vault_lock_grace_days=2),
        "backup.vault_lock_grace_days is 2; allowed is a whole number of days, at least 3"),
    "branch-with-colon": lambda s: (
        with_github(s, default_branch="release:1"),
        "github.default_branch is 'release:1'; allowed is a branch name without spaces, ':'"),
    "no-branch": lambda s: (
        with_github(s, default_branch=""), "github.default_branch is ''; allowed is a branch name"),
    "bad-immutable-ids": lambda s: (
        with_github(s, immutable_ids=(123, 0)),
        "github.immutable_ids is (123, 0); allowed is None or (owner id, repository id), two "
        "positive integers"),
}


def problems_of(settings) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_settings(settings)
    return caught.value.problems


def test_every_environment_is_valid():
    for name in environment_names():
        validate_settings(load_environment(name))


def test_prod_holds_the_reference_facts():
    assert load_environment("prod") == SETTINGS
    assert SETTINGS.region == "ap-northeast-2"
    assert SETTINGS.availability_zones == ("ap-northeast-2a", "ap-northeast-2c")
    assert SETTINGS.network.vpc_cidr == "10.0.0.0/16"
    assert [(s.cidr, s.availability_zone) for s in SETTINGS.network.public_subnets] == [
        ("10.0.0.0/20", "ap-northeast-2a"), ("10.0.16.0/20", "ap-northeast-2c")]
    assert [(s.cidr, s.availability_zone) for s in SETTINGS.network.private_subnets] == [
        ("10.0.32.0/19", "ap-northeast-2a"), ("10.0.64.0/19", "ap-northeast-2c")]
    assert SETTINGS.state.bucket == "prod-connectly-tfstate"
    assert SETTINGS.domain == "set-of.com"
    assert SETTINGS.database == DatabaseSettings()  # the reference's size
    assert SETTINGS.database.instance_class == "db.t3.medium" and SETTINGS.database.multi_az


def test_unknown_environment_names_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"environment 'stagin' is unknown: allowed are "
                                          r"staging, prod \(add environments/stagin.py"):
        load_environment("stagin")


@pytest.mark.parametrize("environment", environment_names())
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_settings_are_refused_with_a_sentence(environment, case):
    settings = load_environment(environment)
    bad, expected = CASES[case](settings)
    problems = problems_of(bad)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith(f"environments/{environment}.py: ") for p in problems)


def test_backup_defaults_need_no_setting_in_the_environment_module():
    """prod.py sets no BackupSettings: the defaults are valid for it."""
    assert SETTINGS.backup.copy_region != SETTINGS.region
    assert SETTINGS.backup.retention_days >= 7
    validate_settings(with_backup(SETTINGS, schedule="rate(1 day)"))
    # A longer retention needs no new lock.
    validate_settings(with_backup(SETTINGS, retention_days=90, copy_retention_days=365))


def test_all_problems_are_reported_at_once():
    bad = dataclasses.replace(
        with_tags(SETTINGS, team="Platform Team", owner="nobody"),
        log_retention_days=100,
    )
    problems = problems_of(bad)
    assert len(problems) == 3
    assert "3 problems" in str(ConfigError(problems))


def with_cost(**changes):
    return dataclasses.replace(SETTINGS, cost=dataclasses.replace(SETTINGS.cost, **changes))


def test_cost_assumptions_default_when_an_environment_leaves_them_out():
    assert SETTINGS.cost.nat_gb_processed == 100.0
    assert SETTINGS.cost.hours_per_month == 730


def test_bad_cost_assumptions_are_refused_with_sentences():
    problems = problems_of(with_cost(nat_gb_processed=-5.0, hours_per_month=800,
                                     kms_requests_per_key=1.5, health_checks_target_aws="yes",
                                     log_storage_ratio=0, unretained_log_months=0,
                                     alb_lcus="two"))
    expected = [
        "cost.nat_gb_processed is -5.0; a usage cannot be negative",
        "cost.hours_per_month is 800; allowed is 1 to 744",
        "cost.kms_requests_per_key is 1.5; allowed is a whole number of zero or more",
        "cost.health_checks_target_aws is 'yes'; allowed is True or False",
        "cost.log_storage_ratio is 0; allowed is more than 0 and at most 1",
        "cost.unretained_log_months is 0; allowed is 1 or more",
        "cost.alb_lcus is 'two'; allowed is a number of zero or more",
    ]
    for sentence in expected:
        assert any(sentence in p for p in problems), sentence
    assert all(p.startswith("environments/prod.py: cost.") for p in problems)


# --- the environments together ----------------------------------------------------------
def _others_problems(*environments) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        validate_environments(environments)
    return caught.value.problems


def test_promotion_order_puts_staging_before_prod():
    assert environment_names()[:2] == ("staging", "prod")
    assert ENVIRONMENTS["prod"].promotes_from == "staging"
    assert ENVIRONMENTS["staging"].planned_by == "prod"


def test_a_module_whose_name_is_not_its_own_is_refused():
    copy = dataclasses.replace(SETTINGS, source_file="environments/dev.py",
                               account_id="333333333333")
    problems = _others_problems(SETTINGS, ENVIRONMENTS["staging"], copy)
    assert ("environments/dev.py: name is 'prod'; allowed is the module's own name 'dev'"
            in problems[0]), problems


def test_two_environments_in_one_account_are_refused():
    dev = dataclasses.replace(ENVIRONMENTS["staging"], name="dev", source_file="environments/dev.py",
                              tags=dataclasses.replace(ENVIRONMENTS["staging"].tags,
                                                       environment="dev"),
                              state=dataclasses.replace(ENVIRONMENTS["staging"].state,
                                                        bucket="dev-connectly-tfstate"))
    problems = _others_problems(SETTINGS, ENVIRONMENTS["staging"], dev)
    assert any("environments/dev.py: account_id is '222222222222'; it is also the account of "
               "environments/staging.py" in p for p in problems), problems


def test_planned_by_must_name_a_server():
    staging = dataclasses.replace(ENVIRONMENTS["staging"], planned_by="qa")
    problems = _others_problems(SETTINGS, staging)
    assert any("planned_by is 'qa'; allowed is another environment's name: prod" in p
               for p in problems), problems
    staging = dataclasses.replace(ENVIRONMENTS["staging"], planned_by=None)
    problems = _others_problems(SETTINGS, staging)
    assert any("planned_by is None; an environment without an Atlantis server of its own" in p
               for p in problems), problems


def test_promotion_cannot_go_round():
    staging = dataclasses.replace(ENVIRONMENTS["staging"], promotes_from="prod")
    problems = _others_problems(SETTINGS, staging)
    assert any("promotes_from is 'prod'; it leads back to this environment" in p
               for p in problems), problems
