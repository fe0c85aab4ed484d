"""Security pricers: KMS keys (a multi-Region replica is a key of its own Region),
Secrets Manager secrets, ACM certificates and SSM parameters."""

from __future__ import annotations

from decimal import Decimal

from cost.pricing.quote import Quote


def kms_key(q: Quote) -> None:
    requests = q.assume.kms_requests_per_key
    if q.resource.type == "aws_kms_replica_key":
        q.drive("replica_of", "a multi-Region primary key")
    q.drive("multi_region", q.resource.get("multi_region") is True
            or q.resource.type == "aws_kms_replica_key")
    q.add("customer managed key", 1, "kms.key_month")
    q.add(f"requests ({requests:,})", Decimal(requests) / 10_000, "kms.requests_10k")
    if q.resource.get("enable_key_rotation") is True:
        q.note("automatic rotation: each of the first two rotations adds a key version at "
               "$1.00 a month (a yearly-rotated key costs $2.00 in its second year, $3.00 "
               "from its third); the estimate prices the first year")


def secret(q: Quote) -> None:
    replicas = len(q.resource.values("replica"))
    calls = q.assume.secrets_api_calls
    q.drive("replicas", replicas)
    q.add(f"secret ({1 + replicas} incl. replicas)", 1 + replicas,
          "secretsmanager.secret_month")
    q.add(f"API calls ({calls:,})", Decimal(calls) / 10_000, "secretsmanager.api_calls_10k")


def acm_certificate(q: Quote) -> None:
    if q.resource.get("certificate_authority_arn"):
        q.drive("type", "private")
        q.cannot_price("a private certificate (AWS Private CA): the sheet has no Private CA "
                       "prices")
    else:
        q.drive("type", "public")
        q.note("public certificates issued by ACM carry no charge")


def ssm_parameter(q: Quote) -> None:
    tier = q.resource.get("tier", "Standard")
    q.drive("tier", tier)
    if tier == "Standard":
        return
    q.cannot_price(f"{tier} tier parameter: the sheet prices Standard parameters (free)")
