"""The reduced hashicorp/aws schema (regenerate with `python -m scripts.provider_schema`)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

SCHEMA_FILE = Path(__file__).parent / "data" / "aws_taggable_types.json"


@lru_cache(maxsize=1)
def _load() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def taggable_types() -> frozenset[str]:
    """Resource types whose schema has a `tags` map (and so take provider default_tags)."""
    return frozenset(_load()["taggable_resource_types"])


def kms_key_attributes() -> dict[str, list[str]]:
    """Resource type -> its top-level attributes that name a KMS key."""
    return dict(_load()["kms_key_attributes"])
