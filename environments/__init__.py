"""Environment settings: one module per environment, looked up by name."""

from __future__ import annotations

import importlib

from constructs_lib.errors import ConfigError
from environments.settings import Settings
from environments.validation import validate_settings

ENVIRONMENTS = ("prod",)
"""Known environment names; each is a module `environments/<name>.py` with SETTINGS."""


def load_environment(name: str) -> Settings:
    """Return the validated settings of environment `name`.

    Raises ConfigError naming every problem at once.
    """
    if name not in ENVIRONMENTS:
        raise ConfigError(
            [f"environment {name!r} is unknown: allowed are {', '.join(ENVIRONMENTS)} "
             "(add environments/<name>.py and list it in environments/__init__.py)"]
        )
    settings = importlib.import_module(f"environments.{name}").SETTINGS
    validate_settings(settings)
    return settings


__all__ = ["ENVIRONMENTS", "ConfigError", "Settings", "load_environment", "validate_settings"]
