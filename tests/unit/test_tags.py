"""RequiredTags and the tag keys of environments/tag_keys.py: the per-value rule
shared with settings validation, and the two dataclasses that must hold one field
per key."""

from __future__ import annotations

import dataclasses

import pytest

from constructs_lib.errors import Problems
from constructs_lib.tags import RequiredTags, tag_value_problem
from environments.settings import TagSettings
from environments.tag_keys import ENVIRONMENT_TAG_KEYS, REQUIRED_TAG_KEYS, tag_field


@pytest.mark.parametrize(("key", "field"), [
    ("Owner", "owner"), ("CostCenter", "cost_center"), ("ManagedBy", "managed_by")])
def test_tag_field_is_the_key_in_snake_case(key, field):
    assert tag_field(key) == field


def test_the_dataclasses_hold_one_field_per_key():
    """A key added to tag_keys.py without its field (or the reverse) fails here,
    not as an AttributeError in the middle of a synth."""
    assert sorted(f.name for f in dataclasses.fields(RequiredTags)) == sorted(
        tag_field(k) for k in REQUIRED_TAG_KEYS)
    assert [f.name for f in dataclasses.fields(TagSettings)] == [
        tag_field(k) for k in ENVIRONMENT_TAG_KEYS]


def test_as_dict_maps_every_key_to_its_field(tags):
    assert tags.as_dict() == {key: getattr(tags, tag_field(key)) for key in REQUIRED_TAG_KEYS}
    assert tags.as_dict()["CostCenter"] == "engineering"
    assert list(tags.resource_tags("x")) == [*REQUIRED_TAG_KEYS, "Name"]


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("Team", "platform-team", None),
    ("Owner", "platform@example.com", None),
    ("Team", "", "every required tag needs a non-empty value"),
    ("Owner", "  ", "every required tag needs a non-empty value"),
    ("Team", None, "every required tag needs a non-empty value"),
    ("Team", "Platform_Team", "tag values must be kebab-case (lower-case words joined by '-')"),
    ("Owner", "platform-team", "allowed is an e-mail address such as 'platform@example.com'"),
])
def test_tag_value_problem(key, value, expected):
    assert tag_value_problem(key, value) == expected


def test_check_names_each_bad_tag(tags):
    problems = Problems("unit/thing")
    dataclasses.replace(tags, owner="platform-team", team="").check(problems)
    assert problems.items == [
        "unit/thing: tags['Team'] is ''; every required tag needs a non-empty value.",
        "unit/thing: tags['Owner'] is 'platform-team'; allowed is an e-mail address such as "
        "'platform@example.com'.",
    ]
