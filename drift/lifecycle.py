"""What a stack's configuration tells Terraform to ignore: `lifecycle.ignore_changes`.

Read from the stack dir's `*.tf.json` files the way Terraform merges them: the primary
files first, then the override files (`override.tf.json`, `*_override.tf.json`), whose
`ignore_changes` replaces the primary one. The plan JSON does not carry `lifecycle`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ALL = "all"
_ROOT = re.compile(r"[A-Za-z0-9_-]+")


def _is_override(path: Path) -> bool:
    return path.name == "override.tf.json" or path.name.endswith("_override.tf.json")


def ignored_attributes(stack_dir: Path) -> dict[tuple[str, str], frozenset[str]]:
    """(resource type, name) -> the top-level attributes its ignore_changes names
    (`{"all"}` for `ignore_changes = all`); resources that ignore nothing are left out."""
    files = sorted(stack_dir.glob("*.tf.json"))
    ignored: dict[tuple[str, str], frozenset[str]] = {}
    for path in [f for f in files if not _is_override(f)] + [f for f in files if _is_override(f)]:
        body = json.loads(path.read_text())
        for rtype, blocks in (body.get("resource") or {}).items():
            for name, block in blocks.items():
                lifecycle = block.get("lifecycle") or {}
                if isinstance(lifecycle, list):  # the JSON syntax allows a list of blocks
                    lifecycle = {k: v for item in lifecycle for k, v in item.items()}
                if "ignore_changes" not in lifecycle:
                    continue
                ignored[(rtype, name)] = _roots(lifecycle["ignore_changes"])
    return {key: value for key, value in ignored.items() if value}


def _roots(entries: str | list[str]) -> frozenset[str]:
    if isinstance(entries, str):
        entries = [entries]
    roots = set()
    for entry in entries:
        # `tags["Owner"]`, `${tags}` or `tags.Owner` -> tags
        found = _ROOT.search(entry.removeprefix("${"))
        if found:
            roots.add(found.group(0))
    return frozenset(roots)
