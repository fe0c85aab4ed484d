"""Declared address changes: mistakes refused with a sentence before synth, and the
Terraform blocks a stack renders for them."""

from __future__ import annotations

import json

import cdktf
import pytest
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic

from constructs_lib.errors import ConfigError
from environments import load_environment
from stacks.address_changes import (
    Import,
    Move,
    Remove,
    Replace,
    declaration_problems,
    terraform_blocks,
)
from stacks.app import build_context
from stacks.base import GovernedStack
from stacks.registry import spec_of

REASON = "a reason a reviewer accepts"


@pytest.mark.parametrize(("change", "expected"), [
    (Move(from_="aws_s3_bucket", to="aws_s3_bucket.b"),
     "Move names the address 'aws_s3_bucket'; allowed is '<resource type>.<name>'"),
    (Move(from_="aws_s3_bucket.a", to="aws_s3_bucket.a"), "Move from aws_s3_bucket.a to itself"),
    (Move(from_="aws_s3_bucket.a", to="aws_kms_key.a"),
     "changes the resource type; Terraform moves only within one type"),
    (Replace(address="aws_s3_bucket.a", reason="because"),
     "Replace of aws_s3_bucket.a has the reason 'because'; a reason needs at least 10 "
     "characters"),
    (Remove(address="data.aws_s3_bucket.a", reason=REASON),
     "Remove names the address 'data.aws_s3_bucket.a'"),
    (Import(to="aws_s3_bucket.a", id="", reason=REASON), "Import to aws_s3_bucket.a has the id ''"),
    ("aws_s3_bucket.a", "address_changes holds 'aws_s3_bucket.a'; allowed are Move, Replace, "
                        "Remove and Import"),
])
def test_each_mistake_is_a_sentence(change, expected):
    [problem] = declaration_problems("rds (RdsStack.address_changes)", (change,))
    assert problem.startswith("rds (RdsStack.address_changes): ")
    assert expected in problem


def test_two_declarations_of_one_address_are_refused():
    changes = (Move(from_="aws_s3_bucket.a", to="aws_s3_bucket.b"),
               Remove(address="aws_s3_bucket.a", reason=REASON))
    [problem] = declaration_problems("rds", changes)
    assert "aws_s3_bucket.a is declared twice" in problem


def test_valid_declarations_have_no_problem():
    changes = (Move(from_="aws_s3_bucket.a", to="aws_s3_bucket.b"),
               Replace(address="aws_kms_key.k", reason=REASON),
               Remove(address="aws_sns_topic.t", reason=REASON, keep_in_aws=True),
               Import(to="aws_sns_topic.u", id="arn:aws:sns:ap-northeast-2:1:t", reason=REASON))
    assert declaration_problems("rds", changes) == []


def test_blocks_terraform_needs():
    changes = (Move(from_="aws_s3_bucket.a", to="aws_s3_bucket.b"),
               Replace(address="aws_kms_key.k", reason=REASON),
               Remove(address="aws_sns_topic.gone", reason=REASON),
               Remove(address="aws_sns_topic.t", reason=REASON, keep_in_aws=True),
               Import(to="aws_sns_topic.u", id="arn:t", reason=REASON))
    assert terraform_blocks(changes) == {
        "moved": [{"from": "aws_s3_bucket.a", "to": "aws_s3_bucket.b"}],
        "removed": [{"from": "aws_sns_topic.t", "lifecycle": {"destroy": False}}],
        "import": [{"id": "arn:t", "to": "aws_sns_topic.u"}],
    }


def _stack(changes):
    class Declaring(GovernedStack):
        address_changes = changes

        def __init__(self, scope, spec, context):
            super().__init__(scope, spec, context)
            SnsTopic(self, "topic", name="prod-topic")

    context = build_context(load_environment("prod"))
    return Declaring(cdktf.Testing.app(), spec_of("monitoring"), context)


def test_a_stack_renders_its_declarations():
    stack = _stack((Move(from_="aws_sns_topic.old", to="aws_sns_topic.topic"),
                    Remove(address="aws_sns_topic.kept", reason=REASON, keep_in_aws=True)))
    doc = json.loads(json.dumps(stack.to_terraform()))
    assert doc["moved"] == [{"from": "aws_sns_topic.old", "to": "aws_sns_topic.topic"}]
    assert doc["removed"] == [{"from": "aws_sns_topic.kept", "lifecycle": {"destroy": False}}]


def test_a_stack_without_declarations_renders_no_block():
    doc = _stack(()).to_terraform()
    assert not {"moved", "removed", "import"} & set(doc)


def test_a_bad_declaration_fails_before_synth():
    with pytest.raises(ConfigError) as error:
        _stack((Replace(address="aws_sns_topic.topic", reason="short"),))
    assert "monitoring (Declaring.address_changes): Replace of aws_sns_topic.topic" in str(error.value)
