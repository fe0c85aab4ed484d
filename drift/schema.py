"""Which attributes of a resource type nobody can set: the provider schema's computed-only
attributes (neither required nor optional), read from `terraform providers schema -json`.

AWS changes them by itself (`latest_restorable_time` of a DB instance moves every few
minutes, a version number follows each write), so a difference there is not drift.
`tags_all` is the exception: computed-only on some resource types, it is the merge of
`tags` and the provider's `default_tags`, and the one place a default tag removed by
hand shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

MERGED_FROM_CONFIGURATION = frozenset({"tags_all"})

ReadOnly = dict[str, frozenset[str]]
"""Resource type -> its computed-only top-level attributes."""


def read_only_attributes(schema: dict) -> ReadOnly:
    found: ReadOnly = {}
    for provider in (schema.get("provider_schemas") or {}).values():
        for rtype, body in (provider.get("resource_schemas") or {}).items():
            attributes = body.get("block", {}).get("attributes", {})
            found[rtype] = frozenset(
                name for name, spec in attributes.items()
                if spec.get("computed") and not spec.get("optional")
                and not spec.get("required") and name not in MERGED_FROM_CONFIGURATION)
    return found


class SchemaOnce:
    """The read-only attributes, fetched once (by the first stack that asks, in its
    initialized dir) and shared by every stack of the run: the stacks pin one provider.
    `fetch(workdir)` returns the schema JSON, or None when terraform could not."""

    def __init__(self, fetch: Callable[[Path], dict | None]):
        self._fetch = fetch
        self._lock = threading.Lock()
        self._value: ReadOnly | None = None

    def get(self, workdir: Path) -> ReadOnly:
        with self._lock:
            if self._value is None:
                schema = self._fetch(workdir)
                # Without a schema nothing is filtered: more reported, never less.
                self._value = read_only_attributes(schema) if schema else {}
            return self._value
