"""The 8 required tags as one typed value that every construct takes."""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.errors import Problems
from constructs_lib.formats import is_email, is_kebab
from environments.tag_keys import REQUIRED_TAG_KEYS, EnvironmentTags, tag_field


@dataclass(frozen=True, kw_only=True)
class RequiredTags(EnvironmentTags):
    """Values of the reference's 8 required tags for one service: the
    environment's (`EnvironmentTags`) plus `service`, one field per key of
    `environments/tag_keys.py`, named by `tag_field`."""

    service: str

    def as_dict(self) -> dict[str, str]:
        """Tag key -> value, in the order of `REQUIRED_TAG_KEYS`."""
        return {key: getattr(self, tag_field(key)) for key in REQUIRED_TAG_KEYS}

    def check(self, problems: Problems, field: str = "tags") -> None:
        """Add a problem for each empty, non-kebab-case or malformed value."""
        for key, value in self.as_dict().items():
            problem = tag_value_problem(key, value)
            if problem:
                problems.add(f"{field}[{key!r}]", value, problem)

    def resource_tags(self, name: str | None = None) -> dict[str, str]:
        """Tags to set on one resource: the 8 required ones plus `Name`."""
        tags = self.as_dict()
        if name:
            tags["Name"] = name
        return tags


def tag_value_problem(key: str, value: object) -> str | None:
    """What is wrong with `value` for the required tag `key` (e.g. "Owner"),
    or None when it is fine: values are non-empty, Owner is an e-mail address,
    every other value kebab-case."""
    if not isinstance(value, str) or not value.strip():
        return "every required tag needs a non-empty value"
    if key == "Owner":
        if not is_email(value):
            return "allowed is an e-mail address such as 'platform@example.com'"
    elif not is_kebab(value):
        return "tag values must be kebab-case (lower-case words joined by '-')"
    return None
