"""One environment's synthesized output as the estimate reads it: the stacks of an
output dir (the dir that holds `stacks/<stack>/cdk.tf.json`) in deploy order, the
environment they belong to, and the SSM parameters they publish, through which a
stack's resource learns the size of another stack's subnet list."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from constructs_lib.errors import ConfigError
from policies.model import ResourceView, StackView

OrderFn = Callable[[Sequence[str]], list[str]]

_SSM_READ = re.compile(r"data\.aws_ssm_parameter\.([A-Za-z0-9_-]+)\.(?:insecure_)?value")
_ATTRIBUTE_REFERENCE = re.compile(r"\baws_[a-z0-9_]+\.[A-Za-z0-9_-]+\.[a-z_]+")
"""`<type>.<name>.<attribute>` anywhere in an expression, e.g. inside `join(",", [...])`."""


def registry_order(names: Sequence[str]) -> list[str]:
    """`names` in the stack registry's deploy order; names the registry does not know
    (an output from another checkout) follow, sorted."""
    # Imported here: the registry imports every stack module and with them cdktf
    # and the jsii runtime; reading JSON needs none of it. The lazy AWS bindings
    # (fast_synth.py) make that ~4 s instead of ~45 s on this machine.
    import fast_synth

    fast_synth.enable()
    from stacks.registry import STACK_NAMES

    known = [name for name in STACK_NAMES if name in names]
    return known + sorted(set(names) - set(known))


@dataclass
class EnvironmentOutput:
    outdir: Path
    stacks: list[StackView]
    """Every stack of the output, in deploy order."""

    @classmethod
    def load(cls, outdir: Path, order: OrderFn = registry_order) -> EnvironmentOutput:
        files = {p.parent.name: p for p in (Path(outdir) / "stacks").glob("*/cdk.tf.json")}
        if not files:
            raise ConfigError([f"{outdir} holds no stacks/<stack>/cdk.tf.json: give the "
                               "output dir of one environment (run `make synth` first)."])
        return cls(outdir=Path(outdir), stacks=[StackView.load(files[n]) for n in order(files)])

    @property
    def stack_names(self) -> list[str]:
        return [s.name for s in self.stacks]

    @property
    def environment(self) -> str | None:
        """The Environment default tag the stacks agree on (None when they do not)."""
        names = {s.environment for s in self.stacks}
        return names.pop() if len(names) == 1 else None

    def resources(self) -> list[ResourceView]:
        return [r for stack in self.stacks for r in stack.resources]

    def region_of(self, resource: ResourceView) -> str | None:
        config = resource.stack.providers().get(resource.provider_alias) or {}
        region = config.get("region")
        return region if isinstance(region, str) and "${" not in region else None

    def published(self, name: str) -> tuple[StackView, str] | None:
        """(publishing stack, value expression) of the SSM parameter `name`."""
        for stack in self.stacks:
            for parameter in stack.of_type("aws_ssm_parameter"):
                if parameter.get("name") == name:
                    return stack, str(parameter.get("value", ""))
        return None

    def list_length(self, resource: ResourceView, attribute: str) -> int | None:
        """How many items `attribute` of `resource` holds: a literal list, or a list
        another stack publishes to SSM (`split(",", data.aws_ssm_parameter...)`) whose
        value joins references. None when neither can be read."""
        value = resource.body.get(attribute)
        if isinstance(value, list):
            return len(value)
        if not isinstance(value, str):
            return None
        match = _SSM_READ.search(value)
        if match is None:
            return None
        source = resource.stack.find(f"data.aws_ssm_parameter.{match.group(1)}")
        found = self.published(str(source.get("name"))) if source is not None else None
        if found is None:
            return None
        count = len(_ATTRIBUTE_REFERENCE.findall(found[1]))
        return count or None
