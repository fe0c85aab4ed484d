"""What the registry says of a stack: its name, phase and purpose, and the class
that builds it. Kept apart from stacks/registry.py, which imports every stack
class, so that a stack module can name StackSpec without a cycle."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from environments.settings import Settings
    from stacks.base import BuildContext, GovernedStack


@dataclass(frozen=True, kw_only=True)
class Phase:
    number: int
    name: str
    parallel: bool
    """True when the phase's stacks may be applied at the same time, so none of
    them may read another's outputs."""


FOUNDATION = Phase(number=1, name="foundation", parallel=False)
SECURITY = Phase(number=2, name="security", parallel=False)
APPLICATION = Phase(number=3, name="application", parallel=False)
OBSERVABILITY = Phase(number=4, name="observability", parallel=True)


@dataclass(frozen=True, kw_only=True)
class StackSpec:
    name: str
    phase: Phase
    purpose: str
    stack_class: type[GovernedStack]
    """The class that builds the stack: `stack_class(app, spec, context)`."""
    atlantis_server_only: bool = False
    """Built only in an environment that runs its own Atlantis server
    (`Settings.atlantis`); an environment planned by another's server has none."""

    def built_in(self, settings: Settings) -> bool:
        """Whether the environment of `settings` has this stack."""
        return not self.atlantis_server_only or settings.atlantis is not None

    def build(self, scope, context: BuildContext) -> GovernedStack:
        return self.stack_class(scope, self, context)
