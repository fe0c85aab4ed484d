"""GovernedStack: what every stack shares (provider with the required tags,
its own S3 state, SSM contracts with the stacks before it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cdktf import Fn, LocalBackend, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from constructs_lib.errors import ConfigError
from constructs_lib.tags import RequiredTags
from environments.settings import Settings
from environments.tag_keys import ENVIRONMENT_TAG_KEYS, tag_field
from stacks.address_changes import AddressChange, declaration_problems, terraform_blocks
from stacks.contracts import ContractGraph
from stacks.spec import StackSpec

TERRAFORM_VERSION = ">= 1.11.0, < 2.0.0"
GLOBAL_REGION = "us-east-1"
"""Home of AWS's global services: Route 53 query logs and health-check metrics
(so their alarms), and the EventBridge events of IAM and console sign-in."""


@dataclass(frozen=True, kw_only=True)
class BuildContext:
    """What the app hands every stack it builds."""

    settings: Settings
    graph: ContractGraph
    atlantis_host: Settings
    """The environment whose Atlantis server plans and applies this one (itself
    when it runs its own): its task role is what the plan and apply roles trust."""
    served: tuple[Settings, ...] = ()
    """For an environment that runs an Atlantis server: every environment the
    server plans and applies (itself included), in promotion order."""
    bootstrap_backend: str = "s3"
    """'local' synthesizes bootstrap with a local backend for its very first apply."""


class GovernedStack(TerraformStack):
    """Base of the 11 stacks.

    Subclasses build their resources in `__init__` after calling this one; they
    read other stacks only through `consume()` and offer values through
    `publish()`.
    """

    address_changes: ClassVar[tuple[AddressChange, ...]] = ()
    """Moves, replacements and removals of resource addresses (see
    stacks/address_changes.py); the address ledger refuses a synth that changes
    an address without one."""

    def __init__(self, scope: Construct, spec: StackSpec, context: BuildContext):
        super().__init__(scope, spec.name)
        self.spec = spec
        self.settings = context.settings
        self.graph = context.graph
        self.context = context
        self.tags = self._required_tags()
        self.provider = self._aws_provider(None, self.settings.region)
        self._providers: dict[str, AwsProvider] = {}
        # Pin what the synthesized JSON needs, so it plans the same anywhere.
        self.add_override("terraform.required_version", TERRAFORM_VERSION)
        self.add_override("terraform.required_providers.aws.source", "hashicorp/aws")
        use_local = spec.name == "bootstrap" and context.bootstrap_backend == "local"
        if use_local:
            LocalBackend(self, path="terraform.tfstate")
        else:
            state = self.settings.state
            S3Backend(
                self,
                bucket=state.bucket,
                key=f"{spec.name}/terraform.tfstate",
                region=self.settings.region,
                encrypt=True,
                kms_key_id=state.kms_alias,
                dynamodb_table=state.lock_table,
            )
        self._declare_address_changes()

    def _declare_address_changes(self) -> None:
        changes = type(self).address_changes
        where = f"{self.spec.name} ({type(self).__name__}.address_changes)"
        found = declaration_problems(where, changes)
        if found:
            raise ConfigError(found)
        for block, entries in terraform_blocks(changes).items():
            self.add_override(block, entries)

    @property
    def name(self) -> str:
        return self.spec.name

    def _required_tags(self) -> RequiredTags:
        t = self.settings.tags
        values = {tag_field(key): getattr(t, tag_field(key)) for key in ENVIRONMENT_TAG_KEYS}
        # DataClass is the one environment tag a stack may override.
        values["data_class"] = self.settings.stack(self.spec.name).data_class or t.data_class
        return RequiredTags(service=self.spec.name, **values)

    def _aws_provider(self, alias: str | None, region: str) -> AwsProvider:
        return AwsProvider(
            self,
            f"aws-{alias}" if alias else "aws",
            alias=alias,
            region=region,
            # Terraform refuses credentials of any other account before a single
            # call: one environment's code can never plan or apply in another's.
            allowed_account_ids=[self.settings.account_id],
            default_tags=[{"tags": self.tags.as_dict()}],
        )

    def provider_in(self, region: str) -> AwsProvider:
        """An aliased provider for another region, with the same default tags
        (e.g. Route 53 query logs must live in us-east-1)."""
        if region == self.settings.region:
            return self.provider
        alias = region.replace("-", "_")
        if alias not in self._providers:
            self._providers[alias] = self._aws_provider(alias, region)
        return self._providers[alias]

    def resource_name(self, *parts: str) -> str:
        """`<env>-<parts...>`: the kebab-case, environment-prefixed name rule."""
        return "-".join((self.settings.name, *parts))

    # --- SSM contracts -------------------------------------------------------
    def publish(self, name: str, value: str, description: str) -> SsmParameter:
        """Publish `value` as /<env>/<this stack>/<name> for later stacks."""
        path = self.graph.publish(self.name, name)
        return SsmParameter(
            self, f"ssm-{name}", name=path, type="String", value=value,
            description=description,
        )

    def publish_list(self, name: str, values: list[str], description: str) -> SsmParameter:
        """Publish a list as a StringList parameter (comma separated)."""
        path = self.graph.publish(self.name, name)
        return SsmParameter(
            self, f"ssm-{name}", name=path, type="StringList",
            value=Fn.join(",", values), description=description,
        )

    def consume(self, producer: str, name: str) -> str:
        """The value another, earlier stack published as /<env>/<producer>/<name>."""
        return self._read(producer, name).insecure_value

    def consume_list(self, producer: str, name: str) -> list[str]:
        """A StringList published by an earlier stack, as a list."""
        return Fn.split(",", self._read(producer, name).insecure_value)

    def _read(self, producer: str, name: str) -> DataAwsSsmParameter:
        path = self.graph.read(self.name, producer, name)
        construct_id = f"from-{producer}-{name}"
        existing = self.node.try_find_child(construct_id)
        if existing is not None:
            return existing  # type: ignore[return-value]
        return DataAwsSsmParameter(self, construct_id, name=path)
