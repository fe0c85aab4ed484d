"""drift.attributes: the leaves that differ, values hidden where Terraform marks them
sensitive (before_sensitive / after_sensitive)."""

from __future__ import annotations

from drift.attributes import ABSENT, MAX_VALUE, SENSITIVE, AttributeChange, differences


def test_a_scalar_change_shows_both_values():
    assert differences({"retention_in_days": 365}, {"retention_in_days": 30}) == [
        AttributeChange("retention_in_days", "365", "30")]


def test_a_removed_tag_is_a_path_into_the_map():
    before = {"tags": {"Name": "prod-vpc", "Owner": "platform@example.com"}}
    after = {"tags": {"Name": "prod-vpc"}}
    [change] = differences(before, after)
    assert change == AttributeChange("tags.Owner", '"platform@example.com"', ABSENT)
    assert change.attribute == "tags"


def test_an_element_added_to_a_set_of_blocks_is_shown_whole():
    rule = {"cidr_blocks": [], "from_port": 3306, "protocol": "tcp", "to_port": 3306}
    added = {"cidr_blocks": ["203.0.113.0/24"], "from_port": 22, "protocol": "tcp",
             "to_port": 22}
    [change] = differences({"ingress": [rule]}, {"ingress": [rule, added]})
    assert change.path == "ingress"
    assert change.before == ABSENT
    assert '"from_port": 22' in change.after and "203.0.113.0/24" in change.after


def test_lists_of_the_same_length_compare_element_by_element():
    assert differences({"x": [{"a": 1}, {"a": 2}]}, {"x": [{"a": 1}, {"a": 3}]}) == [
        AttributeChange("x[1].a", "2", "3")]


def test_a_sensitive_attribute_never_shows_its_values():
    [change] = differences({"value": "old-secret"}, {"value": "new-secret"},
                           {"value": True}, {"value": True})
    assert (change.path, change.before, change.after) == ("value", SENSITIVE, SENSITIVE)
    assert change.sensitive


def test_a_value_sensitive_on_one_side_only_is_hidden_on_both():
    [change] = differences({"value": "a"}, {"value": "b"}, {}, {"value": True})
    assert change.before == change.after == SENSITIVE


def test_a_value_holding_a_sensitive_member_is_not_printed_whole():
    before = {"block": [{"user": "admin", "password": "p1"}]}
    after = {"block": [{"user": "admin", "password": "p1"}, {"user": "x", "password": "p2"}]}
    mask = {"block": [{"password": True}, {"password": True}]}
    [change] = differences(before, after, {"block": [{"password": True}]}, mask)
    assert change.after == SENSITIVE
    assert "p2" not in change.after


def test_a_sensitive_map_member_is_hidden_and_its_neighbours_shown():
    before = {"env": {"TOKEN": "t1", "LEVEL": "info"}}
    after = {"env": {"TOKEN": "t2", "LEVEL": "debug"}}
    mask = {"env": {"TOKEN": True}}
    assert differences(before, after, mask, mask) == [
        AttributeChange("env.LEVEL", '"info"', '"debug"'),
        AttributeChange("env.TOKEN", SENSITIVE, SENSITIVE)]


def test_long_values_are_cut():
    [change] = differences({"policy": "x" * 1000}, {"policy": "y" * 1000})
    assert len(change.before) == MAX_VALUE and change.before.endswith("…")


def test_equal_objects_have_no_differences():
    assert differences({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []
