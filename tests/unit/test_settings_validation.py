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


def with_github(**changes):
    return dataclasses.replace(SETTINGS, github=dataclasses.replace(SETTINGS.github, **changes))


def with_hooks(cidrs):
    return with_github(hook_cidrs=cidrs)


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
        pytest.param(with_github(default_branch="release:1"),
                     "github.default_branch is 'release:1'; allowed is a branch name without "
                     "spaces, ':'", id="branch-with-colon"),
        pytest.param(with_github(default_branch=""),
                     "github.default_branch is ''; allowed is a branch name", id="no-branch"),
        pytest.param(with_github(immutable_ids=(123, 0)),
                     "github.immutable_ids is (123, 0); allowed is None or (owner id, "
                     "repository id), two positive integers", id="bad-immutable-ids"),
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
