"""Shared props checks: the name rule and waiver reasons."""

from __future__ import annotations

import pytest

from constructs_lib.errors import Problems
from constructs_lib.prop_checks import check_name, check_reason


def problems_of(check, *args, **kwargs) -> list[str]:
    problems = Problems("unit/thing")
    check(problems, *args, **kwargs)
    return problems.items


@pytest.mark.parametrize(("value", "expected"), [
    ("prod-app", []),
    ("${TfToken[TOKEN.1]}", []),
    ("app", ["unit/thing: name is 'app'; allowed is a kebab-case name starting with 'prod-'."]),
    ("prod_App", ["unit/thing: name is 'prod_App'; allowed is a kebab-case name starting with "
                  "'prod-'."]),
    ("prod-" + "a" * 12, ["unit/thing: name is 'prod-aaaaaaaaaaaa'; allowed are at most 16 "
                          "characters."]),
])
def test_check_name(value, expected):
    assert problems_of(check_name, "name", value, "prod", max_length=16) == expected


@pytest.mark.parametrize(("reason", "expected"), [
    (None, []),
    ("scratch copy, recreated daily", []),
    ("short", ["unit/thing: allow_destroy_reason is 'short'; a reason needs at least 10 "
               "characters."]),
    ("          ", ["unit/thing: allow_destroy_reason is '          '; a reason needs at least "
                    "10 characters."]),
])
def test_check_reason_given(reason, expected):
    assert problems_of(check_reason, "allow_destroy_reason", reason) == expected


@pytest.mark.parametrize(("reason", "expected"), [
    (None, ["unit/thing: off_reason is None; turning it off needs a reason of at least 10 "
            "characters."]),
    ("short", ["unit/thing: off_reason is 'short'; turning it off needs a reason of at least "
               "10 characters."]),
    ("scratch copy, recreated daily", []),
])
def test_check_reason_required(reason, expected):
    assert problems_of(check_reason, "off_reason", reason,
                       required_for="turning it off") == expected
