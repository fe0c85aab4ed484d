"""Route 53 pricers: hosted zones with their queries, and health checks."""

from __future__ import annotations

from decimal import Decimal

from cost.pricing.quote import Quote, number

# Health check types whose request counts as the HTTPS option, and string matching.
HTTPS_TYPES = ("HTTPS", "HTTPS_STR_MATCH")
MATCH_TYPES = ("HTTP_STR_MATCH", "HTTPS_STR_MATCH")


def hosted_zone(q: Quote) -> None:
    queries = q.assume.dns_queries
    q.drive("private", bool(q.resource.values("vpc")))
    q.add("hosted zone", 1, "route53.hosted_zone_month")
    q.add(f"standard queries ({queries:,})", Decimal(queries) / 1_000_000,
          "route53.queries_million")


def health_check(q: Quote) -> None:
    """A basic check plus each optional feature: HTTPS, string matching, the 10-second
    interval and latency measurement."""
    kind = str(q.resource.get("type", ""))
    q.drive("type", kind)
    if kind in ("CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL"):
        q.cannot_price(f"{kind} health checks: the sheet prices endpoint checks")
        return
    endpoint = "aws" if q.assume.health_checks_target_aws else "non_aws"
    options = [name for name, on in (
        ("HTTPS", kind in HTTPS_TYPES),
        ("string matching", kind in MATCH_TYPES),
        ("fast interval", (number(q.resource.get("request_interval", 30)) or 30) < 30),
        ("latency measurement", q.resource.get("measure_latency") is True),
    ) if on]
    q.drive("options", ", ".join(options) or "none")
    label = "AWS endpoint" if endpoint == "aws" else "non-AWS endpoint"
    q.add(f"health check ({label})", 1, f"route53.health_check_{endpoint}_month")
    if options:
        q.add(f"optional features ({', '.join(options)})", len(options),
              f"route53.health_check_option_{endpoint}_month")
