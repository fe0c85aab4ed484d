"""The SSM publish/consume graph: who publishes which parameter, who reads it.

Stacks are built in deploy order, so a read is checked the moment it is made:
the producer must deploy earlier (and not in the same parallel phase) and must
already have published the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from constructs_lib.errors import ConfigError
from stacks.spec import StackSpec

KEBAB_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Read:
    consumer: str
    producer: str
    path: str


@dataclass
class ContractGraph:
    """Parameters published and read across stacks of one environment."""

    environment: str
    stacks: tuple[StackSpec, ...]
    """Every stack in deploy order (the registry): a read is checked against it."""
    published: dict[str, str] = field(default_factory=dict)
    """parameter path -> publishing stack"""
    reads: list[Read] = field(default_factory=list)

    @property
    def stack_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.stacks)

    def _spec(self, name: str) -> StackSpec:
        return next(spec for spec in self.stacks if spec.name == name)

    def path(self, stack: str, name: str) -> str:
        return f"/{self.environment}/{stack}/{name}"

    def publish(self, stack: str, name: str) -> str:
        if not KEBAB_NAME.match(name):
            raise ConfigError([
                f"stack {stack!r}: SSM parameter name {name!r} is not kebab-case; "
                "allowed are lower-case words joined by '-', e.g. 'vpc-id'."])
        path = self.path(stack, name)
        if path in self.published:
            raise ConfigError([
                f"stack {stack!r}: SSM parameter {path} is already published by stack "
                f"{self.published[path]!r}; every parameter has exactly one publisher."])
        self.published[path] = stack
        return path

    def read(self, consumer: str, producer: str, name: str) -> str:
        path = self.path(producer, name)
        order = self.stack_names
        if producer not in order:
            raise ConfigError([
                f"stack {consumer!r} reads {path}, but {producer!r} is not a stack; "
                f"known stacks are {', '.join(order)}."])
        consumer_at, producer_at = order.index(consumer), order.index(producer)
        c_phase, p_phase = self._spec(consumer).phase, self._spec(producer).phase
        if producer_at >= consumer_at:
            raise ConfigError([
                f"stack {consumer!r} reads {path} published by stack {producer!r}, but "
                f"{producer!r} deploys after {consumer!r} (deploy order: "
                f"{' -> '.join(order)}); a stack may only read from earlier stacks."])
        if c_phase == p_phase and c_phase.parallel:
            raise ConfigError([
                f"stack {consumer!r} reads {path} published by stack {producer!r}, but both "
                f"are in the parallel phase {c_phase.number} ({c_phase.name}) and may be "
                "applied at the same time; read it from an earlier phase instead."])
        if self.published.get(path) != producer:
            raise ConfigError([
                f"stack {consumer!r} reads {path}, but no stack publishes it; stack "
                f"{producer!r} publishes: "
                + (", ".join(sorted(p for p, s in self.published.items() if s == producer))
                   or "nothing") + "."])
        read = Read(consumer, producer, path)
        if read not in self.reads:
            self.reads.append(read)
        return path

    def upstream(self, stack: str) -> list[str]:
        """Stacks that `stack` reads from, in deploy order."""
        producers = {r.producer for r in self.reads if r.consumer == stack}
        return [s for s in self.stack_names if s in producers]
