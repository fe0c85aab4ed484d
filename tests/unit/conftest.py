"""Unit-test fixtures: a fresh in-memory stack with an AWS provider, and the
required tags every construct takes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

# tests/conftest.py has made the AWS bindings lazy before this is imported.
import pytest
from cdktf import TerraformStack, Testing
from cdktf_cdktf_provider_aws.provider import AwsProvider

from constructs_lib.tags import RequiredTags
from environments import load_environment

TEST_TAGS = RequiredTags(service="unit-test", **dataclasses.asdict(load_environment("prod").tags))
"""The prod environment's tag values, for a service named `unit-test`."""


def new_stack(name: str = "unit") -> TerraformStack:
    """A stack in a fresh test app, with the default AWS provider."""
    stack = TerraformStack(Testing.app(), name)
    AwsProvider(stack, "aws", region="ap-northeast-2")
    return stack


def synth_json(stack: TerraformStack) -> dict:
    """The Terraform JSON of `stack` as the app writes it. Unlike
    `Testing.synth`, this keeps the `//` comment blocks, where waivers live and
    construct paths are read (tests/unit/synth_helpers.py: the blocks of one
    construct, and cdktf's matchers on `Testing.synth`)."""
    return json.loads(json.dumps(stack.to_terraform()))


@pytest.fixture(scope="session")
def tags() -> RequiredTags:
    return TEST_TAGS


@pytest.fixture(scope="session")
def make_stack() -> Callable[..., TerraformStack]:
    """Factory for fresh stacks (use it in module-scoped synth fixtures)."""
    return new_stack


@pytest.fixture(scope="session")
def synth() -> Callable[[TerraformStack], dict]:
    return synth_json


@pytest.fixture
def stack() -> TerraformStack:
    """A fresh, empty stack per test (cheap: nothing is synthesized)."""
    return new_stack()
