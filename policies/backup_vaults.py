"""How AWS Backup vaults, their vault locks and their Regions read in a synthesized
stack: what SEC009 (vault locks) and SEC010 (plan rules) share."""

from __future__ import annotations

from policies.model import ResourceView, StackView, is_token

VAULT = "aws_backup_vault"
LOCK = "aws_backup_vault_lock_configuration"


def names_vault(value: object, vault: ResourceView) -> bool:
    """`value` (a lock's backup_vault_name, a rule's target_vault_name or a copy
    action's destination_vault_arn) points at `vault`: a reference to it, or its
    literal name."""
    if any(r.address == vault.address for r in vault.stack.resolve(value)):
        return True
    name = vault.get("name")
    return isinstance(name, str) and not is_token(name) and value == name


def vault_named(stack: StackView, value: object) -> ResourceView | None:
    """The stack's aws_backup_vault `value` points at, or None."""
    return next((v for v in stack.of_type(VAULT) if names_vault(value, v)), None)


def locks_of(vault: ResourceView) -> list[ResourceView]:
    """The vault lock configurations that name `vault` (normally one)."""
    return [lock for lock in vault.stack.of_type(LOCK)
            if names_vault(lock.get("backup_vault_name"), vault)]


def region_of(resource: ResourceView) -> str | None:
    """The Region of the aws provider `resource` uses, when it is a literal."""
    region = (resource.stack.providers().get(resource.provider_alias) or {}).get("region")
    return region if isinstance(region, str) and not is_token(region) else None


def arn_region(value: object) -> str | None:
    """The Region field of a literal ARN (`arn:<partition>:backup:<region>:...`)."""
    if not isinstance(value, str) or is_token(value):
        return None
    parts = value.split(":")
    return parts[3] or None if len(parts) > 3 and parts[0] == "arn" else None
