"""The 11 stacks in the reference's deploy order, with their phases.

This list and the SSM publish/consume graph are the single source of truth for
ordering: atlantis.yaml and the README diagram are generated from them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


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
    class_path: str
    """`module:Class` of the stack; imported only when the app is built."""

    def load_class(self) -> type:
        module, cls = self.class_path.split(":")
        return getattr(importlib.import_module(module), cls)


def _spec(name: str, phase: Phase, purpose: str, cls: str) -> StackSpec:
    return StackSpec(name=name, phase=phase, purpose=purpose, class_path=f"stacks.{name}:{cls}")


STACKS: tuple[StackSpec, ...] = (
    _spec("bootstrap", FOUNDATION, "Terraform state: bucket, lock table, state key, CI role", "BootstrapStack"),
    _spec("kms", FOUNDATION, "the 9 customer-managed keys", "KmsStack"),
    _spec("network", FOUNDATION, "VPC, subnets, NAT, flow logs, endpoints", "NetworkStack"),
    _spec("route53", FOUNDATION, "public zone, query logging, health checks", "Route53Stack"),
    _spec("acm", FOUNDATION, "the wildcard certificate", "AcmStack"),
    _spec("secrets", SECURITY, "Secrets Manager secrets and their rotation", "SecretsStack"),
    _spec("atlantis", APPLICATION, "Atlantis on ECS Fargate behind an ALB", "AtlantisStack"),
    _spec("rds", APPLICATION, "MySQL database and its alarms", "RdsStack"),
    _spec("logging", OBSERVABILITY, "central CloudWatch log groups", "LoggingStack"),
    _spec("monitoring", OBSERVABILITY, "AMP, AMG, SNS topics, alarms", "MonitoringStack"),
    _spec("cloudtrail", OBSERVABILITY, "audit trail, its bucket, Athena, security events", "CloudtrailStack"),
)

STACK_NAMES = tuple(spec.name for spec in STACKS)


def spec_of(name: str) -> StackSpec:
    for spec in STACKS:
        if spec.name == name:
            return spec
    raise KeyError(name)

