"""Environment settings: one module per environment, looked up by name."""

from __future__ import annotations

import importlib

from constructs_lib.errors import ConfigError
from environments.settings import Settings

ENVIRONMENTS = ("prod",)
"""Known environment names; each is a module `environments/<name>.py` with SETTINGS."""


def load_environment(name: str) -> Settings:
    """Return the validated settings of environment `name`.

    Raises ConfigError naming every problem at once.
    """
    # Imported here, not at the top: validation imports constructs_lib.tags, which
    # imports environments.tag_keys, so importing constructs_lib.tags first would
    # run this package's __init__ halfway through it and fail as a circular import.
    from environments.validation import validate_settings

    if name not in ENVIRONMENTS:
        raise ConfigError(
            [f"environment {name!r} is unknown: allowed are {', '.join(ENVIRONMENTS)} "
             "(add environments/<name>.py and list it in environments/__init__.py)"]
        )
    settings = importlib.import_module(f"environments.{name}").SETTINGS
    validate_settings(settings)
    return settings


__all__ = ["ENVIRONMENTS", "ConfigError", "Settings", "load_environment"]
