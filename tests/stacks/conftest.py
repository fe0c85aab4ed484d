"""Fixtures for stack tests: syrupy's snapshot as one JSON file per test, and
the atlantis stack with its container definitions."""

from __future__ import annotations

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from tests.stacks.synth_json import containers as container_definitions


@pytest.fixture
def snapshot(snapshot):
    """syrupy's snapshot stored as reviewable JSON (keys sorted, two-space indent),
    one file per test under __snapshots__/<test module>/; `make snapshots`
    (pytest --snapshot-update) rewrites them, review the diff."""
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.fixture(scope="module")
def atlantis(stack_json):
    """The atlantis stack's JSON (test_atlantis.py, test_atlantis_server.py)."""
    return stack_json("atlantis")


@pytest.fixture(scope="module")
def containers(atlantis):
    """The Atlantis task's container definitions, by name."""
    return container_definitions(atlantis)
