"""Declared address changes of a stack: moves, replacements and removals.

cdktf derives each Terraform address from the construct path, so a renamed
construct id or a resource wrapped in a new construct gets a new address and
Terraform would destroy the old object. The address ledger (`synth/address_ledger.py`)
refuses such a synth unless the stack declares what happened, in its
`address_changes` class attribute:

    class RdsStack(GovernedStack):
        address_changes = (
            Move(from_="aws_db_instance.mysql_instance_1A2B", to="aws_db_instance.db_instance_3C4D"),
        )

A `Move` renders a Terraform `moved` block, a `Remove(keep_in_aws=True)` a
`removed` block with `destroy = false` and an `Import` an `import` block;
`Replace` and a destroying `Remove` are records that the synth summary shows
with their reason. cdktf 0.21 has
`TerraformResource.move_from_id`, which renders the same `moved` block, but it
must be called on the resource object, which our stacks do not hold for the
resources a library construct creates; addresses are what the ledger reports,
so they are what a declaration names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from constructs_lib.formats import MIN_REASON

ADDRESS = re.compile(r"^(?P<type>[a-z][a-z0-9_]*)\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)$")
"""`<resource type>.<name>`: a managed resource of the stack's root module."""


@dataclass(frozen=True, kw_only=True)
class Move:
    """The object at `from_` is now the resource at `to`, in the same stack
    (a Terraform `moved` block: the plan says "has moved to", nothing is replaced).
    Kept after the apply, as Terraform recommends: state that has not seen the
    move yet (another environment, an old branch) still needs it."""

    from_: str
    to: str


@dataclass(frozen=True, kw_only=True)
class Replace:
    """`address` is intentionally destroyed and a new resource created in its place
    (for example an attribute that forces recreation anyway); `reason` says why."""

    address: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Remove:
    """`address` leaves the configuration on purpose; `reason` says why.

    Required for a resource with `prevent_destroy` (Terraform drops that
    protection with the resource's block and would destroy it silently).
    `keep_in_aws=True` renders a `removed` block with `destroy = false`: the
    object stays in AWS and only leaves the state (e.g. before it is imported
    into another stack)."""

    address: str
    reason: str
    keep_in_aws: bool = False


@dataclass(frozen=True, kw_only=True)
class Import:
    """The resource at `to` takes over an object that exists already, e.g. one a
    `Remove(keep_in_aws=True)` took out of another stack's state (a Terraform
    `import` block; `id` is the resource type's import id, such as a bucket name)."""

    to: str
    id: str
    reason: str


AddressChange = Move | Replace | Remove | Import


def declared_addresses(change: AddressChange) -> tuple[str, ...]:
    """Every address a declaration names."""
    if isinstance(change, Move):
        return change.from_, change.to
    return (change.to,) if isinstance(change, Import) else (change.address,)


def key_address(change: AddressChange) -> str:
    """The one address a declaration is about (at most one declaration each)."""
    if isinstance(change, Move):
        return change.from_
    return change.to if isinstance(change, Import) else change.address


def declaration_problems(where: str, changes: tuple[AddressChange, ...]) -> list[str]:
    """Every mistake in a stack's declarations, as sentences naming `where`."""
    found: list[str] = []
    seen: dict[str, AddressChange] = {}
    for change in changes:
        if not isinstance(change, Move | Replace | Remove | Import):
            found.append(f"{where}: address_changes holds {change!r}; allowed are Move, "
                         "Replace, Remove and Import from stacks.address_changes.")
            continue
        for address in declared_addresses(change):
            if not isinstance(address, str) or not ADDRESS.match(address):
                found.append(f"{where}: {type(change).__name__} names the address "
                             f"{address!r}; allowed is '<resource type>.<name>', e.g. "
                             "'aws_s3_bucket.state_bucket_1A2B3C4D'.")
        reason = getattr(change, "reason", None)
        if reason is not None and (not isinstance(reason, str)
                                   or len(reason.strip()) < MIN_REASON):
            found.append(f"{where}: {type(change).__name__} of {key_address(change)} has the "
                         f"reason {reason!r}; a reason needs at least {MIN_REASON} characters "
                         "saying why.")
        if isinstance(change, Move) and all(map(ADDRESS.match, (change.from_, change.to))):
            if change.from_ == change.to:
                found.append(f"{where}: Move from {change.from_} to itself; drop it.")
            elif change.from_.split(".")[0] != change.to.split(".")[0]:
                found.append(f"{where}: Move from {change.from_} to {change.to} changes the "
                             "resource type; Terraform moves only within one type: declare "
                             "Replace (or Remove with keep_in_aws=True and import the object "
                             "as the new type).")
        if isinstance(change, Import) and (not isinstance(change.id, str) or not change.id):
            found.append(f"{where}: Import to {change.to} has the id {change.id!r}; allowed is "
                         "the resource type's import id (see its provider documentation).")
        key = key_address(change)
        if key in seen:
            found.append(f"{where}: {key} is declared twice ({seen[key]!r} and {change!r}); "
                         "one declaration per old address.")
        seen.setdefault(key, change)
    return found


def terraform_blocks(changes: tuple[AddressChange, ...]) -> dict[str, list[dict]]:
    """The top-level `moved`, `removed` and `import` blocks the declarations need."""
    blocks: dict[str, list[dict]] = {}
    for change in changes:
        if isinstance(change, Move):
            blocks.setdefault("moved", []).append({"from": change.from_, "to": change.to})
        elif isinstance(change, Remove) and change.keep_in_aws:
            blocks.setdefault("removed", []).append(
                {"from": change.address, "lifecycle": {"destroy": False}})
        elif isinstance(change, Import):
            blocks.setdefault("import", []).append({"id": change.id, "to": change.to})
    return blocks
