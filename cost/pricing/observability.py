"""Observability pricers: CloudWatch log groups, alarms and metric filters, AMP, AMG,
SNS and CloudTrail."""

from __future__ import annotations

from decimal import Decimal

from cost.pricing.quote import Quote, as_decimal, number
from policies.model import ResourceView, references

MONTHS_PER_DAY = Decimal(12) / Decimal(365)

# Who writes to a log group, found from the writer's reference to it:
# writer type -> (attribute holding the group's ARN, what the group holds, vended?).
WRITERS = {
    "aws_flow_log": ("log_destination", "VPC flow logs", True),
    "aws_cloudtrail": ("cloud_watch_logs_group_arn", "CloudTrail events", False),
    "aws_route53_query_log": ("cloudwatch_log_group_arn", "Route 53 query logs", False),
}


def log_group_role(group: ResourceView) -> tuple[str, bool]:
    """(what the group holds, whether AWS delivers it as vended logs)."""
    for writer_type, (attribute, role, vended) in WRITERS.items():
        for writer in group.stack.of_type(writer_type):
            if ("aws_cloudwatch_log_group", group.name) in references(writer.get(attribute)):
                return role, vended
    return "other", False


def log_group(q: Quote) -> None:
    a = q.assume
    role, vended = log_group_role(q.resource)
    gb = {"VPC flow logs": a.flow_log_gb, "CloudTrail events": a.trail_log_gb,
          "Route 53 query logs": a.dns_query_log_gb}.get(role, a.other_log_gb)
    days = number(q.resource.get("retention_in_days", 0)) or Decimal(0)
    q.drive("name", q.resource.get("name", q.resource.name))
    q.drive("holds", role)
    q.drive("retention_in_days", f"{days.normalize():f}" if days else "never expire")
    q.add(f"log ingestion ({gb:g} GB of {role if role != 'other' else 'log events'})", gb,
          "logs.vended_ingest_gb" if vended else "logs.ingest_gb")
    months = days * MONTHS_PER_DAY if days else Decimal(a.unretained_log_months)
    stored = as_decimal(gb) * months * as_decimal(a.log_storage_ratio)
    q.add(f"log storage at steady state ({stored:.2f} GB: {months:.2f} months kept)", stored,
          "logs.storage_gb_month")


def metric_alarm(q: Quote) -> None:
    """Standard-resolution alarms are billed per metric they evaluate."""
    queries = [m for m in q.resource.values("metric_query") if isinstance(m, dict)]
    metrics = sum(1 for m in queries if m.get("metric")) if queries else 1
    periods = [number(q.resource.get("period"))] + [
        number(m.get("metric", {}).get("period")) for m in queries if m.get("metric")]
    high_resolution = any(p is not None and p < 60 for p in periods)
    q.drive("metrics", metrics)
    if high_resolution:
        q.cannot_price("high-resolution alarm (period under 60 s): the sheet prices standard "
                       "resolution")
        return
    q.add(f"standard-resolution alarm ({metrics} metric(s))", metrics, "cloudwatch.alarm_month")


def log_metric_filter(q: Quote) -> None:
    transformations = q.resource.values("metric_transformation")
    q.add(f"custom metric ({len(transformations)})", len(transformations),
          "cloudwatch.custom_metric_month")
    if not any(isinstance(t, dict) and t.get("default_value") is not None
               for t in transformations):
        q.note("billed in the hours the filter matches; without a default_value a quiet "
               "filter publishes nothing, so this is an upper bound")


def prometheus_workspace(q: Quote) -> None:
    a = q.assume
    q.add(f"samples ingested ({a.prometheus_samples:,})",
          Decimal(a.prometheus_samples) / 10_000_000, "prometheus.samples_10m")
    q.add(f"metrics stored ({a.prometheus_storage_gb:g} GB)", a.prometheus_storage_gb,
          "prometheus.storage_gb_month")
    q.add(f"query samples processed ({a.prometheus_query_samples:,})",
          Decimal(a.prometheus_query_samples) / 1_000_000_000, "prometheus.query_samples_billion")


def grafana_workspace(q: Quote) -> None:
    """AWS bills at least one editor licence per workspace, active or not."""
    editors = max(1, q.assume.grafana_editors)
    q.drive("authentication", ",".join(q.resource.get("authentication_providers") or []))
    q.add(f"editor licences ({editors} active)", editors, "grafana.editor_month")
    q.add(f"viewer licences ({q.assume.grafana_viewers} active)", q.assume.grafana_viewers,
          "grafana.viewer_month")


def sns_topic(q: Quote) -> None:
    count = q.assume.sns_publishes
    q.add(f"publishes ({count:,})", Decimal(count) / 1_000_000, "sns.publishes_million")


def sns_subscription(q: Quote) -> None:
    protocol = q.resource.get("protocol", "")
    q.drive("protocol", protocol)
    if protocol in ("sqs", "lambda", "firehose"):
        q.note(f"deliveries to {protocol} carry no SNS charge")
    elif protocol in ("email", "email-json"):
        count = q.assume.sns_email_deliveries
        q.add(f"e-mail notifications ({count:,})", Decimal(count) / 100_000, "sns.email_100k")
    else:
        q.cannot_price(f"{protocol} deliveries: the sheet prices e-mail notifications")


def cloudtrail(q: Quote) -> None:
    r = q.resource
    data = [d for s in r.values("event_selector") if isinstance(s, dict)
            for d in s.get("data_resource", []) or []]
    advanced = r.values("advanced_event_selector")
    trails = sorted((s.name, t.address) for s in q.output.stacks
                    for t in s.of_type("aws_cloudtrail"))
    q.drive("multi_region", r.get("is_multi_region_trail") is True)
    q.drive("data_event_selectors", len(data) + len(advanced))
    if trails and trails[0] != (r.stack.name, r.address):
        q.cannot_price("a second copy of management events ($2.00 per 100,000): the sheet "
                       "prices the first trail, whose copy is free")
    else:
        q.note("the first copy of management events is delivered free")
    if data or advanced:
        events = q.assume.cloudtrail_data_events
        q.add(f"data events ({events:,})", Decimal(events) / 100_000,
              "cloudtrail.data_events_100k")
    if r.values("insight_selector"):
        q.cannot_price("CloudTrail Insights: the sheet has no Insights price")
