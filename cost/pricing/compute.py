"""Compute pricers: ECS on Fargate, Container Insights, Lambda and ECR."""

from __future__ import annotations

from decimal import Decimal

from cost.pricing.quote import Quote, as_decimal, number

MIB_PER_GB = Decimal(1024)
CPU_UNITS_PER_VCPU = Decimal(1024)


def ecs_service(q: Quote) -> None:
    """Fargate tasks: desired count x (vCPU and GB of the task definition) x hours, at
    the Fargate Spot discount for the share a capacity provider strategy puts there."""
    r = q.resource
    strategy = r.values("capacity_provider_strategy")
    launch = r.get("launch_type") or ("FARGATE" if strategy else "EC2")
    q.drive("launch_type", launch)
    if launch != "FARGATE":
        q.cannot_price(f"{launch} launch type: the sheet prices Fargate tasks only")
        return
    definitions = r.stack.resolve(r.get("task_definition"))
    task = definitions[0] if definitions else None
    cpu = number(task.get("cpu")) if task else None
    memory = number(task.get("memory")) if task else None
    if cpu is None or memory is None:
        q.cannot_price("the task definition's cpu and memory could not be read")
        return
    count = number(r.get("desired_count", 0)) or Decimal(0)
    arm = str(task.get("runtime_platform", {}).get("cpu_architecture", "X86_64")) == "ARM64"
    prefix = "fargate_arm" if arm else "fargate"
    vcpus, gbs = cpu / CPU_UNITS_PER_VCPU, memory / MIB_PER_GB
    for name, value in (("desired_count", count), ("cpu", f"{vcpus.normalize():f} vCPU"),
                        ("memory", f"{gbs.normalize():f} GB"),
                        ("architecture", "ARM64" if arm else "X86_64")):
        q.drive(name, value if not isinstance(value, Decimal) else f"{value.normalize():f}")
    spot = _spot_share(strategy)
    if spot:
        q.drive("fargate_spot_share", f"{spot:.0%}")
    tasks = f"{count.normalize():f} task(s)"
    for part, share in (("", 1 - spot), (" on Fargate Spot", spot)):
        if not share:
            continue
        factor = Decimal(1)
        if part:
            discount = q.sheet.discounts.get("fargate_spot")
            if discount is None:
                q.cannot_price("the Fargate Spot share: the sheet has no fargate_spot discount")
                continue
            factor -= discount.fraction
        hours = count * q.hours * share * factor
        q.add(f"vCPU{part} ({tasks} x {vcpus.normalize():f} vCPU x {q.hours} h)",
              hours * vcpus, f"{prefix}.vcpu_hour")
        q.add(f"memory{part} ({tasks} x {gbs.normalize():f} GB x {q.hours} h)",
              hours * gbs, f"{prefix}.gb_hour")


def _spot_share(strategy: list) -> Decimal:
    """Share of the tasks a capacity provider strategy weighs onto FARGATE_SPOT
    (base counts are ignored: one task, one weight)."""
    weights = {s.get("capacity_provider"): number(s.get("weight", 0)) or Decimal(0)
               for s in strategy if isinstance(s, dict)}
    total = sum(weights.values(), Decimal(0))
    return weights.get("FARGATE_SPOT", Decimal(0)) / total if total else Decimal(0)


def ecs_cluster(q: Quote) -> None:
    """Container Insights metrics are custom metrics; its performance events are logs."""
    settings = {s.get("name"): s.get("value") for s in q.resource.values("setting")
                if isinstance(s, dict)}
    insights = settings.get("containerInsights", "disabled")
    q.drive("containerInsights", insights)
    if insights == "disabled":
        return
    if insights != "enabled":
        q.cannot_price(f"Container Insights {insights!r} (observation-based pricing): the "
                       "sheet prices the classic custom-metric model")
        return
    metrics = q.assume.container_insights_metrics
    q.add(f"Container Insights metrics ({metrics} custom metrics)", metrics,
          "cloudwatch.custom_metric_month")
    q.add(f"Container Insights performance logs ({q.assume.container_insights_log_gb:g} GB)",
          q.assume.container_insights_log_gb, "logs.ingest_gb")


def lambda_function(q: Quote) -> None:
    memory = number(q.resource.get("memory_size", 128)) or Decimal(128)
    arm = "arm64" in (q.resource.get("architectures") or [])
    calls = q.assume.lambda_invocations
    seconds = as_decimal(q.assume.lambda_duration_seconds)
    q.drive("memory_size", f"{memory.normalize():f} MB")
    q.drive("architecture", "arm64" if arm else "x86_64")
    q.add(f"requests ({calls:,})", Decimal(calls) / 1_000_000, "lambda.requests_million")
    q.add(f"compute ({calls:,} x {seconds.normalize():f} s x {memory.normalize():f} MB)",
          calls * seconds * memory / MIB_PER_GB,
          "lambda_arm.gb_second" if arm else "lambda.gb_second")


def ecr_repository(q: Quote) -> None:
    q.add(f"image storage ({q.assume.ecr_storage_gb:g} GB)", q.assume.ecr_storage_gb,
          "ecr.storage_gb_month")


def ecr_registry_scanning(q: Quote) -> None:
    kind = q.resource.get("scan_type", "BASIC")
    q.drive("scan_type", kind)
    if kind == "BASIC":
        q.note("basic scanning carries no charge")
    else:
        q.cannot_price(f"{kind} scanning is billed by Amazon Inspector per image; the sheet "
                       "has no Inspector prices")
