"""The SSM contract graph refuses reads that break the deploy order."""

from __future__ import annotations

import pytest

from constructs_lib.errors import ConfigError
from stacks.contracts import ContractGraph
from stacks.registry import STACKS


@pytest.fixture
def graph() -> ContractGraph:
    g = ContractGraph(environment="prod", stacks=STACKS)
    g.publish("kms", "logs-key-arn")
    g.publish("network", "vpc-id")
    g.publish("logging", "application-log-group-name")
    return g


def test_read_from_an_earlier_stack_is_recorded(graph):
    assert graph.read("rds", "network", "vpc-id") == "/prod/network/vpc-id"
    assert graph.upstream("rds") == ["network"]


def test_read_from_a_later_stack_names_both_stacks_and_the_parameter(graph):
    with pytest.raises(ConfigError) as caught:
        graph.read("kms", "network", "vpc-id")
    message = str(caught.value)
    assert "stack 'kms' reads /prod/network/vpc-id published by stack 'network'" in message
    assert "'network' deploys after 'kms'" in message


def test_read_inside_the_parallel_phase_is_refused(graph):
    with pytest.raises(ConfigError, match="both are in the parallel phase 4"):
        graph.read("monitoring", "logging", "application-log-group-name")


def test_read_of_an_unpublished_value(graph):
    with pytest.raises(ConfigError, match=r"reads /prod/network/subnet-ids, but no stack publishes "
                                          r"it; stack 'network' publishes: /prod/network/vpc-id"):
        graph.read("rds", "network", "subnet-ids")


def test_read_from_an_unknown_stack(graph):
    with pytest.raises(ConfigError, match="'netwrok' is not a stack"):
        graph.read("rds", "netwrok", "vpc-id")


def test_two_publishers_of_one_parameter(graph):
    with pytest.raises(ConfigError, match="already published by stack 'network'"):
        graph.publish("network", "vpc-id")


def test_parameter_names_are_kebab_case(graph):
    with pytest.raises(ConfigError, match="'vpc_id' is not kebab-case"):
        graph.publish("network", "vpc_id")
