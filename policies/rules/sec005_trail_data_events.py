"""SEC005: every CloudTrail trail logs management events and the S3 data events
(reads and writes) of the Terraform state bucket, and never the write data
events of the bucket it delivers to."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from policies.model import (
    ResourceView,
    Result,
    Rule,
    StackView,
    from_problems,
    is_token,
    values_at,
)

S3_OBJECT = "AWS::S3::Object"
READ, WRITE = "read", "write"
BOTH = frozenset({READ, WRITE})
READ_WRITE_TYPES = {"All": BOTH, "ReadOnly": frozenset({READ}), "WriteOnly": frozenset({WRITE})}
# `arn:<partition>:s3` or `arn:<partition>:s3:::`: every bucket (classic selectors).
ALL_BUCKETS = re.compile(r"^arn:(aws[a-z-]*|\$\{[^}]+\}):s3(:::)?$")
# `arn:<partition>:s3:::<bucket>/<prefix>`; partition and bucket may be expressions.
BUCKET_ARN = re.compile(r"^arn:(aws[a-z-]*|\$\{[^}]+\}):s3:::(?P<bucket>[^/]+)(?P<rest>/.*)?$")
# `${aws_s3_bucket.<name>.arn}/<prefix>`: a bucket of the same stack.
BUCKET_REFERENCE = re.compile(r"^\$\{aws_s3_bucket\.(?P<name>[A-Za-z0-9_-]+)\.arn\}(?P<rest>/.*)?$")
# Advanced selector fields that only pick S3 object data events by bucket and
# direction; any other field (eventName, ...) narrows them to some events only.
ADVANCED_FIELDS = frozenset({"eventCategory", "resources.type", "resources.ARN", "readOnly"})


@dataclass(frozen=True)
class Selection:
    """What one selector logs: management events and/or S3 object data events of
    `buckets` (None: every bucket), in the directions of `kinds`."""

    kinds: frozenset[str]
    management: bool
    buckets: tuple[str, ...] | None = ()
    """Whole buckets named (literal names or `aws_s3_bucket.<name>` addresses)."""
    partial: tuple[str, ...] = ()
    """Buckets of which only some keys (a prefix) are logged."""


def _bucket_of(value: object) -> tuple[str | None, bool]:
    """(the bucket a data-resource value names, whether it covers every key); the
    bucket is a literal name, an `aws_s3_bucket.<name>` address, or None."""
    if not isinstance(value, str):
        return None, False
    reference = BUCKET_REFERENCE.match(value)
    if reference:
        return f"aws_s3_bucket.{reference['name']}", reference["rest"] in (None, "/")
    arn = BUCKET_ARN.match(value)
    if arn and not is_token(arn["bucket"]):
        return arn["bucket"], arn["rest"] in (None, "/")
    return None, False


def _data_resources(values: Iterable[object]) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """(whole buckets, or None for every bucket; partly covered buckets) from the
    values of a classic data resource or an advanced `starts_with` on resources.ARN."""
    whole, partial = [], []
    for value in values:
        if isinstance(value, str) and ALL_BUCKETS.match(value):
            return None, ()
        bucket, every_key = _bucket_of(value)
        if bucket is not None:
            (whole if every_key else partial).append(bucket)
    return tuple(whole), tuple(partial)


def _classic(selector: dict) -> Selection:
    kinds = READ_WRITE_TYPES.get(selector.get("read_write_type") or "All", frozenset())
    whole: list[str] = []
    partial: list[str] = []
    everything = False
    for resource in values_at(selector, "data_resource"):
        if not isinstance(resource, dict) or resource.get("type") != S3_OBJECT:
            continue
        buckets, some = _data_resources(values_at(resource, "values"))
        if buckets is None:
            everything = True
        else:
            whole.extend(buckets)
        partial.extend(some)
    return Selection(kinds=kinds, management=selector.get("include_management_events") is not False,
                     buckets=None if everything else tuple(whole), partial=tuple(partial))


def _advanced(selector: dict) -> Selection | None:
    """The selection of an advanced selector, or None when its fields narrow it to
    some events only (then it cannot stand for all of a bucket's events)."""
    fields = {}
    for field in values_at(selector, "field_selector"):
        if not isinstance(field, dict):
            continue
        name = field.get("field")
        operators = {op for op, v in field.items() if op != "field" and v}
        if name not in ADVANCED_FIELDS or not operators <= {"equals", "starts_with"}:
            return None
        if name != "resources.ARN" and operators != {"equals"}:
            return None
        fields[name] = field
    equals = {name: list(field.get("equals") or []) for name, field in fields.items()}
    read_only = equals.get("readOnly")
    kinds = BOTH if read_only is None else frozenset(
        {READ if str(v).lower() == "true" else WRITE for v in read_only})
    category = equals.get("eventCategory", [])
    if category == ["Management"]:
        return Selection(kinds=kinds, management=True)
    if category != ["Data"] or equals.get("resources.type") != [S3_OBJECT]:
        return Selection(kinds=kinds, management=False)
    if "resources.ARN" not in fields:
        return Selection(kinds=kinds, management=False, buckets=None)
    arn = fields["resources.ARN"]
    # `equals` names single objects; only a `starts_with` of `<bucket>/` covers a bucket.
    single = [bucket for bucket, _ in map(_bucket_of, arn.get("equals") or []) if bucket]
    prefixed, some = _data_resources(arn.get("starts_with") or [])
    return Selection(kinds=kinds, management=False, buckets=prefixed,
                     partial=(*single, *some))


def selections(trail: ResourceView) -> list[Selection] | None:
    """What the trail's selectors log; None when it has none (management events only)."""
    classic = [s for s in trail.values("event_selector") if isinstance(s, dict)]
    advanced = [s for s in trail.values("advanced_event_selector") if isinstance(s, dict)]
    if not classic and not advanced:
        return None
    found = [_classic(s) for s in classic]
    found += [s for s in map(_advanced, advanced) if s is not None]
    return found


def state_bucket(stack: StackView) -> str | None:
    """The bucket the stack's S3 backend keeps its state in (every stack's JSON names it)."""
    bucket = values_at(stack.doc, "terraform.backend.s3.bucket")
    return bucket[0] if bucket and isinstance(bucket[0], str) and not is_token(bucket[0]) else None


def _names_of(trail: ResourceView) -> set[str]:
    """The ways a selector may name the trail's own bucket: its address and its name."""
    names = set()
    target = trail.get("s3_bucket_name")
    for bucket in trail.stack.resolve(target):
        if bucket.type == "aws_s3_bucket":
            names.add(bucket.address)
            if isinstance(bucket.get("bucket"), str) and not is_token(bucket.get("bucket")):
                names.add(bucket.get("bucket"))
    if isinstance(target, str) and not is_token(target):
        names.add(target)
    return names


def _names_of_state(bucket: str, stack: StackView) -> set[str]:
    """The state bucket by name, or by address when the stack itself creates it."""
    return {bucket} | {r.address for r in stack.of_type("aws_s3_bucket") if r.get("bucket") == bucket}


def _covered(found: list[Selection], names: set[str]) -> frozenset[str]:
    kinds: set[str] = set()
    for selection in found:
        if selection.buckets is None or names.intersection(selection.buckets):
            kinds |= selection.kinds
    return frozenset(kinds)


def problems(trail: ResourceView) -> Iterator[str]:
    found = selections(trail)
    if found is None:
        found = [Selection(kinds=BOTH, management=True)]
    management = frozenset().union(*(s.kinds for s in found if s.management))
    if management != BOTH:
        shown = " and ".join(sorted(management)) or "no"
        yield f"logs {shown} management events; a selector must include them for reads and writes"

    own = _names_of(trail)
    # A key prefix of its own bucket loops as well when the deliveries land under it.
    if own and (WRITE in _covered(found, own)
                or any(own.intersection(s.partial) and WRITE in s.kinds for s in found)):
        yield ("logs write data events of its own bucket: each delivered log file is a "
               "PutObject that is logged and delivered again (a loop); log reads only "
               "(ReadOnly) there")

    bucket = state_bucket(trail.stack)
    if bucket is None:
        return
    logged = _covered(found, _names_of_state(bucket, trail.stack))
    if logged == BOTH:
        return
    partly = any(_names_of_state(bucket, trail.stack).intersection(s.partial) for s in found)
    if not logged:
        yield (f"logs no S3 data events of the state bucket {bucket} (the S3 backend's "
               "bucket)" + (", only of some key prefixes" if partly else ""))
    else:
        (missing,) = BOTH - logged
        (only,) = logged
        yield f"logs only {only} data events of the state bucket {bucket}, not {missing}s"


class TrailDataEvents(Rule):
    id = "SEC005"
    family = "security"
    title = ("trails log management events and the state bucket's S3 data events, and no "
             "write data events of their own bucket")
    rationale = ("A state file holds every resource's attributes, secrets included: without "
                 "data events nobody can tell who read or overwrote one. Event selectors that "
                 "drop management events blind the trail and every CIS metric filter on it. "
                 "Write data events on the trail's own bucket log the trail's deliveries, "
                 "which are delivered and logged again without end.")
    fix = ("give the trail an event_selector with read_write_type All, "
           "include_management_events true and data_resource {type AWS::S3::Object, values "
           "[arn:<partition>:s3:::<state bucket>/]}, and log its own bucket with a ReadOnly "
           "selector only (stacks/cloudtrail.py does this)")
    resource_types = frozenset({"aws_cloudtrail"})

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        for trail in stack.of_type("aws_cloudtrail"):
            yield trail.address, from_problems(list(problems(trail)))


RULE = TrailDataEvents()
