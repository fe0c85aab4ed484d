"""SEC003: every S3 bucket's policy denies every request without TLS, to the bucket
and its objects (as cdk-nag's S3BucketSSLRequestsOnly requires)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from policies.model import (
    COMPLIANT,
    NON_COMPLIANT,
    ResourceView,
    Result,
    Rule,
    StackView,
    is_token,
)
from policies.policy_documents import Statement, policy_statements

SECURE_TRANSPORT = "aws:SecureTransport"
DENIED_ACTIONS = frozenset({"s3:*", "*"})
# `${aws_s3_bucket.<name>.arn}` with an optional `/*`.
ARN_REFERENCE = re.compile(r"^\$\{aws_s3_bucket\.(?P<name>[A-Za-z0-9_-]+)\.arn\}(?P<objects>/\*)?$")
# `arn:<partition>:s3:::<bucket>` with an optional `/*`; partition and bucket may be expressions.
ARN_TEXT = re.compile(r"^arn:(aws[a-z-]*|\$\{[^}]+\}):s3:::(?P<bucket>[^/]+)(?P<objects>/\*)?$")
BUCKET = "the bucket ARN"
OBJECTS = "its objects (<bucket ARN>/*)"


def _is_false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def _on_plain_http(st: Statement) -> bool:
    """A Bool condition aws:SecureTransport = false (condition keys are case-insensitive)."""
    return any(op == "Bool" and str(key).lower() == SECURE_TRANSPORT.lower()
               and any(_is_false(v) for v in values) for op, key, values in st.conditions)


def _weaknesses(st: Statement) -> list[str]:
    """How a Deny on plain HTTP falls short of denying every such request."""
    weak = []
    if not DENIED_ACTIONS.intersection(st.actions):
        weak.append(f"denies {', '.join(map(str, st.actions)) or 'no action'} instead of s3:*")
    if not any(ident == "*" and kind in ("*", "AWS") for kind, ident in st.principals):
        shown = ", ".join(f"{kind}:{ident}" for kind, ident in st.principals) or "no principal"
        weak.append(f"applies to {shown} instead of every principal (*)")
    extra = [f"{op} {key}" for op, key, _ in st.conditions
             if not (op == "Bool" and str(key).lower() == SECURE_TRANSPORT.lower())]
    if extra:
        weak.append(f"also requires {', '.join(extra)}, so it denies only some plain-HTTP "
                    "requests")
    return weak


def _covers(resources: Iterable[object], bucket: ResourceView) -> set[str]:
    """Which of BUCKET and OBJECTS the resource list names."""
    name = bucket.get("bucket")
    own_names = {f"${{aws_s3_bucket.{bucket.name}.{attr}}}" for attr in ("id", "bucket")}
    if isinstance(name, str) and not is_token(name):
        own_names.add(name)
    covered = set()
    for resource in resources:
        if not isinstance(resource, str):
            continue
        ref, text = ARN_REFERENCE.match(resource), ARN_TEXT.match(resource)
        if (ref and ref["name"] == bucket.name) or (text and text["bucket"] in own_names):
            covered.add(OBJECTS if (ref or text)["objects"] else BUCKET)
    return covered


def problems(statements: list[Statement], bucket: ResourceView) -> list[str]:
    """Empty when Deny statements on plain HTTP, for every principal and s3:*,
    together name the bucket ARN and its objects."""
    denies = [st for st in statements if st.effect == "Deny" and _on_plain_http(st)]
    if not denies:
        return [f"no Deny statement on {SECURE_TRANSPORT} = false"]
    found, covered = [], set()
    for st in denies:
        weak = _weaknesses(st)
        if weak:
            found.append(f"{st.label} {' and '.join(weak)}")
        else:
            covered |= _covers(st.resources, bucket)
    missing = [what for what in (BUCKET, OBJECTS) if what not in covered]
    if not missing:
        return []
    return [*found, f"the Deny on {SECURE_TRANSPORT} = false does not cover "
                    f"{' or '.join(missing)}"]


def _targets(policy: ResourceView, bucket: ResourceView) -> bool:
    target = policy.get("bucket")
    if any(r.address == bucket.address for r in bucket.stack.resolve(target)):
        return True
    name = bucket.get("bucket")
    return isinstance(name, str) and not is_token(name) and target == name


class TlsOnlyBuckets(Rule):
    id = "SEC003"
    family = "security"
    title = "bucket policies deny every non-TLS request to the bucket and its objects"
    rationale = ("Without a deny on aws:SecureTransport=false, S3 accepts plain-HTTP requests, "
                 "so credentials' signatures and object data can travel unencrypted. A deny "
                 "limited to some actions, some principals or only the objects (or only the "
                 "bucket) leaves the rest reachable over HTTP.")
    fix = ("attach an aws_s3_bucket_policy built from constructs_lib.policy_document with a "
           "Deny of s3:* for principal * on the bucket ARN and <bucket ARN>/*, condition Bool "
           "aws:SecureTransport = false (the s3 bucket construct does this by default)")
    resource_types = frozenset({"aws_s3_bucket"})

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        policies = stack.of_type("aws_s3_bucket_policy")
        for bucket in stack.of_type("aws_s3_bucket"):
            attached = [p for p in policies if _targets(p, bucket)]
            if not attached:
                yield bucket.address, NON_COMPLIANT("no aws_s3_bucket_policy points at the bucket")
                continue
            statements = [st for p in attached for st in policy_statements(p.get("policy"), stack) or []]
            found = problems(statements, bucket)
            names = ", ".join(p.address for p in attached)
            yield bucket.address, NON_COMPLIANT(f"{names}: {'; '.join(found)}") if found else COMPLIANT


RULE = TlsOnlyBuckets()
