"""RequiredTags: the per-value rule shared with settings validation."""

from __future__ import annotations

import dataclasses

import pytest

from constructs_lib.errors import Problems
from constructs_lib.tags import tag_value_problem


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
