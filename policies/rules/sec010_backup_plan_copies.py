"""SEC010: every AWS Backup plan rule copies its recovery points to a vault in another
Region, and keeps them (at home and in the copy) as long as those vaults' locks
demand and no longer than they allow."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from policies.backup_vaults import arn_region, locks_of, region_of, vault_named
from policies.model import ResourceView, Result, Rule, StackView, from_problems, values_at


def _days(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _fits_locks(where: str, vault: ResourceView | None, delete_after: object) -> Iterator[str]:
    """Problems of a recovery point kept `delete_after` days (None: for ever) in `vault`.
    AWS Backup fails a backup or copy job whose retention is outside the target vault's
    lock (AWS Backup Developer Guide, "AWS Backup Vault Lock")."""
    if vault is None:
        return
    days = _days(delete_after)
    for lock in locks_of(vault):
        least, most = _days(lock.get("min_retention_days")), _days(lock.get("max_retention_days"))
        if least is not None and days is not None and days < least:
            yield (f"{where} keeps recovery points {days} days, fewer than the "
                   f"{least} of {lock.address}: every job fails")
        if most is not None and (days is None or days > most):
            kept = "for ever" if days is None else f"{days} days"
            yield (f"{where} keeps recovery points {kept}, longer than the "
                   f"{most} days of {lock.address}: every job fails")


def _delete_after(block: dict) -> object:
    return (values_at(block, "lifecycle.delete_after") or [None])[0]


def rule_problems(plan: ResourceView, rule: dict, index: int) -> list[str]:
    stack = plan.stack
    where = f"rule[{index}] ({rule.get('rule_name', '?')})"
    home_vault = vault_named(stack, rule.get("target_vault_name"))
    home = region_of(home_vault) if home_vault is not None else region_of(plan)
    problems = list(_fits_locks(where, home_vault, _delete_after(rule)))
    regions = []
    for n, copy in enumerate(values_at(rule, "copy_action")):
        target = copy.get("destination_vault_arn")
        vault = vault_named(stack, target)
        regions.append(region_of(vault) if vault is not None else arn_region(target))
        problems += _fits_locks(f"{where} copy_action[{n}]", vault, _delete_after(copy))
    if not any(region is not None and region != home for region in regions):
        problems.append(
            f"{where} copies to no vault of another Region than its own ({home or 'unknown'}"
            f"; copies to: {', '.join(r or 'unknown' for r in regions) or 'none'}), so its "
            "backups are lost with the Region")
    return problems


class BackupPlanCopies(Rule):
    id = "SEC010"
    family = "security"
    title = ("every AWS Backup plan rule copies to a vault of another Region and fits its "
             "vaults' locks")
    rationale = ("Backups kept only in the Region of the data are lost with it; a copy "
                 "action to a vault of a second Region survives its loss. A retention outside "
                 "a locked vault's minimum or maximum makes AWS Backup fail every job of the "
                 "rule, a silent loss of backups that only the job history shows.")
    fix = ("give each rule of the aws_backup_plan a copy_action whose destination_vault_arn "
           "is a vault on another Region's provider (stacks/bootstrap.py: provider_in("
           "settings.backup.copy_region)), and lifecycle.delete_after values within the "
           "min/max_retention_days of the target and destination vault locks")
    resource_types = frozenset({"aws_backup_plan"})

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        for plan in stack.of_type("aws_backup_plan"):
            problems = [p for i, rule in enumerate(values_at(plan.body, "rule"))
                        for p in rule_problems(plan, rule, i)]
            yield plan.address, from_problems(problems)


RULE = BackupPlanCopies()
