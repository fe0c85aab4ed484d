"""A stack's plan JSON sorted into in sync, drifted or error.

Drift is the plan's `resource_drift`: each managed object whose refreshed value differs
from the state, with the attributes that differ, minus those nobody sets (computed-only
in the provider schema: drift.schema) and those the stack's `lifecycle.ignore_changes`
names (counted apart). The plan's `resource_changes` and `output_changes`
that do not just revert that drift are unapplied code: reported beside the status,
they do not make a stack drifted.
"""

from __future__ import annotations

from dataclasses import dataclass

from drift.attributes import AttributeChange, differences
from drift.lifecycle import ALL
from drift.schema import ReadOnly
from drift.terraform import PlanRun

IN_SYNC, DRIFTED, ERROR = "in sync", "drifted", "error"
CHANGED, DELETED = "changed", "deleted"


@dataclass(frozen=True)
class DriftedResource:
    address: str
    action: str
    """CHANGED, or DELETED when the object is gone outside Terraform."""
    changes: tuple[AttributeChange, ...] = ()

    @property
    def attributes(self) -> list[str]:
        return sorted({change.attribute for change in self.changes})


@dataclass(frozen=True)
class CodeChange:
    """A planned change that is not the repair of drift: code not applied yet."""

    address: str
    action: str
    """'create', 'update', 'delete', 'replace', 'forget', or 'move from <address>'."""
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackDrift:
    stack: str
    status: str
    drifted: tuple[DriftedResource, ...] = ()
    code_changes: tuple[CodeChange, ...] = ()
    ignored: tuple[str, ...] = ()
    """`address.attribute` drifted but named by the stack's lifecycle.ignore_changes."""
    error: str | None = None
    failed_step: str | None = None
    plan_exit_code: int | None = None
    seconds: float = 0.0


def classify(run: PlanRun, ignored: dict[tuple[str, str], frozenset[str]],
             read_only: ReadOnly) -> StackDrift:
    """The stack's status from its plan run; `ignored` is lifecycle.ignored_attributes,
    `read_only` schema.read_only_attributes."""
    if run.plan is None:
        return StackDrift(run.stack, ERROR, error=run.error, failed_step=run.failed_step,
                          plan_exit_code=run.exit_code, seconds=run.seconds)
    drifted, skipped = _drift(run.plan.get("resource_drift") or [], ignored, read_only)
    code = _code_changes(run.plan, {d.address: d for d in drifted})
    return StackDrift(run.stack, DRIFTED if drifted else IN_SYNC, tuple(drifted), tuple(code),
                      tuple(skipped), plan_exit_code=run.exit_code, seconds=run.seconds)


def _drift(entries: list[dict], ignored: dict[tuple[str, str], frozenset[str]],
           read_only: ReadOnly) -> tuple[list[DriftedResource], list[str]]:
    drifted, skipped = [], []
    for entry in entries:
        if entry.get("mode") != "managed":
            continue  # a data source read is not drift
        change = entry["change"]
        address = entry["address"]
        if "delete" in change["actions"] and change.get("after") is None:
            drifted.append(DriftedResource(address, DELETED))
            continue
        found = differences(change.get("before") or {}, change.get("after") or {},
                            change.get("before_sensitive", False),
                            change.get("after_sensitive", False))
        computed = read_only.get(entry["type"], frozenset())
        found = [c for c in found if c.attribute not in computed]
        names = ignored.get((entry["type"], entry["name"]), frozenset())
        kept = [c for c in found if ALL not in names and c.attribute not in names]
        skipped += sorted({f"{address}.{c.attribute}" for c in found if c not in kept})
        if kept:
            drifted.append(DriftedResource(address, CHANGED, tuple(kept)))
    return drifted, skipped


def _action(actions: list[str]) -> str:
    if set(actions) == {"create", "delete"}:
        return "replace"
    return actions[0]


def _changed_attributes(change: dict) -> tuple[set[str], set[str]]:
    """(attributes whose new value is known and differs, attributes known after apply)."""
    before, after = change.get("before") or {}, change.get("after") or {}
    unknown = {key for key, value in (change.get("after_unknown") or {}).items()
               if value is True}
    known = {key for key in before.keys() | after.keys()
             if key not in unknown and before.get(key) != after.get(key)}
    return known, unknown


def _code_changes(plan: dict, drifted: dict[str, DriftedResource]) -> list[CodeChange]:
    found = []
    for entry in plan.get("resource_changes") or []:
        if entry.get("mode") != "managed":
            continue
        address, change = entry["address"], entry["change"]
        actions = change["actions"]
        if entry.get("previous_address"):
            found.append(CodeChange(address, f"move from {entry['previous_address']}"))
        if actions == ["no-op"] or actions == ["read"]:
            continue
        action = _action(actions)
        repairs = drifted.get(address)
        if action == "update":
            known, unknown = _changed_attributes(change)
            if repairs is not None:
                # Reverting drift; values known only after apply (a version number)
                # follow from that write.
                known -= set(repairs.attributes)
                unknown = set() if not known else unknown
            if known or unknown:
                found.append(CodeChange(address, action, tuple(sorted(known | unknown))))
        elif not (repairs is not None and repairs.action == DELETED and action == "create"):
            found.append(CodeChange(address, action))
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        if change["actions"] != ["no-op"]:
            found.append(CodeChange(f"output.{name}", _action(change["actions"])))
    return found
