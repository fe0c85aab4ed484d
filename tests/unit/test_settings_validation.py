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
    ],
)
def test_bad_settings_are_refused_with_a_sentence(settings, expected):
    problems = problems_of(settings)
    assert any(expected in p for p in problems), problems
    assert all(p.startswith("environments/prod.py: ") for p in problems)


def test_all_problems_are_reported_at_once():
    bad = dataclasses.replace(
        with_tags(team="Platform Team", owner="nobody"),
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
