"""Unit-test fixtures: a fresh in-memory stack with an AWS provider, and the
required tags every construct takes."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

# Before any binding import: lazy AWS submodules and no Node version banner.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
import fast_synth

fast_synth.enable()

import pytest  # noqa: E402
from cdktf import TerraformStack, Testing  # noqa: E402
from cdktf_cdktf_provider_aws.provider import AwsProvider  # noqa: E402

from constructs_lib.tags import RequiredTags  # noqa: E402

TEST_TAGS = RequiredTags(
    environment="prod",
    service="unit-test",
    team="platform-team",
    owner="platform@example.com",
    cost_center="engineering",
    project="infrastructure",
    data_class="confidential",
    managed_by="terraform",
)


def new_stack(name: str = "unit") -> TerraformStack:
    """A stack in a fresh test app, with the default AWS provider."""
    stack = TerraformStack(Testing.app(), name)
    AwsProvider(stack, "aws", region="ap-northeast-2")
    return stack


def synth_json(stack: TerraformStack) -> dict:
    """The Terraform JSON of `stack` as the app writes it. Unlike
    `Testing.synth`, this keeps the `//` comment blocks, where waivers live."""
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
