"""SEC009: every AWS Backup vault has a vault lock in compliance mode with a minimum
retention, in the vault's own Region. (Its customer-managed key is ENC001's.)"""

from __future__ import annotations

from collections.abc import Iterable

from policies.backup_vaults import LOCK, VAULT, locks_of
from policies.model import Result, Rule, StackView, from_problems


class BackupVaultLocked(Rule):
    id = "SEC009"
    family = "security"
    title = ("every AWS Backup vault has a compliance-mode vault lock with a minimum "
             "retention")
    rationale = ("A backup that an administrator can delete does not outlive the "
                 "administrator's mistake or a stolen administrator session. A vault lock "
                 "refuses to delete a recovery point before its minimum retention, to "
                 "everyone; in governance mode (no changeable_for_days) whoever may call "
                 "backup:DeleteBackupVaultLockConfiguration lifts it again, in compliance "
                 "mode nobody can once the grace time is over.")
    fix = ("add an aws_backup_vault_lock_configuration naming the vault (backup_vault_name = "
           "its name), on the vault's provider, with changeable_for_days (at least 3) and "
           "min_retention_days (the plan's retention): stacks/bootstrap.py's _locked_vault")
    resource_types = frozenset({VAULT})

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        for vault in stack.of_type(VAULT):
            locks = locks_of(vault)
            problems = [] if locks else [
                f"no {LOCK} names the vault, so anyone allowed backup:DeleteRecoveryPoint "
                "deletes its recovery points"]
            for lock in locks:
                if lock.provider_alias != vault.provider_alias:
                    problems.append(f"{lock.address} uses another provider (Region) than the "
                                    "vault, so it locks no vault of this name there")
                if lock.get("changeable_for_days") is None:
                    problems.append(f"{lock.address} sets no changeable_for_days: a governance "
                                    "lock, which any principal allowed "
                                    "backup:DeleteBackupVaultLockConfiguration lifts")
                if lock.get("min_retention_days") is None:
                    problems.append(f"{lock.address} sets no min_retention_days, so a "
                                    "recovery point may be deleted at any age")
            yield vault.address, from_problems(problems)


RULE = BackupVaultLocked()
