"""Validate the environments' settings before any construct exists: each one as a
whole, then the environments together (names, accounts, who plans and promotes)."""

from __future__ import annotations

import dataclasses
import itertools
import re

from constructs_lib.errors import ConfigError, Problems
from constructs_lib.formats import (
    ACCOUNT_ID,
    LOG_RETENTION_DAYS,
    MIN_REASON,
    REGION,
    is_email,
    is_kebab,
    parse_cidr,
)
from constructs_lib.tags import tag_value_problem
from environments.settings import CostAssumptions, Settings
from environments.tag_keys import ENVIRONMENT_TAG_KEYS, tag_field


def validate_settings(settings: Settings) -> None:
    """Raise ConfigError listing every problem in `settings`, or return None."""
    problems = Problems(settings.source_file)
    _check_one(settings, problems)
    problems.raise_if_any()


def _check_one(settings: Settings, problems: Problems) -> None:
    _check_names(settings, problems)
    _check_tags(settings, problems)
    _check_network(settings, problems)
    _check_numbers(settings, problems)
    _check_database(settings, problems)
    _check_atlantis(settings, problems)
    _check_backup(settings, problems)
    _check_cost(settings.cost, problems)


def validate_environments(environments: tuple[Settings, ...]) -> tuple[Settings, ...]:
    """Every environment checked alone and against the others; returns them in
    promotion order (after the one each promotes from, otherwise by name).

    Raises ConfigError listing every problem of every environment at once."""
    found: list[str] = []
    for settings in environments:
        problems = Problems(settings.source_file)
        _check_one(settings, problems)
        _check_against_others(settings, environments, problems)
        found += problems.items
    if found:
        raise ConfigError(found)
    return promotion_order(environments)


def promotion_order(environments: tuple[Settings, ...]) -> tuple[Settings, ...]:
    """Environments sorted so that each comes after the one it promotes from (a
    valid chain, checked by `validate_environments`); ties by name."""
    by_name = {s.name: s for s in environments}

    def depth(settings: Settings) -> int:
        steps, current = 0, settings
        while current.promotes_from in by_name and steps < len(by_name):
            current, steps = by_name[current.promotes_from], steps + 1
        return steps

    return tuple(sorted(environments, key=lambda s: (depth(s), s.name)))


def _check_against_others(s: Settings, environments: tuple[Settings, ...],
                          p: Problems) -> None:
    module = s.source_file.removeprefix("environments/").removesuffix(".py")
    if s.name != module:
        p.add("name", s.name, f"allowed is the module's own name {module!r} "
              f"(one environment per module: environments/<name>.py)")
    others = [o for o in environments if o is not s]
    for other in others:
        if other.account_id == s.account_id and other.name > s.name:
            p.add("account_id", s.account_id,
                  f"it is also the account of {other.source_file}; every environment has an "
                  "account of its own (the account-wide singletons: the GitHub OIDC provider, "
                  "password policy, support role, ECR registry scanning and the trail, are "
                  "built once per environment)")
    by_name = {o.name: o for o in environments}
    if s.planned_by is not None:
        host = by_name.get(s.planned_by)
        if host is None or host is s:
            p.add("planned_by", s.planned_by,
                  "allowed is another environment's name: "
                  + (", ".join(o.name for o in others) or "there is none"))
        elif host.atlantis is None:
            p.add("planned_by", s.planned_by,
                  f"{host.source_file} runs no Atlantis server (its `atlantis` is None); "
                  "allowed is an environment that runs one")
    if s.promotes_from is not None:
        if s.promotes_from not in by_name or s.promotes_from == s.name:
            p.add("promotes_from", s.promotes_from,
                  "allowed is another environment's name: "
                  + (", ".join(o.name for o in others) or "there is none"))
        else:
            seen, current = {s.name}, by_name[s.promotes_from]
            while current is not None and current.name not in seen:
                seen.add(current.name)
                current = by_name.get(current.promotes_from) if current.promotes_from else None
            if current is not None and current.name == s.name:
                p.add("promotes_from", s.promotes_from,
                      "it leads back to this environment; promotion runs one way")


def _check_names(s: Settings, p: Problems) -> None:
    if not is_kebab(s.name):
        p.add("name", s.name, "allowed is a kebab-case environment name such as 'prod'")
    if not ACCOUNT_ID.match(s.account_id):
        p.add("account_id", s.account_id, "allowed is a 12-digit AWS account id")
    for i, az in enumerate(s.availability_zones):
        if not (az.startswith(s.region) and len(az) == len(s.region) + 1 and az[-1].isalpha()):
            p.add(f"availability_zones[{i}]", az,
                  f"allowed is a zone of region {s.region!r} such as '{s.region}a'")
    if not s.state.bucket.startswith(f"{s.name}-") or not is_kebab(s.state.bucket):
        p.add("state.bucket", s.state.bucket,
              f"allowed is a kebab-case name starting with '{s.name}-'")
    if s.github.repository.count("/") != 1:
        p.add("github.repository", s.github.repository, "allowed is 'owner/name'")
    branch = s.github.default_branch
    # A ':' would be written %3A in the OIDC subject the drift role trusts.
    if not branch or any(c.isspace() or c in ":~^?*[\\" for c in branch):
        p.add("github.default_branch", branch,
              "allowed is a branch name without spaces, ':' or git's special characters")
    ids = s.github.immutable_ids
    if ids is not None and (len(ids) != 2 or not all(
            isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ids)):
        p.add("github.immutable_ids", ids,
              "allowed is None or (owner id, repository id), two positive integers")


def _check_tags(s: Settings, p: Problems) -> None:
    for key in ENVIRONMENT_TAG_KEYS:
        name = tag_field(key)
        value = getattr(s.tags, name)
        problem = tag_value_problem(key, value)
        if problem:
            p.add(f"tags.{name}", value, problem)
    if s.tags.environment != s.name:
        p.add("tags.environment", s.tags.environment,
              f"allowed is the environment's own name {s.name!r}")
    for stack, override in sorted(s.stacks.items()):
        if override.data_class is not None and not is_kebab(override.data_class):
            p.add(f"stacks[{stack!r}].data_class", override.data_class,
                  "tag values must be kebab-case")
    if s.alarm_email is not None and not is_email(s.alarm_email):
        p.add("alarm_email", s.alarm_email, "allowed is an e-mail address or None")


def _check_network(s: Settings, p: Problems) -> None:
    net = s.network
    vpc = parse_cidr(net.vpc_cidr)
    if vpc is None:
        p.add("network.vpc_cidr", net.vpc_cidr,
              "allowed is an IPv4 CIDR block such as '10.0.0.0/16' (host bits zero)")
    subnets = []
    for kind in ("public_subnets", "private_subnets"):
        entries = getattr(net, kind)
        if not entries:
            p.add(f"network.{kind}", entries, "at least one subnet is required")
        for i, subnet in enumerate(entries):
            field = f"network.{kind}[{i}]"
            block = parse_cidr(subnet.cidr)
            if block is None:
                p.add(f"{field}.cidr", subnet.cidr,
                      "allowed is an IPv4 CIDR block such as '10.0.0.0/20' (host bits zero)")
            elif vpc is not None and not block.subnet_of(vpc):
                p.add(f"{field}.cidr", subnet.cidr,
                      f"allowed is a block inside the VPC range {net.vpc_cidr}")
            else:
                subnets.append((field, subnet.cidr, block))
            if subnet.availability_zone not in s.availability_zones:
                p.add(f"{field}.availability_zone", subnet.availability_zone,
                      f"allowed are the environment's zones {', '.join(s.availability_zones)}")
    for (f1, c1, b1), (f2, c2, b2) in itertools.combinations(subnets, 2):
        if b1.overlaps(b2):
            p.add(f"{f2}.cidr", c2, f"it overlaps {f1} ({c1}); subnets must not overlap")


def _check_numbers(s: Settings, p: Problems) -> None:
    for field, value in (("log_retention_days", s.log_retention_days),
                         ("network.flow_log_retention_days", s.network.flow_log_retention_days)):
        if value not in LOG_RETENTION_DAYS:
            p.add(field, value, "allowed are the values CloudWatch Logs accepts: "
                  + ", ".join(map(str, LOG_RETENTION_DAYS)))


def _check_database(s: Settings, p: Problems) -> None:
    db = s.database
    if not (db.instance_class.startswith("db.") and db.instance_class.count(".") == 2):
        p.add("database.instance_class", db.instance_class,
              "allowed is an RDS instance class such as 'db.t3.medium'")
    if not 20 <= db.allocated_storage_gib <= 65536:
        p.add("database.allocated_storage_gib", db.allocated_storage_gib,
              "allowed is 20 to 65536 GiB (gp3)")
    if db.max_allocated_storage_gib < db.allocated_storage_gib:
        p.add("database.max_allocated_storage_gib", db.max_allocated_storage_gib,
              f"allowed is at least allocated_storage_gib ({db.allocated_storage_gib})")
    if db.multi_az and db.single_az_reason is not None:
        p.add("database.single_az_reason", db.single_az_reason,
              "allowed only with multi_az=False")
    if not db.multi_az and len((db.single_az_reason or "").strip()) < MIN_REASON:
        p.add("database.single_az_reason", db.single_az_reason,
              f"multi_az=False needs a reason of at least {MIN_REASON} characters "
              "(it is recorded as waiver CKV_AWS_157)")


FARGATE_MEMORY_MIB = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}
"""Fargate's CPU units -> the memory sizes (MiB) it accepts with them (Amazon ECS
developer guide, "Task CPU and memory", Linux)."""


ATLANTIS_COMMANDS = ("version", "plan", "apply", "cancel", "unlock", "approve_policies",
                     "import", "state", "*")
"""The comment commands `--gh-team-allowlist` can grant, and `*` (runatlantis/atlantis
v0.47.1: `AllCommentCommands` in server/events/command/name.go)."""


def _check_atlantis(s: Settings, p: Problems) -> None:
    if s.atlantis is None:
        if s.planned_by is None:
            p.add("planned_by", s.planned_by,
                  "an environment without an Atlantis server of its own (`atlantis` None) "
                  "names the environment whose server plans it")
        return
    if s.planned_by is not None:
        p.add("planned_by", s.planned_by,
              "allowed is None for an environment that runs its own Atlantis server "
              "(`atlantis` set)")
    cpu, memory = s.atlantis.task_cpu, s.atlantis.task_memory_mib
    if cpu not in FARGATE_MEMORY_MIB:
        p.add("atlantis.task_cpu", cpu,
              f"allowed are Fargate's CPU units {', '.join(map(str, FARGATE_MEMORY_MIB))}")
    elif memory not in FARGATE_MEMORY_MIB[cpu]:
        sizes = FARGATE_MEMORY_MIB[cpu]
        p.add("atlantis.task_memory_mib", memory,
              f"allowed with task_cpu {cpu} are {sizes[0]} to {sizes[-1]} MiB "
              f"in steps Fargate accepts ({', '.join(map(str, sizes))})")
    if not s.github.hook_cidrs:
        p.add("github.hook_cidrs", s.github.hook_cidrs,
              "at least one range is required, or no webhook reaches Atlantis")
    for field, cidrs in (("github.hook_cidrs", s.github.hook_cidrs),
                         ("atlantis.operator_cidrs", s.atlantis.operator_cidrs)):
        for i, cidr in enumerate(cidrs):
            block = parse_cidr(cidr)
            if block is None:
                p.add(f"{field}[{i}]", cidr, "allowed is an IPv4 CIDR block (host bits zero)")
            elif block.prefixlen == 0:
                p.add(f"{field}[{i}]", cidr, "the whole internet is not a source range")
    if not s.atlantis.team_allowlist:
        p.add("atlantis.team_allowlist", s.atlantis.team_allowlist,
              "at least one (team, command) pair is required, or nobody can run Atlantis")
    for i, entry in enumerate(s.atlantis.team_allowlist):
        team, command = entry if len(entry) == 2 else ("", "")
        if not is_kebab(team):
            p.add(f"atlantis.team_allowlist[{i}]", entry,
                  "allowed is (GitHub team slug, command) with a kebab-case slug")
        elif command not in ATLANTIS_COMMANDS:
            p.add(f"atlantis.team_allowlist[{i}]", entry,
                  f"allowed commands are {', '.join(ATLANTIS_COMMANDS)}")


MIN_BACKUP_RETENTION_DAYS = 7
"""The shortest life of a recovery point: the week the hardening list asks of
RDS backups; a shorter one would outlive no weekend incident found on Monday."""
MAX_BACKUP_RETENTION_DAYS = 36500
"""The longest AWS Backup keeps a recovery point (100 years; the vault lock's limit)."""
MIN_VAULT_LOCK_GRACE_DAYS = 3
"""AWS Backup's 72-hour cooling-off before a compliance lock sets (ChangeableForDays)."""
BACKUP_SCHEDULE = re.compile(r"^(cron\((\S+ ){5}\S+\)|rate\(\d+ (minute|hour|day)s?\))$")
"""An AWS Backup schedule: `cron(<6 fields>)` or `rate(<n> <unit>)`, as EventBridge."""


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_backup(s: Settings, p: Problems) -> None:
    b = s.backup
    if not isinstance(b.copy_region, str) or not REGION.match(b.copy_region):
        p.add("backup.copy_region", b.copy_region,
              "allowed is a Region name such as 'ap-northeast-1'")
    elif b.copy_region == s.region:
        p.add("backup.copy_region", b.copy_region,
              f"allowed is a Region other than the environment's own ({s.region}): a copy "
              "in the same Region is lost with it")
    if not isinstance(b.schedule, str) or not BACKUP_SCHEDULE.match(b.schedule):
        p.add("backup.schedule", b.schedule,
              "allowed is an AWS Backup schedule expression such as 'cron(0 17 * * ? *)' "
              "(six fields, UTC) or 'rate(1 day)'")
    lock_min = b.vault_lock_min_days
    if not _is_count(lock_min) or not (
            MIN_BACKUP_RETENTION_DAYS <= lock_min <= MAX_BACKUP_RETENTION_DAYS):
        p.add("backup.vault_lock_min_days", lock_min, f"allowed is a whole number of days "
              f"from {MIN_BACKUP_RETENTION_DAYS} to {MAX_BACKUP_RETENTION_DAYS}")
        lock_min = MIN_BACKUP_RETENTION_DAYS
    for field, value in (("backup.retention_days", b.retention_days),
                         ("backup.copy_retention_days", b.copy_retention_days)):
        if not _is_count(value) or not (lock_min <= value <= MAX_BACKUP_RETENTION_DAYS):
            p.add(field, value, f"allowed is a whole number of days from {lock_min} (the "
                  f"vault locks' minimum, backup.vault_lock_min_days) to "
                  f"{MAX_BACKUP_RETENTION_DAYS}: the locks refuse every job that keeps its "
                  "recovery points for less")
    grace = b.vault_lock_grace_days
    if not _is_count(grace) or grace < MIN_VAULT_LOCK_GRACE_DAYS:
        p.add("backup.vault_lock_grace_days", grace,
              f"allowed is a whole number of days, at least {MIN_VAULT_LOCK_GRACE_DAYS} "
              "(AWS Backup's 72-hour cooling-off before a compliance lock is set)")


def _check_cost(cost: CostAssumptions, p: Problems) -> None:
    if not isinstance(cost, CostAssumptions):
        p.add("cost", cost, "allowed is a CostAssumptions (environments/settings.py)")
        return
    for spec in dataclasses.fields(CostAssumptions):
        field, value = f"cost.{spec.name}", getattr(cost, spec.name)
        if spec.type == "bool":
            if not isinstance(value, bool):
                p.add(field, value, "allowed is True or False")
        elif spec.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            p.add(field, value, "allowed is a whole number of zero or more")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            p.add(field, value, "allowed is a number of zero or more")
        elif value < 0:
            p.add(field, value, "a usage cannot be negative; allowed is zero or more")
    if isinstance(cost.hours_per_month, int) and not 1 <= cost.hours_per_month <= 744:
        p.add("cost.hours_per_month", cost.hours_per_month,
              "allowed is 1 to 744 (the hours of a 31-day month)")
    ratio = cost.log_storage_ratio
    if isinstance(ratio, int | float) and not isinstance(ratio, bool) and not 0 < ratio <= 1:
        p.add("cost.log_storage_ratio", ratio,
              "allowed is more than 0 and at most 1 (stored bytes per ingested byte)")
    months = cost.unretained_log_months
    if isinstance(months, int) and not isinstance(months, bool) and months < 1:
        p.add("cost.unretained_log_months", months, "allowed is 1 or more")
