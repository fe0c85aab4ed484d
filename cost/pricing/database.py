"""Database pricers: RDS DB instances (instance hours, storage, Extended Support, the
master-password secret, log exports) and on-demand DynamoDB tables."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cost.pricing.quote import Quote, number


def db_instance(q: Quote) -> None:
    r = q.resource
    engine = str(r.get("engine", ""))
    klass = str(r.get("instance_class", ""))
    multi = r.get("multi_az") is True
    deployment = "multi_az" if multi else "single_az"
    copies = 2 if multi else 1
    q.drive("engine", f"{engine} {r.get('engine_version', '')}".strip())
    q.drive("instance_class", klass)
    q.drive("multi_az", multi)
    if engine != "mysql":
        q.cannot_price(f"engine {engine!r}: the sheet prices RDS for MySQL")
    else:
        q.add(f"instance hours ({klass}, {'Multi-AZ' if multi else 'Single-AZ'}, {q.hours} h)",
              q.hours, f"rds.mysql.{klass}.{deployment}")
        _extended_support(q, klass, copies)
    _storage(q, deployment)
    _performance_insights(q)
    if r.get("manage_master_user_password") is True:
        q.drive("manage_master_user_password", True)
        q.add("master user secret (Secrets Manager, managed by RDS)", 1,
              "secretsmanager.secret_month")
    exports = r.get("enabled_cloudwatch_logs_exports") or []
    monitoring = number(r.get("monitoring_interval", 0)) or Decimal(0)
    if exports or monitoring:
        gb = q.assume.rds_log_gb
        months = q.assume.unretained_log_months
        stored = Decimal(str(gb)) * months * Decimal(str(q.assume.log_storage_ratio))
        what = ", ".join([*exports, *(["Enhanced Monitoring"] if monitoring else [])])
        q.drive("log_exports", what)
        q.add(f"CloudWatch Logs ingestion ({gb:g} GB: {what})", gb, "logs.ingest_gb")
        q.add(f"CloudWatch Logs storage ({stored.normalize():f} GB: {months} months, the log "
              "groups RDS creates keep logs forever)", stored, "logs.storage_gb_month")
    q.note("automated backups are free up to the provisioned storage "
           f"({r.get('backup_retention_period', 1)} days kept)")


def _storage(q: Quote, deployment: str) -> None:
    kind = str(q.resource.get("storage_type", "gp2"))
    size = number(q.resource.get("allocated_storage"))
    q.drive("storage", f"{size.normalize():f} GB {kind}" if size is not None else kind)
    if size is None:
        q.cannot_price("allocated_storage could not be read")
        return
    label = "Multi-AZ" if deployment == "multi_az" else "Single-AZ"
    q.add(f"storage ({size.normalize():f} GB {kind}, {label})", size,
          f"rds.storage.{kind}.{deployment}")
    iops = number(q.resource.get("iops"))
    if kind == "gp3" and iops is not None and iops > 3000:
        q.cannot_price(f"{iops} provisioned IOPS above gp3's 3,000 baseline")


def _extended_support(q: Quote, klass: str, copies: int) -> None:
    """RDS bills Extended Support per vCPU-hour, for the standby too, once a major
    version's standard support has ended, unless the instance opted out."""
    r = q.resource
    major = ".".join(str(r.get("engine_version", "")).split(".")[:2])
    lifecycle = (q.sheet.fact("rds_extended_support") or {}).get(f"mysql {major}")
    if r.get("engine_lifecycle_support") == "open-source-rds-extended-support-disabled":
        q.note("Extended Support disabled: RDS upgrades the major version at its end of "
               "standard support")
        return
    if lifecycle is None:
        q.note(f"MySQL {major}: no Extended Support dates in the sheet; assumed in standard "
               "support")
        return
    year1, year3 = date.fromisoformat(lifecycle["year1"]), date.fromisoformat(lifecycle["year3"])
    if q.as_of < year1:
        q.note(f"MySQL {major} leaves standard support on {year1}: Extended Support charges "
               "start then")
        return
    vcpus = (q.sheet.fact("rds_vcpus") or {}).get(klass)
    if vcpus is None:
        q.cannot_price(f"Extended Support for MySQL {major}: the sheet has no vCPU count "
                       f"for {klass}")
        return
    key = "rds.extended_support.year3" if q.as_of >= year3 else "rds.extended_support.year1_2"
    q.drive("extended_support", f"MySQL {major} since {year1}")
    q.add(f"Extended Support of MySQL {major}, past standard support since {year1} "
          f"({vcpus} vCPU x {copies} instance(s) x {q.hours} h)", vcpus * copies * q.hours, key)


def _performance_insights(q: Quote) -> None:
    if q.resource.get("performance_insights_enabled") is not True:
        return
    days = number(q.resource.get("performance_insights_retention_period", 7)) or Decimal(7)
    free = q.sheet.fact("performance_insights_free_days") or 0
    q.drive("performance_insights_retention", f"{days.normalize():f} days")
    if days <= free:
        q.note(f"Performance Insights with {days.normalize():f} days of history is free")
    else:
        q.cannot_price(f"Performance Insights kept {days.normalize():f} days (beyond the free "
                       f"{free}): billed as CloudWatch Database Insights, not in the sheet")


def dynamodb_table(q: Quote) -> None:
    mode = q.resource.get("billing_mode", "PROVISIONED")
    q.drive("billing_mode", mode)
    if mode != "PAY_PER_REQUEST":
        q.cannot_price(f"{mode} capacity: the sheet prices on-demand tables")
        return
    writes, reads = q.assume.dynamodb_writes, q.assume.dynamodb_reads
    q.add(f"write requests ({writes:,})", Decimal(writes) / 1_000_000, "dynamodb.write_million")
    q.add(f"read requests ({reads:,})", Decimal(reads) / 1_000_000, "dynamodb.read_million")
    q.note("storage within the 25 GB DynamoDB keeps free; point-in-time recovery is billed "
           "per GB of table size, which for lock items rounds to nothing")
