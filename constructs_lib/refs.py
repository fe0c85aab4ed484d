"""Typed references to things a construct uses but does not own.

Constructs take these instead of bare ARN strings, so a caller cannot pass a
bucket ARN where a key is expected. Values may be cdktf tokens. Build them from
a construct in the same stack (`KmsKey(...).ref`) or from an SSM contract in a
stack (`KeyRef(arn=self.consume("kms", "s3-key-arn"))`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class KeyRef:
    """A customer-managed KMS key."""

    arn: str
    alias: str | None = None


@dataclass(frozen=True, kw_only=True)
class VpcRef:
    vpc_id: str
    cidr_block: str | None = None


@dataclass(frozen=True, kw_only=True)
class SubnetsRef:
    """A set of subnets, e.g. the private subnets of the network stack."""

    ids: list[str]


@dataclass(frozen=True, kw_only=True)
class SecurityGroupRef:
    id: str


@dataclass(frozen=True, kw_only=True)
class RoleRef:
    arn: str
    name: str


@dataclass(frozen=True, kw_only=True)
class CertificateRef:
    arn: str


@dataclass(frozen=True, kw_only=True)
class TopicRef:
    arn: str


@dataclass(frozen=True, kw_only=True)
class ServicePrincipalRef:
    """An AWS service acting for one resource, e.g. Secrets Manager rotating one
    secret: the grantee of a resource-policy grant (`grant_invoke`)."""

    service: str
    """Service principal, e.g. `secretsmanager.amazonaws.com`."""
    source_arn: str
    """The resource the service acts for; the grant holds only for it
    (confused-deputy guard)."""


@dataclass(frozen=True, kw_only=True)
class LogGroupRef:
    name: str
    arn: str
