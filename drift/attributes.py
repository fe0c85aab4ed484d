"""The attributes that differ between two versions of one object, with the values
rendered only where they are safe to show.

Terraform's plan JSON gives each object's values (`before`, `after`) and, beside
them, a mask of the same shape (`before_sensitive`, `after_sensitive`) holding `true`
where a value is sensitive. A value is shown only when neither mask marks it, nor
anything inside it, nor anything around it; otherwise it reads `(sensitive)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ABSENT = "(absent)"
SENSITIVE = "(sensitive)"
MAX_VALUE = 400
"""Characters of a rendered value shown before it is cut (policies run to kilobytes)."""

_MISSING = object()


@dataclass(frozen=True)
class AttributeChange:
    path: str
    """`retention_in_days`, `tags.Owner`, `ingress` (an element added or removed),
    `ingress[0].from_port`."""
    before: str
    after: str

    @property
    def attribute(self) -> str:
        """The top-level attribute the path is in."""
        return self.path.split(".", 1)[0].split("[", 1)[0]

    @property
    def sensitive(self) -> bool:
        return SENSITIVE in (self.before, self.after)


def render(value: Any) -> str:
    if value is _MISSING:
        return ABSENT
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1] + "…"


def _marked(mask: Any) -> bool:
    """True when the mask marks this value or anything inside it."""
    if mask is True:
        return True
    if isinstance(mask, dict):
        return any(_marked(m) for m in mask.values())
    if isinstance(mask, list):
        return any(_marked(m) for m in mask)
    return False


def _child(mask: Any, key: str | int) -> Any:
    if mask is True:
        return True
    if isinstance(mask, dict) and isinstance(key, str):
        return mask.get(key, False)
    if isinstance(mask, list) and isinstance(key, int) and key < len(mask):
        return mask[key]
    return False


def differences(before: Any, after: Any, before_mask: Any = False, after_mask: Any = False,
                path: str = "") -> list[AttributeChange]:
    """Every leaf that differs between `before` and `after` (missing keys included).

    Objects are compared key by key; lists of the same length element by element;
    lists of different lengths (sets of blocks, like a security group's `ingress`) as
    the elements removed and the elements added."""
    if before == after:
        return []
    hidden = before_mask is True or after_mask is True
    if isinstance(before, dict) and isinstance(after, dict) and not hidden:
        found = []
        for key in sorted(before.keys() | after.keys()):
            found += differences(before.get(key, _MISSING), after.get(key, _MISSING),
                                 _child(before_mask, key), _child(after_mask, key),
                                 f"{path}.{key}" if path else key)
        return found
    if isinstance(before, list) and isinstance(after, list) and not hidden:
        if len(before) == len(after):
            found = []
            for index, (old, new) in enumerate(zip(before, after, strict=True)):
                found += differences(old, new, _child(before_mask, index),
                                     _child(after_mask, index), f"{path}[{index}]")
            return found
        if _marked(before_mask) or _marked(after_mask):
            return [AttributeChange(path, SENSITIVE, SENSITIVE)]
        removed = [AttributeChange(path, render(item), ABSENT)
                   for item in before if item not in after]
        added = [AttributeChange(path, ABSENT, render(item))
                 for item in after if item not in before]
        return removed + added
    if _marked(before_mask) or _marked(after_mask):
        return [AttributeChange(path, SENSITIVE, SENSITIVE)]
    return [AttributeChange(path, render(before), render(after))]
