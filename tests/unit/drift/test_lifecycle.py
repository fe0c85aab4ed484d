"""drift.lifecycle: ignore_changes read as Terraform merges the stack dir's files."""

from __future__ import annotations

import json

from drift.lifecycle import ignored_attributes


def _write(path, resources):
    path.write_text(json.dumps({"resource": resources}))


def test_an_override_file_replaces_the_primary_ignore_changes(tmp_path):
    _write(tmp_path / "cdk.tf.json", {
        "aws_db_instance": {"db": {"lifecycle": {"ignore_changes": ["password"]}}},
        "aws_vpc": {"vpc": {"cidr_block": "10.0.0.0/16"}}})
    _write(tmp_path / "local_quirks_override.tf.json", {
        "aws_db_instance": {"db": {"lifecycle": {
            "ignore_changes": ["password", "performance_insights_enabled"]}}}})
    assert ignored_attributes(tmp_path) == {
        ("aws_db_instance", "db"): frozenset({"password", "performance_insights_enabled"})}


def test_paths_count_as_their_top_level_attribute_and_all_is_kept(tmp_path):
    _write(tmp_path / "cdk.tf.json", {
        "aws_vpc": {"vpc": {"lifecycle": {"ignore_changes": ['tags["Owner"]', "tags_all.x"]}}},
        "aws_ecs_service": {"svc": {"lifecycle": {"ignore_changes": "all"}}}})
    assert ignored_attributes(tmp_path) == {
        ("aws_vpc", "vpc"): frozenset({"tags", "tags_all"}),
        ("aws_ecs_service", "svc"): frozenset({"all"})}


def test_a_stack_that_ignores_nothing_has_no_entries(tmp_path):
    _write(tmp_path / "cdk.tf.json", {"aws_vpc": {"vpc": {"lifecycle": {"prevent_destroy": True}}}})
    assert ignored_attributes(tmp_path) == {}
