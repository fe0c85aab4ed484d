"""The 11 stacks in the reference's deploy order, with their phases.

This list and the SSM publish/consume graph are the single source of truth for
ordering: atlantis.yaml and the README diagram are generated from them. The
entries name the stack classes themselves, so a reader (or an IDE) goes from
here to the code. Importing it imports every stack module; with the lazy AWS
bindings of fast_synth.py (the entry points turn them on) that costs well under
a second, and without them the binding package's eager import (~10 s).
"""

from __future__ import annotations

from environments.settings import Settings
from stacks.acm import AcmStack
from stacks.atlantis import AtlantisStack
from stacks.bootstrap import BootstrapStack
from stacks.cloudtrail import CloudtrailStack
from stacks.kms import KmsStack
from stacks.logging import LoggingStack
from stacks.monitoring import MonitoringStack
from stacks.network import NetworkStack
from stacks.rds import RdsStack
from stacks.route53 import Route53Stack
from stacks.secrets import SecretsStack
from stacks.spec import APPLICATION, FOUNDATION, OBSERVABILITY, SECURITY, StackSpec

STACKS: tuple[StackSpec, ...] = (
    StackSpec(name="bootstrap", phase=FOUNDATION, stack_class=BootstrapStack,
              purpose="Terraform state: bucket, lock table, state key; drift and Atlantis roles"),
    StackSpec(name="kms", phase=FOUNDATION, stack_class=KmsStack,
              purpose="the 9 customer-managed keys"),
    StackSpec(name="network", phase=FOUNDATION, stack_class=NetworkStack,
              purpose="VPC, subnets, NAT, flow logs, endpoints"),
    StackSpec(name="route53", phase=FOUNDATION, stack_class=Route53Stack,
              purpose="public zone, query logging, health checks"),
    StackSpec(name="acm", phase=FOUNDATION, stack_class=AcmStack,
              purpose="the wildcard certificate"),
    StackSpec(name="secrets", phase=SECURITY, stack_class=SecretsStack,
              purpose="Secrets Manager secrets and their rotation",
              atlantis_server_only=True),
    StackSpec(name="atlantis", phase=APPLICATION, stack_class=AtlantisStack,
              purpose="Atlantis on ECS Fargate behind an ALB",
              atlantis_server_only=True),
    StackSpec(name="rds", phase=APPLICATION, stack_class=RdsStack,
              purpose="MySQL database and its alarms"),
    StackSpec(name="logging", phase=OBSERVABILITY, stack_class=LoggingStack,
              purpose="central CloudWatch log groups"),
    StackSpec(name="monitoring", phase=OBSERVABILITY, stack_class=MonitoringStack,
              purpose="AMP, AMG, SNS topics, alarms"),
    StackSpec(name="cloudtrail", phase=OBSERVABILITY, stack_class=CloudtrailStack,
              purpose="audit trail, its bucket, Athena, security events"),
)

STACK_NAMES = tuple(spec.name for spec in STACKS)
"""Every stack any environment may have, in deploy order."""


def stacks_for(settings: Settings) -> tuple[StackSpec, ...]:
    """The stacks of one environment, in deploy order (the secrets and atlantis
    stacks only where the environment runs its own Atlantis server)."""
    return tuple(spec for spec in STACKS if spec.built_in(settings))


def spec_of(name: str) -> StackSpec:
    for spec in STACKS:
        if spec.name == name:
            return spec
    raise KeyError(name)
