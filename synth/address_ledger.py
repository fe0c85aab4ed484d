"""The address ledger: a synth may change a resource's Terraform address only
when its stack declares how (stacks/address_changes.py).

The baseline is the committed cdktf.out/. For each stack, a managed-resource
address that is gone from the new synth must be a declared Move, Replace or
Remove; otherwise it is refused when a resource of the same type is new in the
same stack (the signature of a renamed construct), when one is new in another
stack (a move between two states), or when it carries prevent_destroy. A plain
removal of anything else passes and is listed, since the Atlantis plan shows
the destroy.

Data sources are not compared: they hold no object, and a renamed one is just
read again. Outputs are listed when they disappear (no stack reads another's
outputs; stacks share values through SSM parameters, which are resources).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from stacks.address_changes import AddressChange, Import, Move, Remove, Replace, key_address

CROSS_STACK_SIMILARITY = 0.5
"""How alike (share of equal attribute values) a resource new in another stack must
be to a vanished one to be called the same object moving between states."""

Addresses = dict[str, dict]
"""Address -> resource body (without cdktf's `//` metadata)."""


@dataclass(frozen=True)
class StackOutput:
    resources: Addresses
    outputs: frozenset[str]


def load_output(outdir: Path) -> dict[str, StackOutput] | None:
    """Stack name -> its managed resources and outputs; None when `outdir` holds
    no synthesized stacks (a first synth)."""
    stacks_dir = outdir / "stacks"
    if not stacks_dir.is_dir():
        return None
    loaded = {}
    for path in sorted(stacks_dir.glob("*/cdk.tf.json")):
        doc = json.loads(path.read_text())
        resources = {f"{rtype}.{name}": body
                     for rtype, by_name in (doc.get("resource") or {}).items()
                     for name, body in by_name.items()}
        loaded[path.parent.name] = StackOutput(resources, frozenset(doc.get("output") or {}))
    return loaded


def _leaves(value: object, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "//":
                yield from _leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    else:
        yield path, json.dumps(value, sort_keys=True)


def similarity(a: dict, b: dict) -> float:
    """Share of attribute values two resource bodies have in common (0 to 1)."""
    left, right = set(_leaves(a)), set(_leaves(b))
    union = left | right
    return len(left & right) / len(union) if union else 1.0


def resource_type(address: str) -> str:
    return address.split(".", 1)[0]


def is_protected(body: dict) -> bool:
    lifecycle = body.get("lifecycle")
    return isinstance(lifecycle, dict) and lifecycle.get("prevent_destroy") is True


@dataclass
class LedgerReport:
    failures: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    """What passed and what the plan will do: declared changes, plain removals."""
    notes: list[str] = field(default_factory=list)
    """No baseline, new stacks, stale declarations."""
    moves: dict[Owner, list[str]] = field(default_factory=dict)
    """The Move lines the refused renames suggest, by the class that declares them."""
    added: dict[str, int] = field(default_factory=dict)
    """Stack -> how many addresses are new (created by the plan; nothing to declare)."""
    baseline: str = "cdktf.out/"
    """The committed output compared with, as the sentences name it."""

    def summary(self) -> str:
        new = ", ".join(f"{count} in {stack}" for stack, count in self.added.items())
        new = f"; new addresses: {new}" if new else ""
        if not self.changes and not self.notes:
            return ("address ledger: every committed resource address is kept against "
                    f"{self.baseline}{new}")
        lines = [f"address ledger: {len(self.changes)} address change(s) against "
                 f"{self.baseline}{new}"]
        lines += [f"  - {line}" for line in self.changes]
        lines += [f"  note: {line}" for line in self.notes]
        return "\n".join(lines)

    def failure_text(self) -> str:
        count = len(self.failures)
        head = (f"the address ledger refused {count} address change(s) against the committed "
                f"{self.baseline} (a refactor must not destroy by accident):")
        lines = [head, *(f"  - {line}" for line in self.failures)]
        for owner, moves in self.moves.items():
            lines += [f"If every rename above in {owner.cls} is the same object, this goes into "
                      f"class {owner.cls} ({owner.path}), with "
                      "`from stacks.address_changes import Move`:",
                      "    address_changes = (", *(f"        {m}" for m in moves), "    )"]
        return "\n".join(lines)


@dataclass(frozen=True)
class Owner:
    """Where a stack's declarations live, for the sentences."""

    cls: str
    path: str

    @property
    def attribute(self) -> str:
        return f"{self.cls}.address_changes ({self.path})"


def compare(baseline: dict[str, StackOutput] | None, new: dict[str, StackOutput],
            declared: dict[str, tuple[AddressChange, ...]],
            owners: dict[str, Owner], order: tuple[str, ...]) -> LedgerReport:
    """Check `new` against `baseline`; `order` is the stacks in deploy order."""
    report = LedgerReport()
    names = [n for n in order if n in new] + sorted(set(new) - set(order))
    for name in names:
        _check_declarations(name, new[name], baseline.get(name) if baseline else None,
                            declared.get(name, ()), owners[name], report)
    if baseline is None:
        total = sum(len(s.resources) for s in new.values())
        report.notes.append(f"no committed cdktf.out/ to compare with (a first synth): "
                            f"{total} addresses in {len(new)} stacks recorded as the baseline")
        return report

    gone: dict[str, set[str]] = {}
    appeared: dict[str, set[str]] = {}
    for name in names:
        if name not in baseline:
            report.notes.append(f"{name} is a new stack: its {len(new[name].resources)} "
                                "addresses have nothing to compare with")
            continue
        accounted = {key_address(c) for c in declared.get(name, ()) if not isinstance(c, Import)}
        targets = {c.to for c in declared.get(name, ()) if isinstance(c, Move | Import)}
        old, now = baseline[name].resources, new[name].resources
        gone[name] = set(old) - set(now) - accounted
        appeared[name] = set(now) - set(old) - targets
        for output in sorted(baseline[name].outputs - new[name].outputs):
            report.changes.append(f"{name}: output {output} is no longer synthesized "
                                  "(no stack reads outputs; check scripts that do)")
    for name in sorted(set(baseline) - set(new)):
        report.notes.append(
            f"{name} is no longer synthesized: its {len(baseline[name].resources)} resources "
            "stay in AWS and in its state (run `terraform destroy` in it first if they "
            "should go; see the README runbook)")

    for name in gone:
        pairs = _pair(name, gone[name], appeared[name], baseline[name].resources,
                      new[name].resources)
        for old_address, (new_address, score) in sorted(pairs.items()):
            report.failures.append(_rename_sentence(
                name, old_address, new_address, score, owners[name],
                is_protected(baseline[name].resources[old_address])))
            report.moves.setdefault(owners[name], []).append(move_line(old_address, new_address))
            gone[name].discard(old_address)
            appeared[name].discard(new_address)
    for name in gone:
        for old_address in sorted(gone[name]):
            body = baseline[name].resources[old_address]
            elsewhere = _best_elsewhere(name, old_address, body, appeared, new)
            if elsewhere is not None:
                other, new_address, score = elsewhere
                report.failures.append(_cross_stack_sentence(
                    name, old_address, other, new_address, score, owners[name]))
            elif is_protected(body):
                report.failures.append(_protected_removal_sentence(
                    name, old_address, owners[name]))
            else:
                report.changes.append(f"{name}: {old_address} is no longer synthesized; the "
                                      f"Atlantis plan of {name} will show its destroy")
    report.added = {name: len(appeared[name]) for name in appeared if appeared[name]}
    return report


def _check_declarations(name: str, now: StackOutput, before: StackOutput | None,
                        changes: tuple[AddressChange, ...], owner: Owner,
                        report: LedgerReport) -> None:
    """Declarations must fit the new synth (Terraform refuses those that do not);
    those the baseline no longer needs are listed."""
    old = before.resources if before else {}
    for change in changes:
        if isinstance(change, Move):
            if change.from_ in now.resources:
                report.failures.append(
                    f"{name}: {owner.attribute} moves {change.from_}, which is still "
                    "synthesized; Terraform refuses a move whose source still exists: drop "
                    "the Move or the resource.")
            elif change.to not in now.resources:
                report.failures.append(
                    f"{name}: {owner.attribute} moves {change.from_} to {change.to}, which is "
                    f"not synthesized; {_closest_hint(change.to, now.resources)}")
            elif change.from_ in old:
                report.changes.append(f"{name}: {change.from_} moves to {change.to} "
                                      "(declared; the plan says \"has moved to\")")
            continue
        if isinstance(change, Import):
            if change.to not in now.resources:
                report.failures.append(
                    f"{name}: {owner.attribute} imports {change.id!r} to {change.to}, which is "
                    f"not synthesized; {_closest_hint(change.to, now.resources)}")
            elif change.to not in old:
                report.changes.append(f"{name}: {change.to} is imported from {change.id!r} "
                                      f"(declared: {change.reason})")
            continue
        verb = "replaces" if isinstance(change, Replace) else "removes"
        if change.address in now.resources and isinstance(change, Remove):
            report.failures.append(
                f"{name}: {owner.attribute} removes {change.address}, which is still "
                "synthesized; drop the Remove or the resource.")
        elif change.address in now.resources:
            report.failures.append(
                f"{name}: {owner.attribute} replaces {change.address}, but that address is "
                "still synthesized, so nothing would be replaced; a replacement is a new "
                "address (or use `terraform apply -replace`).")
        elif change.address in old:
            what = ("leaves the state but stays in AWS" if getattr(change, "keep_in_aws", False)
                    else "will be destroyed")
            report.changes.append(f"{name}: {change.address} {what} "
                                  f"(declared: {change.reason})")
        else:
            report.notes.append(f"{name}: {owner.attribute} {verb} {change.address}, which the "
                                "committed output no longer has (applied already): the "
                                "declaration can be deleted")


def _pair(name: str, gone: set[str], appeared: set[str], old: Addresses,
          now: Addresses) -> dict[str, tuple[str, float]]:
    """Vanished address -> (new address of the same type, similarity), most alike first."""
    candidates = sorted(
        ((similarity(old[a], now[b]), a, b) for a in gone for b in appeared
         if resource_type(a) == resource_type(b)),
        key=lambda c: (-c[0], c[1], c[2]))
    pairs: dict[str, tuple[str, float]] = {}
    used: set[str] = set()
    for score, a, b in candidates:
        if a not in pairs and b not in used:
            pairs[a] = (b, score)
            used.add(b)
    return pairs


def _best_elsewhere(name: str, address: str, body: dict, appeared: dict[str, set[str]],
                    new: dict[str, StackOutput]) -> tuple[str, str, float] | None:
    best = None
    for other, addresses in appeared.items():
        if other == name:
            continue
        for candidate in sorted(addresses):
            if resource_type(candidate) != resource_type(address):
                continue
            score = similarity(body, new[other].resources[candidate])
            if score >= CROSS_STACK_SIMILARITY and (best is None or score > best[2]):
                best = (other, candidate, score)
    return best


def _closest_hint(address: str, resources: Addresses) -> str:
    same_type = sorted(a for a in resources if resource_type(a) == resource_type(address))
    if not same_type:
        return f"the stack synthesizes no {resource_type(address)}."
    shown = ", ".join(same_type[:5]) + (", ..." if len(same_type) > 5 else "")
    return f"its {resource_type(address)} addresses are: {shown}."


def move_line(old: str, new: str) -> str:
    return f'Move(from_="{old}", to="{new}"),'


def _rename_sentence(name: str, old: str, new: str, score: float, owner: Owner,
                     protected: bool) -> str:
    guard = (" (its prevent_destroy goes with its block, so nothing would stop it)"
             if protected else "")
    return (f"{name}: {old} is gone from the synth and {new} is new (the same type, "
            f"{score:.0%} of the attributes alike), so Terraform would destroy the first"
            f"{guard} and create the second. If it is the same object, add "
            f"`{move_line(old, new)}` to {owner.attribute}; if it must really be "
            f'recreated, add `Replace(address="{old}", reason="...")` instead.')


def _cross_stack_sentence(name: str, old: str, other: str, new: str, score: float,
                          owner: Owner) -> str:
    return (f"{name}: {old} is gone from the synth and the {other} stack has a new {new} "
            f"({score:.0%} of the attributes alike): a resource moving between stacks "
            "changes state files, which a `moved` block cannot do. Follow the README "
            "runbook \"Moving a resource between stacks\": add "
            f'`Remove(address="{old}", reason="moves to the {other} stack", '
            f"keep_in_aws=True),` to {owner.attribute} and `Import(to=\"{new}\", id=\"<the "
            f"object's import id>\", reason=\"...\"),` to the {other} stack's address_changes "
            "(or `terraform state mv` between the two backends); if they are different "
            f'objects, add `Remove(address="{old}", reason="...")` instead.')


def _protected_removal_sentence(name: str, old: str, owner: Owner) -> str:
    return (f"{name}: {old} is gone from the synth and has prevent_destroy, which Terraform "
            "drops together with its block, so the plan would destroy it without a word. "
            f'If that is intended, add `Remove(address="{old}", reason="..."),` to '
            f"{owner.attribute}; to keep the object in AWS and only take it out of the "
            "state, add keep_in_aws=True to it.")


def registry_declarations() -> tuple[dict[str, tuple[AddressChange, ...]], dict[str, Owner],
                                     tuple[str, ...]]:
    """Every registered stack's declarations, where they live, and the deploy order
    (imports the stack classes; cheap once the app is built)."""
    from stacks.registry import STACKS

    declared, owners = {}, {}
    for spec in STACKS:
        cls = spec.stack_class
        declared[spec.name] = cls.address_changes
        owners[spec.name] = Owner(cls=cls.__name__, path=cls.__module__.replace(".", "/") + ".py")
    return declared, owners, tuple(spec.name for spec in STACKS)


def check(baseline_dir: Path, new_dir: Path, label: str = "cdktf.out/") -> LedgerReport:
    """The ledger of the synth in `new_dir` against the one in `baseline_dir`
    (named `label` in the sentences)."""
    declared, owners, order = registry_declarations()
    new = load_output(new_dir) or {}
    for name in new:
        owners.setdefault(name, Owner(cls=f"the {name} stack", path="stacks/"))
    report = compare(load_output(baseline_dir), new, declared, owners, order)
    report.baseline = label
    return report
