"""The 8 required tags' keys: the one place they are written. Settings, stacks,
constructs and the TAG001 rule all read them from here."""

from __future__ import annotations

import re
from dataclasses import dataclass

ENVIRONMENT_TAG_KEY = "Environment"
"""The key whose value names the environment: what selects an environment's
resources among others of the account (e.g. the AWS Backup selection)."""

REQUIRED_TAG_KEYS = (ENVIRONMENT_TAG_KEY, "Service", "Team", "Owner", "CostCenter", "Project",
                     "DataClass", "ManagedBy")
"""Every taggable resource carries all of them (the reference's governance rule),
listed in the reference's order."""

ENVIRONMENT_TAG_KEYS = tuple(key for key in REQUIRED_TAG_KEYS if key != "Service")
"""The keys whose values are facts of the environment (`TagSettings`); `Service`
is each stack's own name instead."""


def tag_field(key: str) -> str:
    """The attribute that holds tag `key` in `TagSettings` and `RequiredTags`:
    the key in snake_case (`CostCenter` -> `cost_center`)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


@dataclass(frozen=True, kw_only=True)
class EnvironmentTags:
    """The values of `ENVIRONMENT_TAG_KEYS`, one field per key named by
    `tag_field`: written once here for the settings (`TagSettings`) and the
    constructs (`RequiredTags`, which adds `service`)."""

    environment: str
    team: str
    owner: str
    cost_center: str
    project: str
    data_class: str
    managed_by: str
