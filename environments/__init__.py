"""Environment settings: one module per environment, found by itself.

Every module of this package that defines `SETTINGS` is an environment (the
others hold the shared types and checks); adding `environments/<name>.py` is the
whole of adding an environment.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from functools import cache
from pathlib import Path

from constructs_lib.errors import ConfigError
from environments.settings import Settings

SUPPORT_MODULES = ("github_hooks", "settings", "tag_keys", "validation")
"""Modules of this package that are not environments."""


def environment_modules() -> tuple[str, ...]:
    """Names of the modules that may define an environment, sorted."""
    here = Path(__file__).resolve().parent
    return tuple(sorted(m.name for m in pkgutil.iter_modules([str(here)])
                        if not m.ispkg and m.name not in SUPPORT_MODULES
                        and not m.name.startswith("_")))


@cache
def load_environments() -> tuple[Settings, ...]:
    """Every environment's validated settings, in promotion order (an environment
    after the one it promotes from; otherwise by name).

    Raises ConfigError naming every problem of every environment at once: a
    module without SETTINGS, a name that is not the module's, two environments
    of one name or one account, a `planned_by`/`promotes_from` that names no
    environment able to serve, or any field `validate_settings` refuses."""
    # Imported here, not at the top: validation imports constructs_lib.tags, which
    # imports environments.tag_keys, so importing constructs_lib.tags first would
    # run this package's __init__ halfway through it and fail as a circular import.
    from environments.validation import validate_environments

    found: list[Settings] = []
    problems: list[str] = []
    for module_name in environment_modules():
        module = importlib.import_module(f"environments.{module_name}")
        settings = getattr(module, "SETTINGS", None)
        if not isinstance(settings, Settings):
            problems.append(
                f"environments/{module_name}.py defines no SETTINGS = Settings(...); every "
                "module of environments/ except "
                f"{', '.join(f'{m}.py' for m in SUPPORT_MODULES)} is an environment")
            continue
        # Messages name the module the settings came from, whatever it says of itself.
        found.append(dataclasses.replace(settings, source_file=f"environments/{module_name}.py"))
    if problems:
        raise ConfigError(problems)
    return validate_environments(tuple(found))


def environment_names() -> tuple[str, ...]:
    """The environments' names in promotion order."""
    return tuple(s.name for s in load_environments())


def load_environment(name: str) -> Settings:
    """The validated settings of environment `name`.

    Raises ConfigError naming every problem at once."""
    environments = load_environments()
    for settings in environments:
        if settings.name == name:
            return settings
    raise ConfigError(
        [f"environment {name!r} is unknown: allowed are "
         f"{', '.join(s.name for s in environments)} (add environments/{name}.py defining "
         "SETTINGS)"])


def served_by(host: Settings) -> tuple[Settings, ...]:
    """The environments `host`'s Atlantis server plans and applies (itself and
    every environment `planned_by` it), in promotion order."""
    if host.atlantis is None:
        return ()
    return tuple(s for s in load_environments()
                 if s.name == host.name or s.planned_by == host.name)


__all__ = ["ConfigError", "Settings", "environment_names", "load_environment",
           "load_environments", "served_by"]
