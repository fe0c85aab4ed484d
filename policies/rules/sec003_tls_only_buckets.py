"""SEC003: every S3 bucket has a bucket policy that denies requests without TLS."""

from __future__ import annotations

from collections.abc import Iterable

from policies.model import (
    COMPLIANT,
    NON_COMPLIANT,
    ResourceView,
    Result,
    Rule,
    StackView,
    is_token,
    values_at,
)
from policies.rules.sec002_wildcard_iam import json_statements

SECURE_TRANSPORT = "aws:SecureTransport"


def _is_false(value: object) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def _document_denies_plain_http(doc: ResourceView, stack: StackView, seen: set[str]) -> bool:
    """A data aws_iam_policy_document (or one it merges in) with the deny statement."""
    if doc.address in seen:
        return False
    seen.add(doc.address)
    for st in values_at(doc.body, "statement"):
        if not isinstance(st, dict) or st.get("effect") != "Deny":
            continue
        for cond in values_at(st, "condition"):
            if (isinstance(cond, dict) and cond.get("test") == "Bool"
                    and cond.get("variable") == SECURE_TRANSPORT
                    and any(_is_false(v) for v in values_at(cond, "values"))):
                return True
    merged = [*values_at(doc.body, "source_policy_documents"),
              *values_at(doc.body, "override_policy_documents")]
    return any(_denies_plain_http(text, stack, seen) for text in merged)


def _json_denies_plain_http(text: str) -> bool:
    for st in json_statements(text) or []:
        if st.get("Effect") != "Deny":
            continue
        condition = st.get("Condition") or {}
        value = (condition.get("Bool") or {}).get(SECURE_TRANSPORT)
        values = value if isinstance(value, list) else [value]
        if any(_is_false(v) for v in values):
            return True
    return False


def _denies_plain_http(policy: object, stack: StackView, seen: set[str]) -> bool:
    if json_statements(policy) is not None:
        return _json_denies_plain_http(policy)  # type: ignore[arg-type]
    if is_token(policy):
        return any(_document_denies_plain_http(doc, stack, seen)
                   for doc in stack.resolve(policy) if doc.type == "aws_iam_policy_document")
    return False


def _targets(policy: ResourceView, bucket: ResourceView) -> bool:
    target = policy.get("bucket")
    if any(r.address == bucket.address for r in bucket.stack.resolve(target)):
        return True
    name = bucket.get("bucket")
    return isinstance(name, str) and not is_token(name) and target == name


class TlsOnlyBuckets(Rule):
    id = "SEC003"
    family = "security"
    title = "bucket policies deny non-TLS requests"
    rationale = ("Without a deny on aws:SecureTransport=false, S3 accepts plain-HTTP requests, "
                 "so credentials' signatures and object data can travel unencrypted.")
    fix = ("attach an aws_s3_bucket_policy built from constructs_lib.policy_document with a "
           "Deny statement on condition Bool aws:SecureTransport = false (the s3 bucket "
           "construct does this by default)")
    resource_types = frozenset({"aws_s3_bucket"})

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        policies = stack.of_type("aws_s3_bucket_policy")
        for bucket in stack.of_type("aws_s3_bucket"):
            attached = [p for p in policies if _targets(p, bucket)]
            if not attached:
                yield bucket.address, NON_COMPLIANT("no aws_s3_bucket_policy points at the bucket")
            elif not any(_denies_plain_http(p.get("policy"), stack, set()) for p in attached):
                names = ", ".join(p.address for p in attached)
                yield bucket.address, NON_COMPLIANT(
                    f"{names} has no Deny statement on {SECURE_TRANSPORT} = false")
            else:
                yield bucket.address, COMPLIANT


RULE = TlsOnlyBuckets()
