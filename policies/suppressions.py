"""The reviewed suppression file: every entry names a rule, a resource glob and a reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import yaml

from policies.excuses import MIN_REASON, short_reason

DEFAULT_FILE = Path(__file__).parent / "suppressions.yaml"
CHECKOV_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
OUR_ID = re.compile(r"^[A-Z]{3}\d{3}$")
KEYS = frozenset({"rule", "resource", "reason"})


def is_checkov_id(rule: str) -> bool:
    return bool(CHECKOV_ID.match(rule))


@dataclass(frozen=True)
class Suppression:
    rule: str
    resource: str
    """`<stack>/<type>.<name>`; fnmatch globs allowed (`*/aws_s3_bucket.logs-*`)."""
    reason: str
    line: int
    """1-based entry number in the file, for messages."""

    def matches(self, rule: str, resource: str) -> bool:
        return rule == self.rule and fnmatchcase(resource, self.resource)

    def describe(self) -> str:
        return f"{self.rule} {self.resource}: {self.reason}"


def load(path: Path = DEFAULT_FILE) -> tuple[list[Suppression], list[str]]:
    """The valid entries and a sentence per invalid one (an invalid entry is an error)."""
    if not path.exists():
        return [], []
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        return [], [f"{path}: not valid YAML: {error}"]
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [f"{path}: must be a list of {{rule, resource, reason}} entries"]
    entries, problems = [], []
    for n, item in enumerate(raw, start=1):
        where = f"{path.name} entry {n}"
        if not isinstance(item, dict):
            problems.append(f"{where}: must be a mapping with rule, resource and reason")
            continue
        bad = []
        extra = sorted(set(item) - KEYS)
        if extra:
            bad.append(f"unknown keys {', '.join(map(str, extra))} (allowed: rule, resource, reason)")
        rule, resource, reason = item.get("rule"), item.get("resource"), item.get("reason")
        if not isinstance(rule, str) or not (OUR_ID.match(rule) or CHECKOV_ID.match(rule)):
            bad.append(f"rule {rule!r} is not a policy id (e.g. TAG001) or a checkov id "
                       "(e.g. CKV_AWS_18)")
        if not isinstance(resource, str) or "/" not in resource:
            bad.append(f"resource {resource!r} is not '<stack>/<type>.<name>' (globs allowed)")
        if short_reason(reason):
            bad.append(f"reason {reason!r} must be at least {MIN_REASON} characters saying why")
        if bad:
            problems.append(f"{where}: " + "; ".join(bad))
        else:
            entries.append(Suppression(rule=rule, resource=resource, reason=reason.strip(),
                                       line=n))
    return entries, problems
