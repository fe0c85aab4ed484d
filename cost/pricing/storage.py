"""Storage pricers: S3 buckets, EFS file systems and their AWS Backup copies, Athena."""

from __future__ import annotations

from decimal import Decimal

from cost.pricing.quote import Quote, as_decimal


def s3_bucket(q: Quote) -> None:
    a = q.assume
    q.add(f"Standard storage ({a.s3_storage_gb:g} GB)", a.s3_storage_gb, "s3.standard_gb_month")
    q.add(f"PUT/COPY/POST/LIST requests ({a.s3_put_requests:,})",
          Decimal(a.s3_put_requests) / 1_000, "s3.put_1k")
    q.add(f"GET and other requests ({a.s3_get_requests:,})",
          Decimal(a.s3_get_requests) / 10_000, "s3.get_10k")


def efs_file_system(q: Quote) -> None:
    a = q.assume
    mode = q.resource.get("throughput_mode", "bursting")
    q.drive("throughput_mode", mode)
    q.drive("performance_mode", q.resource.get("performance_mode", "generalPurpose"))
    if q.resource.get("availability_zone_name"):
        q.cannot_price("One Zone storage: the sheet prices Regional (Standard) storage")
        return
    q.add(f"Standard storage ({a.efs_storage_gb:g} GB)", a.efs_storage_gb,
          "efs.standard_gb_month")
    if mode == "elastic":
        q.add(f"Elastic Throughput reads ({a.efs_read_gb:g} GB)", a.efs_read_gb,
              "efs.elastic_read_gb")
        q.add(f"Elastic Throughput writes ({a.efs_write_gb:g} GB)", a.efs_write_gb,
              "efs.elastic_write_gb")
    elif mode == "provisioned":
        q.cannot_price("provisioned throughput: the sheet has no MiB/s-month price")
    if q.resource.values("lifecycle_policy"):
        q.note("lifecycle moves to Infrequent Access are not counted: all data priced as "
               "Standard")


def efs_backup_policy(q: Quote) -> None:
    status = q.resource.get("backup_policy", {}).get("status", "DISABLED")
    q.drive("status", status)
    if status != "ENABLED":
        return
    q.add(f"AWS Backup warm storage ({q.assume.efs_backup_gb:g} GB)", q.assume.efs_backup_gb,
          "backup.efs_warm_gb_month")
    q.note("the default backup plan keeps daily recovery points for 35 days")


def backup_plan(q: Quote) -> None:
    """The recovery points a plan's rules keep in their vault and copy to another
    Region's (the selection decides what: bootstrap selects the RDS instance, the EFS
    file system and the lock table): warm storage per vault, and the transfer of the
    copies. A copy vault's storage is priced at the home Region's rates (the sheets hold
    no other Region's Backup prices)."""
    a = q.assume
    rules = [r for r in q.resource.values("rule") if isinstance(r, dict)]
    copies = [c for r in rules for c in (r.get("copy_action") or []) if isinstance(c, dict)]
    q.drive("rules", len(rules))
    q.drive("copy actions", len(copies))
    vaults = len(rules) + len(copies)
    if not vaults:
        return
    q.add(f"RDS snapshot storage ({a.backup_rds_gb:g} GB x {vaults} vault(s))",
          as_decimal(a.backup_rds_gb) * vaults, "rds.backup_gb_month")
    q.add(f"EFS warm storage ({a.efs_backup_gb:g} GB x {vaults} vault(s))",
          as_decimal(a.efs_backup_gb) * vaults, "backup.efs_warm_gb_month")
    q.add(f"DynamoDB warm storage ({a.backup_dynamodb_gb:g} GB x {vaults} vault(s))",
          as_decimal(a.backup_dynamodb_gb) * vaults, "backup.dynamodb_warm_gb_month")
    if copies:
        q.add(f"copies to another Region ({a.backup_copy_gb:g} GB x {len(copies)} copy action(s))",
              as_decimal(a.backup_copy_gb) * len(copies), "transfer.inter_region_gb")
        q.note("the copy vault's storage is priced at this Region's rates")


def athena_workgroup(q: Quote) -> None:
    tb = q.assume.athena_tb_scanned
    q.add(f"data scanned ({tb:g} TB)", tb, "athena.tb_scanned")
