"""Views over one synthesized stack, check results and the rule base classes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

from constructs_lib.formats import EMAIL, KEBAB

SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
REFERENCE = re.compile(r"\$\{\s*(data\.)?(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z0-9_]+")


WORLD = frozenset({"0.0.0.0/0", "::/0"})
"""The CIDR blocks of every address (IPv4, IPv6): ingress rules and ACL entries."""


def port_number(value: object) -> int | None:
    """A port as synthesized (an int or a numeric string), or None when it is not one."""
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def is_token(value: object) -> bool:
    """True for a Terraform expression (`${...}`): its value is only known at apply time."""
    return isinstance(value, str) and "${" in value


def is_kebab(value: str) -> bool:
    return bool(KEBAB.match(value))


def is_email(value: str) -> bool:
    return bool(EMAIL.match(value))


def is_snake(value: str) -> bool:
    return bool(SNAKE.match(value))


def references(value: object) -> list[tuple[str, str]]:
    """(address prefix, name) pairs referenced by a `${...}` string, e.g. ('aws_s3_bucket', 'logs')
    or ('data.aws_iam_policy_document', 'tls')."""
    if not isinstance(value, str):
        return []
    return [(f"{'data.' if d else ''}{t}", n) for d, t, n in REFERENCE.findall(value)]


def values_at(body: object, path: str) -> list[Any]:
    """Every value at dotted `path`, descending into each element of a list of blocks.

    cdktf writes single nested blocks as objects and repeated ones as lists;
    both shapes give the same answer here. Nulls count as not set.
    """
    current = [body]
    for key in path.split("."):
        nxt = []
        for item in current:
            for element in item if isinstance(item, list) else [item]:
                if isinstance(element, dict) and element.get(key) is not None:
                    nxt.append(element[key])
        current = nxt
    out = []
    for item in current:
        out.extend(v for v in (item if isinstance(item, list) else [item]) if v is not None)
    return out


class Outcome(Enum):
    COMPLIANT = "compliant"
    NON_COMPLIANT = "non-compliant"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    message: str = ""


COMPLIANT = Result(Outcome.COMPLIANT)
NOT_APPLICABLE = Result(Outcome.NOT_APPLICABLE)


def NON_COMPLIANT(message: str) -> Result:
    return Result(Outcome.NON_COMPLIANT, message)


def from_problems(problems: list[str]) -> Result:
    return NON_COMPLIANT("; ".join(problems)) if problems else COMPLIANT


class Severity(Enum):
    """How a rule's open findings count. Only errors exist today (every open finding
    fails the run); the report and the packs read it, so a second level is one line."""

    ERROR = "error"


@dataclass(frozen=True)
class ResourceView:
    """One `resource.<type>.<name>` (or `data.<type>.<name>`) of a stack."""

    stack: StackView = field(repr=False, compare=False)
    type: str
    name: str
    body: dict
    data: bool = False

    @property
    def address(self) -> str:
        return f"{'data.' if self.data else ''}{self.type}.{self.name}"

    @property
    def waivers(self) -> dict[str, str]:
        comment = self.body.get("//")
        return dict(comment.get("waivers") or {}) if isinstance(comment, dict) else {}

    @property
    def provider_alias(self) -> str | None:
        """The alias of the aws provider this resource uses (None: the default one)."""
        provider = self.body.get("provider")
        if isinstance(provider, str) and "." in provider:
            return provider.split(".", 1)[1]
        return None

    def get(self, key: str, default: Any = None) -> Any:
        value = self.body.get(key)
        return default if value is None else value

    def values(self, path: str) -> list[Any]:
        return values_at(self.body, path)

    def effective_tags(self) -> dict[str, Any] | None:
        """Provider default_tags merged with the resource's own tags (resource wins);
        None when `tags` is a single expression whose keys cannot be known."""
        own = self.body.get("tags")
        if own is not None and not isinstance(own, dict):
            return None
        return {**self.stack.default_tags(self.provider_alias), **(own or {})}


@dataclass
class StackView:
    """The synthesized JSON of one stack, with lookups the rules share."""

    name: str
    doc: dict
    resources: list[ResourceView] = field(default_factory=list)
    data_sources: list[ResourceView] = field(default_factory=list)

    @classmethod
    def from_doc(cls, name: str, doc: dict) -> StackView:
        view = cls(name=name, doc=doc)
        for kind, target in (("resource", view.resources), ("data", view.data_sources)):
            for rtype, by_name in sorted((doc.get(kind) or {}).items()):
                for rname, body in sorted(by_name.items()):
                    target.append(ResourceView(stack=view, type=rtype, name=rname, body=body,
                                               data=kind == "data"))
        return view

    @classmethod
    def load(cls, path: Path) -> StackView:
        """`path` is `<outdir>/stacks/<stack>/cdk.tf.json`; the stack is its directory name."""
        return cls.from_doc(path.parent.name, json.loads(path.read_text()))

    @staticmethod
    def environment_outdirs(path: Path) -> list[Path]:
        """The output dirs under `path`: `path` itself when it holds `stacks/` (one
        environment's output), else each `path/<environment>/` that does (the output
        root, cdktf.out), by name; `[path]` when neither, so its report says what is
        missing."""
        path = Path(path)
        if (path / "stacks").is_dir():
            return [path]
        found = sorted(p.parent for p in path.glob("*/stacks") if p.is_dir())
        return found or [path]

    @classmethod
    def load_output(cls, outdir: Path) -> tuple[list[StackView], list[str]]:
        """Every `<outdir>/stacks/<stack>/cdk.tf.json`, and a problem when there is none."""
        files = sorted((Path(outdir) / "stacks").glob("*/cdk.tf.json"))
        problems = [] if files else [
            f"no stacks found under {Path(outdir) / 'stacks'} (run the synth first)"]
        return [cls.load(f) for f in files], problems

    def providers(self) -> dict[str | None, dict]:
        """aws provider configs by alias (None: the default provider)."""
        configs = (self.doc.get("provider") or {}).get("aws") or []
        if isinstance(configs, dict):
            configs = [configs]
        return {c.get("alias"): c for c in configs}

    def default_tags(self, alias: str | None) -> dict[str, Any]:
        config = self.providers().get(alias) or {}
        merged: dict[str, Any] = {}
        for tags in values_at(config, "default_tags.tags"):
            if isinstance(tags, dict):
                merged.update(tags)
        return merged

    @property
    def environment(self) -> str | None:
        """The Environment default tag of the default provider (the `<env>` of names)."""
        env = self.default_tags(None).get("Environment")
        return env if isinstance(env, str) and not is_token(env) else None

    def of_type(self, rtype: str, *, data: bool = False) -> list[ResourceView]:
        pool = self.data_sources if data else self.resources
        return [r for r in pool if r.type == rtype]

    def find(self, address: str) -> ResourceView | None:
        for r in (*self.resources, *self.data_sources):
            if r.address == address:
                return r
        return None

    def resolve(self, value: object) -> list[ResourceView]:
        """The resources/data sources a `${...}` expression refers to."""
        found = []
        for prefix, name in references(value):
            r = self.find(f"{prefix}.{name}")
            if r is not None:
                found.append(r)
        return found


class Rule:
    """A governance rule. Subclasses set the class attributes and override `check`
    (one resource) or `check_stack` (relations between resources, outputs...)."""

    id: ClassVar[str]
    severity: ClassVar[Severity] = Severity.ERROR
    family: ClassVar[str]
    title: ClassVar[str]
    rationale: ClassVar[str]
    fix: ClassVar[str]
    resource_types: ClassVar[frozenset[str] | None] = None
    """Types `check` is called for (None: every resource)."""

    def applies_to(self, resource: ResourceView) -> bool:
        return not resource.data and (self.resource_types is None
                                      or resource.type in self.resource_types)

    def check(self, resource: ResourceView) -> Result:
        return NOT_APPLICABLE

    def check_stack(self, stack: StackView) -> Iterable[tuple[str, Result]]:
        """(address, result) pairs; by default `check` over each applicable resource."""
        for resource in stack.resources:
            if self.applies_to(resource):
                yield resource.address, self.check(resource)

    def __repr__(self) -> str:
        return f"<{self.id} {self.title}>"


class AttributeRule(Rule):
    """"Attribute must equal one of" over `resource_types` (checkov's BaseResourceValueCheck).

    `requirements` maps a dotted attribute path to its allowed values. An
    expression (`${...}`) passes: its value is only known at apply time.
    """

    requirements: ClassVar[dict[str, tuple]]

    def check(self, resource: ResourceView) -> Result:
        return from_problems(list(self.problems(resource)))

    def problems(self, resource: ResourceView) -> Iterator[str]:
        for path, allowed in self.requirements.items():
            found = resource.values(path)
            if not found:
                yield f"{path} is not set (allowed: {_show(allowed)})"
                continue
            bad = [v for v in found if v not in allowed and not is_token(v)]
            if bad:
                yield f"{path} is {_show(tuple(bad))}, allowed: {_show(allowed)}"


def _show(values: tuple) -> str:
    return ", ".join(json.dumps(v) for v in values)
